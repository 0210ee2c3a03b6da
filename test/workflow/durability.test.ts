import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { freePort } from '../../cli/process/tethered.js';
import { PROJECT_ROOT } from '../../cli/runtime.js';
import { startTemporal } from '../../cli/temporal/start.js';
import { createWorker, installRuntimeLogger } from '../../cli/worker.js';
import type { patchCycle } from '../../workflows/index.js';
import { progressQuery } from '../../workflows/messages.js';
import { scratchDir } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { policy, testDeps } from '../helpers/deps.js';
import { testLog } from '../helpers/temporal.js';

const POLICY = policy(`
scope: { level: global }
approval: { default: auto }
rings:
  - { name: pilot, members: { percent: 20 }, soak: 1s, successThreshold: 0.1, concurrency: 3 }
  - { name: broad, members: { percent: 80 }, soak: 0s, successThreshold: 0.1, concurrency: 3 }
windows: []
reboot: { mode: if_required, userDeferrals: 0 }
circuitBreaker: { maxFailureRate: 1, minSamples: 1000 }
`);

describe('durability', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => db.drop());

  it('a rollout survives a restart of the Temporal dev server on the same database file', async () => {
    const dbFile = path.join(scratchDir('temporal-restart'), 'temporal.db');
    const port = await freePort();
    let server = await startTemporal({ root: PROJECT_ROOT, dbFile, port });
    const deps = testDeps(db.store, {
      policies: [POLICY],
      simulator: { clients: 1, devicesPerClient: 15, offlineRate: 0, latencyMs: { job: 400 } },
    });
    installRuntimeLogger(testLog);
    const native = await NativeConnection.connect({ address: server.address });
    const worker = await createWorker({
      connection: native,
      namespace: 'default',
      taskQueue: 'restart',
      deps,
    });
    const running = worker.run();
    try {
      let connection = await Connection.connect({ address: server.address });
      const id = 'durable-restart';
      await new Client({ connection }).workflow.start<typeof patchCycle>('patchCycle', {
        taskQueue: 'restart',
        workflowId: id,
        args: [{ rolloutId: id, clientId: 'acme', startedBy: 'tester' }],
      });
      const handle = () => new Client({ connection }).workflow.getHandle<typeof patchCycle>(id);
      // Restart mid-rollout: after the first device succeeded, before the last finished.
      let before = await handle().query(progressQuery);
      for (let i = 0; (before.rings[0]?.succeeded ?? 0) < 1; i++) {
        if (i > 600) assert.fail(`no device succeeded within 60 s: ${JSON.stringify(before)}`);
        await new Promise((r) => setTimeout(r, 100));
        before = await handle().query(progressQuery);
      }
      const done = before.rings.reduce((n, r) => n + r.succeeded + r.failed + r.skipped, 0);
      const total = before.rings.reduce((n, r) => n + r.total, 0);
      assert.ok(done < total, `the rollout had already finished (${done}/${total}) at the restart`);
      await connection.close();
      await server.stop();
      server = await startTemporal({ root: PROJECT_ROOT, dbFile, port });
      connection = await Connection.connect({ address: server.address });
      const state = await handle().result();
      await connection.close();
      assert.equal(state.phase, 'completed');
      assert.equal(
        state.rings.reduce((n, r) => n + r.started, 0),
        state.rings.reduce((n, r) => n + r.total, 0),
      );
      for (const [key, n] of deps.rmm.stats().installsPerDevicePatch)
        assert.equal(n, 1, `${key} installed ${n} times`);
    } finally {
      worker.shutdown();
      await running;
      await native.close();
      await server.stop();
    }
  });
});
