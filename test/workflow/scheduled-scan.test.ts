import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { testDeps } from '../helpers/deps.js';
import { connectTemporal, type TemporalHarness } from '../helpers/temporal.js';

describe('scheduled scans', () => {
  let db: TestDatabase;
  let t: TemporalHarness;
  before(async () => {
    db = await createTestDatabase();
    t = await connectTemporal();
  });
  after(async () => {
    await t.close();
    await db.drop();
  });

  it('a Temporal Schedule per client scans it and records device × patch state', async () => {
    const deps = testDeps(db.store, { simulator: { clients: 2, devicesPerClient: 6 } });
    const scheduleId = `scan-acme-${t.taskQueue}`;
    const schedule = await t.client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: '1h' }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'clientScan',
        taskQueue: t.taskQueue,
        args: [{ clientId: 'acme' }],
      },
    });
    try {
      await t.withWorker(deps, async () => {
        await schedule.trigger();
        const deadline = Date.now() + 60_000;
        for (;;) {
          const rows = await db.store.audit.listBySubject('client', 'acme');
          if (rows.some((r) => r.action === 'client.scanned')) break;
          if (Date.now() > deadline) throw new Error('scheduled scan never ran');
          await new Promise((r) => setTimeout(r, 200));
        }
      });
      const report = await db.store.compliance.snapshot('acme');
      assert.equal(
        report.reduce((n, r) => n + r.devices, 0),
        6,
      );
      assert.ok(report.reduce((n, r) => n + r.applicable, 0) > 0, 'missing patches recorded');
      assert.deepEqual(
        await db.store.compliance.snapshot('globex'),
        [],
        'only the scheduled client was scanned',
      );
    } finally {
      await schedule.delete();
    }
  });
});
