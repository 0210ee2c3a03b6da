import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DefaultLogger,
  Runtime,
  Worker,
  type LogLevel,
  type NativeConnection,
} from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities, type ActivityDeps } from '../activities/index.js';

export const WORKFLOWS_PATH = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'workflows',
  'index.ts',
);

export interface WorkerDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** Everything activities need: store, adapters, policies, logger. */
  deps: ActivityDeps;
  /** Concurrency and cache sizes (PATCHOPS_WORKER_* variables); SDK defaults when absent. */
  tuning?: WorkerTuning | undefined;
}

export interface WorkerTuning {
  maxConcurrentActivityTaskExecutions?: number | undefined;
  maxConcurrentWorkflowTaskExecutions?: number | undefined;
  maxCachedWorkflows?: number | undefined;
}

let runtimeInstalled = false;

/**
 * Routes the SDK's own logs (worker state, bundler) into pino. The SDK's INFO chatter
 * (webpack's module report) goes to debug; warnings and errors keep their level.
 */
export function installRuntimeLogger(log: Logger): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const levels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
    TRACE: 'trace',
    DEBUG: 'debug',
    INFO: 'debug',
    WARN: 'warn',
    ERROR: 'error',
  };
  Runtime.install({
    logger: new DefaultLogger('INFO', (entry) => {
      log[levels[entry.level]]({ sdk: entry.meta }, entry.message);
    }),
  });
}

/** The one place that wires real dependencies into activities and registers workflows. */
export async function createWorker(deps: WorkerDeps): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: createActivities(deps.deps),
    ...Object.fromEntries(Object.entries(deps.tuning ?? {}).filter(([, v]) => v !== undefined)),
  });
}
