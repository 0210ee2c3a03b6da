import { after, before } from 'node:test';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { patchCycle } from '../../workflows/index.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { connectTemporal, type TemporalHarness } from './temporal.js';

export interface RolloutSuite {
  db: TestDatabase;
  t: TemporalHarness;
  /** Starts patchCycle for a client (acme by default) with the rollout id as workflow id. */
  start(
    id: string,
    clientId?: string,
  ): Promise<WorkflowHandleWithFirstExecutionRunId<typeof patchCycle>>;
  /**
   * Runs `fn` before the connection closes, e.g. to stop a worker kept across the block's
   * tests (the block's own after() hooks run only after the suite's).
   */
  beforeTeardown(fn: () => Promise<void> | void): void;
}

/**
 * A fresh database and a Temporal task queue for one describe block, torn down after it.
 * Call inside describe(); read the fields inside tests (they are set in before()).
 */
export function rolloutSuite(): RolloutSuite {
  const suite = {} as RolloutSuite;
  const teardown: Array<() => Promise<void> | void> = [];
  suite.beforeTeardown = (fn) => teardown.push(fn);
  before(async () => {
    suite.db = await createTestDatabase();
    suite.t = await connectTemporal();
  });
  after(async () => {
    for (const fn of teardown) await fn();
    await suite.t.close();
    await suite.db.drop();
  });
  suite.start = (id: string, clientId = 'acme') =>
    suite.t.client.workflow.start<typeof patchCycle>('patchCycle', {
      taskQueue: suite.t.taskQueue,
      workflowId: id,
      args: [{ rolloutId: id, clientId, startedBy: 'tester' }],
    });
  return suite;
}
