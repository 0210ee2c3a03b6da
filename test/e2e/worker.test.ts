import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import type { smokeWorkflow } from '../../workflows/index.js';
import { cliEnv, startCli } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { temporalAddress } from '../helpers/temporal.js';

describe('patchops worker', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => db.drop());

  it('runs workflows from its task queue and drains on SIGTERM', async () => {
    const taskQueue = `worker-e2e-${randomBytes(4).toString('hex')}`;
    const worker = startCli(
      ['worker'],
      cliEnv({
        DATABASE_URL: db.url,
        TEMPORAL_ADDRESS: temporalAddress(),
        TEMPORAL_TASK_QUEUE: taskQueue,
      }),
    );
    let logs = '';
    worker.stdout?.on('data', (c: Buffer) => (logs += c.toString()));
    worker.stderr?.on('data', (c: Buffer) => (logs += c.toString()));
    const exited = new Promise<number | null>((resolve) => worker.on('exit', resolve));

    const connection = await Connection.connect({ address: temporalAddress() });
    try {
      const client = new Client({ connection });
      const result = await client.workflow.execute<typeof smokeWorkflow>('smokeWorkflow', {
        taskQueue,
        workflowId: `worker-e2e-${taskQueue}`,
        args: [{ actor: 'e2e' }],
        workflowExecutionTimeout: '2 minutes',
      });
      assert.deepEqual(result, { written: true });
    } finally {
      await connection.close();
    }
    const rows = await db.store.audit.listBySubject('workflow', `worker-e2e-${taskQueue}`);
    assert.equal(rows.length, 1);

    worker.kill('SIGTERM');
    assert.equal(await exited, 0, logs);
  });
});
