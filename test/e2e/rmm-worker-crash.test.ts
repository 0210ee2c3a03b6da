/**
 * A `patchops worker` driving NinjaOne (PATCHOPS_RMM=ninjaone, pointed at the fake served
 * from this process) is killed with SIGKILL while an apply runs; a new worker takes over.
 * NinjaOne keeps no idempotency key, so only the deploy claim in PostgreSQL and the
 * adapter's look at the device's activity log (RetryHints) stand between a retry and a
 * second apply: every device must still be applied exactly once per patch family.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import type { patchCycle } from '../../workflows/index.js';
import { cliEnv, scratchDir, startCli } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { temporalAddress } from '../helpers/temporal.js';
import { startFakeNinjaOne, type FakeNinjaOne } from '../fakes/ninjaone/index.js';

const POLICY = `
scope: { level: global }
approval: { default: auto }
blocklist: [KB890830]
rings:
  - { name: all, members: { percent: 100 }, soak: 0s, successThreshold: 0.1, concurrency: 1 }
windows: []
reboot: { mode: never, userDeferrals: 0 }
circuitBreaker: { maxFailureRate: 1, minSamples: 1000 }
`;

describe('a NinjaOne worker killed with SIGKILL mid-ring', () => {
  let db: TestDatabase;
  let fake: FakeNinjaOne;
  before(async () => {
    db = await createTestDatabase();
    fake = await startFakeNinjaOne({ failures: [], applyDelayMs: 300, scanDelayMs: 50 });
  });
  after(async () => {
    await fake.close();
    await db.drop();
  });

  it('is replaced by a new worker; the rollout completes and each device was applied once', async () => {
    const dir = scratchDir('rmm-crash');
    writeFileSync(path.join(dir, 'global.yaml'), POLICY);
    const taskQueue = `rmm-crash-${randomBytes(4).toString('hex')}`;
    const env = cliEnv({
      DATABASE_URL: db.url,
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_TASK_QUEUE: taskQueue,
      PATCHOPS_POLICY_DIR: dir,
      PATCHOPS_RMM: 'ninjaone',
      NINJAONE_BASE_URL: fake.url,
      NINJAONE_CLIENT_ID: fake.clientId,
      NINJAONE_CLIENT_SECRET: fake.clientSecret,
      // Long enough that the kill, not the timeout, ends the hung apply.
      NINJAONE_TIMEOUT_MS: '20000',
    });
    fake.server.fault({
      method: 'POST',
      path: /^\/v2\/device\/102\/patch\/os\/apply$/,
      commitThenHang: true,
    });
    const first = startCli(['worker'], env);
    let stderr = '';
    first.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const firstExit = new Promise((resolve) => first.on('exit', resolve));
    const connection = await Connection.connect({ address: temporalAddress() });
    let second: ReturnType<typeof startCli> | undefined;
    try {
      const client = new Client({ connection });
      const id = `rmm-crash-${taskQueue}`;
      const handle = await client.workflow.start<typeof patchCycle>('patchCycle', {
        taskQueue,
        workflowId: id,
        args: [{ rolloutId: id, clientId: '1', startedBy: 'tester' }],
      });
      // Kill while the second device's apply is in flight: NinjaOne carries it out but the
      // answer never comes, so the deploy claim is taken and not completed. The retry (on
      // the new worker) must find the apply in the activity log instead of applying again.
      for (let i = 0; ; i++) {
        const hung = fake.server.requests.some(
          (r) => r.path === '/v2/device/102/patch/os/apply' && r.status === 0,
        );
        if (hung) break;
        if (i > 1_200) throw new Error(`the apply on 102 never came; worker said: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      first.kill('SIGKILL');
      await firstExit;
      second = startCli(['worker'], env);
      const state = await handle.result();
      assert.equal(state.phase, 'completed', JSON.stringify(state.rings));
      const ring = state.rings[0]!;
      assert.equal(ring.started, ring.total);
      assert.equal(ring.total, 4, 'the four patchable devices of organization 1');

      const runs = new Map<string, number>();
      for (const a of fake.applies())
        runs.set(`${a.deviceId}|${a.family}`, (runs.get(`${a.deviceId}|${a.family}`) ?? 0) + 1);
      for (const [key, n] of runs) assert.equal(n, 1, `${key} applied ${n} times`);
      // 102 has OS and software patches: the retry applied the family the kill cut off.
      assert.equal(runs.get('102|os'), 1);
      assert.equal(runs.get('102|sw'), 1);
      const applied = new Set(fake.applies().map((a) => String(a.deviceId)));
      const rows = await db.pool.query<{ device_id: string; status: string }>(
        'select device_id, status from rollout_devices where rollout_id = $1',
        [id],
      );
      for (const r of rows.rows) {
        assert.equal(r.status, 'succeeded', r.device_id);
        assert.ok(applied.has(r.device_id), `${r.device_id} never applied`);
      }
    } finally {
      await connection.close();
      if (second) {
        const exited = new Promise((resolve) => second!.on('exit', resolve));
        second.kill('SIGTERM');
        await exited;
      }
    }
  });
});
