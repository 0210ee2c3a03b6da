import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { pino } from 'pino';
import { createWorker, installRuntimeLogger } from '../../cli/worker.js';
import { withPublisher, type ActivityDeps } from '../../activities/index.js';

export const testLog = pino({ level: process.env.LOG_LEVEL ?? 'warn' });

/** The runner's shared Temporal dev server. */
export function temporalAddress(): string {
  const address = process.env.PATCHOPS_TEST_TEMPORAL_ADDRESS;
  if (!address) throw new Error('no Temporal dev server for tests: run through `npm test`');
  return address;
}

export interface TemporalHarness {
  client: Client;
  taskQueue: string;
  /** Runs fn while a real worker polls a task queue of this test's own. */
  withWorker<T>(deps: ActivityDeps, fn: (worker: Worker) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function connectTemporal(): Promise<TemporalHarness> {
  const address = temporalAddress();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default' });
  const taskQueue = `test-${randomBytes(4).toString('hex')}`;
  installRuntimeLogger(testLog);
  const native = await NativeConnection.connect({ address });
  return {
    client,
    taskQueue,
    async withWorker(deps, fn) {
      // As `patchops worker` does: the last card updates go out before the worker is gone, so
      // none of them lands in the next test's requests.
      const full = withPublisher(deps);
      const worker = await createWorker({
        connection: native,
        namespace: 'default',
        taskQueue,
        deps: full,
      });
      try {
        return await worker.runUntil(fn(worker));
      } finally {
        await full.publisher.flush();
      }
    },
    async close() {
      await native.close();
      await connection.close();
    },
  };
}
