/**
 * One measurement of bench/rollout: a fresh throwaway Temporal dev server (in memory), a
 * fresh worker process and, for patchCycle, a fresh PostgreSQL database; the rollout is
 * started, timed and then every history on the server is read.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { freePort } from '../../cli/process/tethered.js';
import { PROJECT_ROOT } from '../../cli/runtime.js';
import { startTemporal } from '../../cli/temporal/start.js';
import { migrateUp } from '../../store/migrate.js';
import type { CycleState } from '../../workflows/cycle-state.js';
import { progressQuery } from '../../workflows/messages.js';
import { createDatabase, dropDatabase } from '../common/database.js';
import { floorProgressQuery, type FloorResult } from './floor-workflows.js';
import { countHistories } from './histories.js';
import { memory, sampleRss, treeCpuSeconds } from './measure.js';
import type { Kind, Measurement } from './types.js';
import { benchFleet } from '../common/fleet.js';
import type { BenchWorkerConfig, BenchWorkerOptions, WorkerMessage } from './worker.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const NAMESPACE = 'default';
/** Phases a rollout passes through before its first ring deploys. */
const PLANNING = new Set(['planning', 'awaiting_approval', 'deferred', 'waiting_window']);

export interface RunSettings {
  kind: Kind;
  devices: number;
  /** Ring concurrency (patchCycle) or the floor's window. */
  concurrency: number;
  jobPollMs: number;
  poolSize: number;
  timeoutMs: number;
  historyParallel: number;
  worker: BenchWorkerOptions;
  /** Server for the throwaway databases (patchCycle kinds). */
  adminDbUrl: string | undefined;
  /** PostgreSQL's postmaster, when it runs here: its CPU time is measured. */
  pgPid: number | undefined;
  /**
   * `served`: the simulated RMM runs as its own process (`patchops simulator`), as a real
   * RMM would, so the worker's RSS and CPU are the worker's alone; `in-process`: inside it.
   */
  rmm: 'served' | 'in-process';
}

export const log = (msg: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

interface WorkerProcess {
  pid: number;
  stop(): Promise<void>;
}

/** `patchops simulator` with the bench's fleet on a free loopback port; resolves with its url. */
async function startSimulator(
  devices: number,
): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'cli/main.ts', 'simulator', '--port', String(port)],
    {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        PATCHOPS_RMM_CONFIG: JSON.stringify(benchFleet(devices)),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /PATCHOPS_RMM_CONFIG=(\{.*\})/.exec(out);
      if (m) resolve((JSON.parse(m[1]!) as { url: string }).url);
    });
    void exited.then((code) =>
      reject(new Error(`simulator exited (${code}) before serving:\n${out}`)),
    );
  });
  child.stdout.resume();
  if (child.pid === undefined) throw new Error('simulator has no pid');
  return {
    url,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function startWorker(config: BenchWorkerConfig): Promise<WorkerProcess> {
  // BENCH_CPU_PROF=DIR writes the worker's CPU profile there (open it in Chrome's DevTools).
  const prof = process.env.BENCH_CPU_PROF;
  const child: ChildProcess = fork(path.join(here, 'worker.ts'), [], {
    cwd: PROJECT_ROOT,
    execArgv: ['--import', 'tsx', ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [])],
    env: { ...process.env, BENCH_WORKER_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'ready') resolve();
      else if (m.type === 'error') reject(new Error(`worker failed:\n${m.message}`));
    });
    void exited.then((code) => reject(new Error(`worker exited (${code}) before it was ready`)));
  });
  if (child.pid === undefined) throw new Error('worker has no pid');
  return {
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send({ type: 'stop' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A one-line progress report for the log. */
function describe(kind: Kind, handle: WorkflowHandle): Promise<string> {
  if (kind === 'floor')
    return handle.query(floorProgressQuery).then((p) => `finished ${p.finished}/${p.total}`);
  return handle
    .query(progressQuery)
    .then(
      (p) =>
        `${p.phase} ${p.rings.map((r) => `${r.name} ${r.succeeded + r.failed + r.skipped}/${r.started}/${r.total}`).join(', ')}`,
    );
}

/** Polls the rollout's phase until it leaves planning; resolves with the time it was seen. */
function watchPlanning(handle: WorkflowHandle, t0: number, done: Promise<unknown>) {
  let stopped = false;
  const stop = () => void (stopped = true);
  void done.then(stop, stop);
  return (async (): Promise<number | undefined> => {
    while (!stopped) {
      const phase = await handle
        .query(progressQuery)
        .then((p) => p.phase)
        .catch(() => undefined);
      if (phase !== undefined && !PLANNING.has(phase)) return Date.now() - t0;
      await sleep(200);
    }
    return undefined;
  })();
}

export async function measureRun(s: RunSettings): Promise<Measurement> {
  const tag = `${s.kind}-${s.devices}`;
  const dbName = `patchops_bench_${s.devices}_${randomBytes(3).toString('hex')}`;
  const stops: Array<() => Promise<void>> = [];
  try {
    let databaseUrl: string | undefined;
    if (s.kind !== 'floor') {
      if (!s.adminDbUrl) throw new Error(`${s.kind} needs PostgreSQL`);
      const adminUrl = s.adminDbUrl;
      databaseUrl = await createDatabase(adminUrl, dbName);
      stops.push(() => dropDatabase(adminUrl, dbName));
      await migrateUp(databaseUrl);
    }
    const temporal = await startTemporal({
      root: PROJECT_ROOT,
      explicitCli: process.env.TEMPORAL_CLI,
    });
    stops.push(() => temporal.stop());
    const connection = await Connection.connect({ address: temporal.address });
    stops.push(() => connection.close());
    const client = new Client({ connection, namespace: NAMESPACE });
    const taskQueue = `bench-${tag}`;
    const simulator =
      s.kind !== 'floor' && s.rmm === 'served' ? await startSimulator(s.devices) : undefined;
    if (simulator) stops.push(() => simulator.stop());
    let t0 = Date.now();
    const worker = await startWorker({
      ...(simulator ? { rmmUrl: simulator.url } : {}),
      mode: s.kind === 'floor' ? 'floor' : 'patch-cycle',
      address: temporal.address,
      namespace: NAMESPACE,
      taskQueue,
      databaseUrl,
      devices: s.devices,
      ringConcurrency: s.concurrency,
      jobPollMs: s.jobPollMs,
      poolSize: s.poolSize,
      worker: s.worker,
    });
    stops.push(() => worker.stop());
    log(
      `${tag}: Temporal ${temporal.address}, worker pid ${worker.pid} ready in ${Date.now() - t0} ms`,
    );

    const cpu0 = {
      worker: treeCpuSeconds(worker.pid),
      temporal: treeCpuSeconds(temporal.pid),
      postgres: treeCpuSeconds(s.pgPid),
      rmm: treeCpuSeconds(simulator?.pid),
    };
    const rss = sampleRss(worker.pid);
    const workflowId = `bench-${tag}`;
    t0 = Date.now();
    const handle: WorkflowHandle =
      s.kind === 'floor'
        ? await client.workflow.start('floorRollout', {
            taskQueue,
            workflowId,
            args: [{ devices: s.devices, concurrency: s.concurrency }],
          })
        : await client.workflow.start('patchCycle', {
            taskQueue,
            workflowId,
            args: [{ rolloutId: workflowId, clientId: 'acme', startedBy: 'bench', engine: s.kind }],
          });
    const result = handle.result() as Promise<CycleState | FloorResult>;
    // The worker's peak RSS when planning ends tells planning's memory from deploying's.
    const planning = (
      s.kind === 'floor' ? Promise.resolve(undefined) : watchPlanning(handle, t0, result)
    ).then((ms) => ({ ms, peakRss: ms === undefined ? undefined : memory(worker.pid)?.peak }));
    const progress = setInterval(() => {
      describe(s.kind, handle).then(
        (d) =>
          log(
            `${tag}: ${((Date.now() - t0) / 1000).toFixed(0)} s, ${d}, worker RSS ${mib(memory(worker.pid)?.rss ?? 0)}`,
          ),
        () => undefined,
      );
    }, 30_000);
    let completed = false;
    let note: string;
    let outcome: Measurement['outcome'];
    let timer: NodeJS.Timeout | undefined;
    try {
      const ended = await Promise.race([
        result.then((r) => ({ r })),
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), s.timeoutMs);
        }),
      ]);
      if (!ended) note = `stopped after ${s.timeoutMs / 60_000} min`;
      else if ('phase' in ended.r) {
        completed = ended.r.phase === 'completed';
        note = ended.r.phase;
        const rings = ended.r.rings;
        const sum = (f: (r: CycleState['rings'][number]) => number) =>
          rings.reduce((a, r) => a + f(r), 0);
        outcome = {
          total: sum((r) => r.total),
          succeeded: sum((r) => r.succeeded),
          failed: sum((r) => r.failed),
          skipped: sum((r) => r.skipped),
        };
      } else {
        completed = ended.r.finished === s.devices;
        note = `${ended.r.finished} of ${s.devices} finished`;
        outcome = { total: s.devices, succeeded: ended.r.finished, failed: 0, skipped: 0 };
      }
    } catch (err) {
      note = `failed: ${String(err)}`;
    } finally {
      clearTimeout(timer);
      clearInterval(progress);
    }
    const wallMs = Date.now() - t0;
    const runPeakRss = rss.stop();
    const peakRss = memory(worker.pid)?.peak ?? 0;
    const cpu = {
      worker: diff(treeCpuSeconds(worker.pid), cpu0.worker),
      temporal: diff(treeCpuSeconds(temporal.pid), cpu0.temporal),
      postgres: diff(treeCpuSeconds(s.pgPid), cpu0.postgres),
      rmm: diff(treeCpuSeconds(simulator?.pid), cpu0.rmm),
    };
    const rmmPeakRss = simulator ? memory(simulator.pid)?.peak : undefined;
    if (!completed) {
      note += ` (${await describe(s.kind, handle).catch(() => 'no progress')})`;
      await handle.terminate('bench stopped').catch(() => undefined);
    }
    const { ms: planningMs, peakRss: planningPeakRss } = await planning;
    log(`${tag}: ${note} in ${(wallMs / 1000).toFixed(1)} s; reading histories`);
    const histories = await countHistories(client, NAMESPACE, s.historyParallel);
    log(
      `${tag}: ${histories.executions} executions read in ${(histories.collectMs / 1000).toFixed(1)} s`,
    );
    return {
      kind: s.kind,
      devices: s.devices,
      completed,
      note,
      outcome,
      wallMs,
      planningMs,
      planningPeakRss,
      concurrency: s.concurrency,
      histories,
      peakRss,
      runPeakRss,
      cpu,
      ...(rmmPeakRss ? { rmmPeakRss } : {}),
      worker: { ...s.worker },
    };
  } finally {
    for (const stop of stops.reverse())
      await stop().catch((err: unknown) => log(`${tag}: teardown: ${String(err)}`));
  }
}

const diff = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? undefined : a - b;
