import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowIdReusePolicy } from '@temporalio/client';
import type { smokeWorkflow } from '../../workflows/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { testDeps } from '../helpers/deps.js';
import { connectTemporal, type TemporalHarness } from '../helpers/temporal.js';

describe('smoke workflow on the real dev server and PostgreSQL', () => {
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

  it('writes one audit event, and a second run of the same workflow id writes none', async () => {
    const workflowId = `smoke-${t.taskQueue}`;
    const run = () =>
      t.client.workflow.execute<typeof smokeWorkflow>('smokeWorkflow', {
        taskQueue: t.taskQueue,
        workflowId,
        args: [{ actor: 'tester', note: 'hello' }],
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      });
    const [first, second] = await t.withWorker(testDeps(db.store), async () => [
      await run(),
      await run(),
    ]);
    assert.deepEqual(first, { written: true });
    assert.deepEqual(second, { written: false });
    const rows = await db.store.audit.listBySubject('workflow', workflowId);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.action, 'smoke.completed');
    assert.equal(rows[0]?.actor, 'tester');
    assert.equal(rows[0]?.idempotencyKey, `${workflowId}:smoke`);
    assert.deepEqual(rows[0]?.data, { note: 'hello' });
  });
});
