import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { serveSimulator, type ServedSimulator } from '../../adapters/rmm/simulator/server.js';
import type { patchCycle } from '../../workflows/index.js';
import { cliEnv, scratchDir, startCli } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { temporalAddress } from '../helpers/temporal.js';

const POLICY = `
scope: { level: global }
approval: { default: auto }
rings:
  - { name: all, members: { percent: 100 }, soak: 0s, successThreshold: 0.1, concurrency: 20 }
windows: []
reboot: { mode: if_required, userDeferrals: 0 }
circuitBreaker: { maxFailureRate: 1, minSamples: 1000 }
`;

/** No failures and nobody offline, so every planned device must end `succeeded`. */
const FLEET = {
  clients: 1,
  devicesPerClient: 60,
  offlineRate: 0,
  knownBadPatch: false,
  failureRate: { perPatch: 0, perDevice: 0 },
  latencyMs: { scan: 300, job: 600 },
};

interface Worker {
  child: ChildProcess;
  exited: Promise<unknown>;
  output: () => string;
}

function startWorker(env: NodeJS.ProcessEnv): Worker {
  const child = startCli(['worker'], env);
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, exited: new Promise((r) => child.on('exit', r)), output: () => output };
}

describe('three workers sharing one served simulator', () => {
  let db: TestDatabase;
  let served: ServedSimulator;
  before(async () => {
    db = await createTestDatabase();
    served = await serveSimulator({ config: FLEET });
  });
  after(async () => {
    await served.close();
    await db.drop();
  });

  it('survive one of them killed mid-ring: every device succeeds, nothing runs twice', async (t) => {
    const dir = scratchDir('scale-out');
    writeFileSync(path.join(dir, 'global.yaml'), POLICY);
    const taskQueue = `scale-${randomBytes(4).toString('hex')}`;
    const env = cliEnv({
      DATABASE_URL: db.url,
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_TASK_QUEUE: taskQueue,
      PATCHOPS_POLICY_DIR: dir,
      PATCHOPS_RMM: 'simulator',
      PATCHOPS_RMM_CONFIG: JSON.stringify({ url: served.url }),
    });
    const workers = [startWorker(env), startWorker(env), startWorker(env)];
    const connection = await Connection.connect({ address: temporalAddress() });
    try {
      const client = new Client({ connection });
      const id = `scale-${taskQueue}`;
      const handle = await client.workflow.start<typeof patchCycle>('patchCycle', {
        taskQueue,
        workflowId: id,
        args: [{ rolloutId: id, clientId: 'acme', startedBy: 'tester' }],
      });

      // Mid-ring: deploys have reached the RMM, and not every device has had one yet.
      const deadline = Date.now() + 60_000;
      for (;;) {
        const keys = served.simulator.stats().deployCalls.size;
        if (keys > 0 && keys < FLEET.devicesPerClient) break;
        if (keys >= FLEET.devicesPerClient) break; // a fast engine deploys all at once; kill anyway
        if (Date.now() > deadline) {
          throw new Error(`no deploys within 60 s:\n${workers.map((w) => w.output()).join('\n')}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      t.diagnostic(
        `killing a worker after ${served.simulator.stats().deployCalls.size} deploy keys`,
      );
      const victim = workers[0]!;
      victim.child.kill('SIGKILL');
      await victim.exited;

      let timer: NodeJS.Timeout | undefined;
      const state = await Promise.race([
        handle.result(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`rollout did not finish within 75 s after the kill`)),
            75_000,
          );
        }),
      ]).finally(() => clearTimeout(timer));
      assert.equal(state.phase, 'completed', JSON.stringify(state));
      t.diagnostic(`completed; ${served.simulator.stats().deployCalls.size} deploy keys in all`);

      const planned = await db.pool.query<{
        device_id: string;
        status: string;
        patch_ids: string[];
      }>('select device_id, status, patch_ids from rollout_devices where rollout_id = $1', [id]);
      assert.ok(planned.rowCount && planned.rowCount > 40, `${planned.rowCount} devices planned`);
      const notDone = planned.rows.filter((r) => r.status !== 'succeeded');
      assert.deepEqual(notDone, [], 'every planned device succeeded');

      const stats = served.simulator.stats();
      for (const row of planned.rows)
        for (const patchId of row.patch_ids) {
          const n = stats.installsPerDevicePatch.get(`${row.device_id}|${patchId}`);
          assert.equal(n, 1, `${row.device_id} × ${patchId} installed ${n ?? 0} times`);
        }
      for (const [key, n] of stats.installsPerDevicePatch) assert.equal(n, 1, `${key} × ${n}`);

      const jobsPerKey = new Map<string, number>();
      const deployed = new Set<string>();
      for (const job of served.simulator.state.jobs.values()) {
        if (job.kind !== 'deploy') continue;
        jobsPerKey.set(job.idempotencyKey, (jobsPerKey.get(job.idempotencyKey) ?? 0) + 1);
        deployed.add(job.deviceId);
      }
      assert.deepEqual([...jobsPerKey.keys()].sort(), [...stats.deployCalls.keys()].sort());
      for (const [key, n] of jobsPerKey) assert.equal(n, 1, `deploy key ${key} made ${n} jobs`);
      for (const row of planned.rows) assert.ok(deployed.has(row.device_id), row.device_id);
    } finally {
      await connection.close();
      for (const w of workers)
        if (w.child.exitCode === null && !w.child.killed) w.child.kill('SIGTERM');
      await Promise.all(workers.map((w) => w.exited));
    }
  });
});
