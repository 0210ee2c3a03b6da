import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { readSimulatorStats } from '../../adapters/rmm/simulator/index.js';
import type { patchCycle } from '../../workflows/index.js';
import { progressQuery } from '../../workflows/messages.js';
import { cliEnv, scratchDir, startCli } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { temporalAddress } from '../helpers/temporal.js';

const POLICY = `
scope: { level: global }
approval: { default: auto }
rings:
  - { name: all, members: { percent: 100 }, soak: 0s, successThreshold: 0.1, concurrency: 3 }
windows: []
reboot: { mode: if_required, userDeferrals: 0 }
circuitBreaker: { maxFailureRate: 1, minSamples: 1000 }
`;

describe('a worker killed with SIGKILL mid-ring', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => db.drop());

  it('is replaced by a new worker; the rollout completes and every deploy key ran once', async () => {
    const dir = scratchDir('crash');
    writeFileSync(path.join(dir, 'global.yaml'), POLICY);
    const statePath = path.join(dir, 'rmm.json');
    const taskQueue = `crash-${randomBytes(4).toString('hex')}`;
    const env = cliEnv({
      DATABASE_URL: db.url,
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_TASK_QUEUE: taskQueue,
      PATCHOPS_POLICY_DIR: dir,
      PATCHOPS_RMM_CONFIG: JSON.stringify({
        clients: 1,
        devicesPerClient: 15,
        offlineRate: 0,
        knownBadPatch: false,
        latencyMs: { job: 800 },
        statePath,
      }),
    });
    const first = startCli(['worker'], env);
    const firstExit = new Promise((resolve) => first.on('exit', resolve));
    const connection = await Connection.connect({ address: temporalAddress() });
    let second: ReturnType<typeof startCli> | undefined;
    try {
      const client = new Client({ connection });
      const id = `crash-${taskQueue}`;
      const handle = await client.workflow.start<typeof patchCycle>('patchCycle', {
        taskQueue,
        workflowId: id,
        args: [{ rolloutId: id, clientId: 'acme', startedBy: 'tester' }],
      });
      for (let i = 0; ; i++) {
        const p = await handle.query(progressQuery).catch(() => undefined);
        const ring = p?.rings[0];
        if (ring && ring.succeeded >= 2 && ring.started < ring.total) break;
        if (i > 600) throw new Error(`rollout never got going: ${JSON.stringify(p)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      first.kill('SIGKILL');
      await firstExit;
      second = startCli(['worker'], env);
      const state = await handle.result();
      assert.equal(state.phase, 'completed', JSON.stringify(state.rings));
      const ring = state.rings[0]!;
      assert.equal(ring.started, ring.total);

      const stats = readSimulatorStats(statePath);
      const planned = await db.pool.query<{ device_id: string }>(
        'select device_id from rollout_devices where rollout_id = $1',
        [id],
      );
      const deployKeys = [...stats.deployCalls.keys()];
      assert.equal(deployKeys.length, planned.rowCount, 'one deploy key per planned device');
      for (const row of planned.rows)
        assert.ok(
          deployKeys.some((k) => k.includes(`/device/${row.device_id}:deploy`)),
          row.device_id,
        );
      for (const [key, n] of stats.installsPerDevicePatch)
        assert.equal(n, 1, `${key} installed ${n} times`);
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
