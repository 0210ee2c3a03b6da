/**
 * The worker process of bench/rollout, forked by run.ts so that its RSS is measured alone.
 * Mode `patch-cycle` registers the production workflows and activities (the same
 * workflowsPath and createActivities as cli/worker.ts createWorker) over a zero-latency
 * simulator fleet of one client with N devices; both engines run on it, the rollout's input
 * picks one. Mode `floor` registers bench/rollout/floor-workflows.ts with a no-op activity.
 *
 * It builds its own Worker.create because createWorker takes no WorkerOptions: the
 * concurrency and cache settings below are what a production worker would need to expose.
 *
 * Protocol over the IPC channel: the child sends {type: 'ready'} once polling, the parent
 * sends {type: 'stop'}, the child drains, closes and exits. If the parent goes away the
 * child exits at once.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { pino } from 'pino';
import { createActivities, type ActivityDeps } from '../../activities/index.js';
import { createLogNotifier } from '../../adapters/chat/log.js';
import { createLogItsm } from '../../adapters/itsm/log.js';
import { createRemoteSimulator, createSimulator } from '../../adapters/rmm/simulator/index.js';
import { WORKFLOWS_PATH, installRuntimeLogger } from '../../cli/worker.js';
import { parsePolicy } from '../../domain/policy/index.js';
import { createPool, createStore } from '../../store/index.js';
import { benchFleet } from '../common/fleet.js';
import type { FloorActivities } from './floor-workflows.js';

export interface BenchWorkerOptions {
  maxConcurrentActivityTaskExecutions: number;
  maxConcurrentWorkflowTaskExecutions: number;
  maxCachedWorkflows: number;
  maxConcurrentWorkflowTaskPolls: number;
  maxConcurrentActivityTaskPolls: number;
}

export interface BenchWorkerConfig {
  mode: 'patch-cycle' | 'floor';
  address: string;
  namespace: string;
  taskQueue: string;
  /** patch-cycle only */
  databaseUrl?: string;
  /** A served simulator (`patchops simulator`); the worker builds its own fleet when absent. */
  rmmUrl?: string;
  devices: number;
  /** Every ring's `concurrency` in the bench policy (patch-cycle only). */
  ringConcurrency: number;
  jobPollMs: number;
  poolSize: number;
  worker: BenchWorkerOptions;
}

export type WorkerMessage =
  { type: 'ready' } | { type: 'error'; message: string } | { type: 'stopped' };

const FLOOR_WORKFLOWS = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  'floor-workflows.ts',
);

/** The policy of every patch-cycle bench run: auto approval, two rings, no windows, no deferrals. */
export function benchPolicyYaml(concurrency: number): string {
  return `
scope: { level: global }
approval: { default: auto }
blocklist: []
rings:
  - { name: pilot, members: { percent: 10 }, soak: 0s, successThreshold: 0.5, concurrency: ${concurrency} }
  - { name: broad, members: { percent: 90 }, soak: 0s, successThreshold: 0.5, concurrency: ${concurrency} }
windows: []
approvers: { cli: [bench] }
circuitBreaker: { maxFailureRate: 0.9, minSamples: 5 }
reboot: { mode: if_required, userDeferrals: 0 }
`;
}

function floorActivities(): FloorActivities {
  return { floorNoop: () => Promise.resolve() };
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.BENCH_WORKER_CONFIG ?? '') as BenchWorkerConfig;
  const send = (m: WorkerMessage) => process.send?.(m);
  // Parent gone (even by SIGKILL): the IPC channel closes and so do we.
  let stopping = false;
  process.on('disconnect', () => {
    if (!stopping) process.exit(1);
  });
  const log = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
  installRuntimeLogger(log);

  const pool =
    config.mode === 'patch-cycle' && config.databaseUrl
      ? createPool(config.databaseUrl, config.poolSize)
      : undefined;
  const connection = await NativeConnection.connect({ address: config.address });
  let worker: Worker;
  if (config.mode === 'patch-cycle') {
    if (!pool) throw new Error('patch-cycle mode needs databaseUrl');
    const policy = parsePolicy(benchPolicyYaml(config.ringConcurrency), 'bench.yaml');
    if (!policy.ok) throw new Error(policy.errors.join('\n'));
    const deps: ActivityDeps = {
      store: createStore(pool),
      log,
      rmm: config.rmmUrl
        ? createRemoteSimulator(config.rmmUrl)
        : createSimulator(benchFleet(config.devices)),
      itsm: createLogItsm(log),
      notifiers: [createLogNotifier(log)],
      policies: [policy.policy],
      timing: { jobPollMs: config.jobPollMs, offlineRetryMs: 1_000 },
    };
    worker = await Worker.create({
      connection,
      namespace: config.namespace,
      taskQueue: config.taskQueue,
      workflowsPath: WORKFLOWS_PATH,
      activities: createActivities(deps),
      ...config.worker,
    });
  } else {
    worker = await Worker.create({
      connection,
      namespace: config.namespace,
      taskQueue: config.taskQueue,
      workflowsPath: FLOOR_WORKFLOWS,
      activities: floorActivities(),
      ...config.worker,
    });
  }
  process.on('message', (m: { type?: string }) => {
    if (m.type === 'stop') {
      stopping = true;
      worker.shutdown();
    }
  });
  const running = worker.run();
  // run() polls from its first tick; 'ready' means bundling and registration are done.
  send({ type: 'ready' });
  try {
    await running;
  } finally {
    await connection.close();
    await pool?.end();
  }
  send({ type: 'stopped' });
  process.disconnect?.();
}

main().catch((err: unknown) => {
  process.send?.({ type: 'error', message: String((err as Error)?.stack ?? err) });
  process.exitCode = 1;
  process.disconnect?.();
});
