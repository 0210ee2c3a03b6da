/**
 * bench/rollout — how patchCycle scales with fleet size, beside a floor measured in the
 * same run. Prints markdown tables; not part of the test run.
 *
 *   npx tsx bench/rollout/run.ts [--sizes 100,1000,10000] [--concurrency 200]
 *                                [--timeout-min 45] [--only real|floor] [--batched]
 *                                [--json FILE]
 *   npx tsx bench/rollout/run.ts --from a.json,b.json   (re-print saved results)
 *
 * For each size N, twice — the real rollout, then the floor — on a fresh throwaway
 * Temporal dev server (in memory) and a fresh worker process:
 *
 * - real: patchCycle over a simulator client of N devices with no latency, no offline
 *   devices and no failures; a global policy with approval `auto`, rings pilot 10 % and
 *   broad 90 % (soak 0 s, success threshold 0.5, concurrency --concurrency), no windows,
 *   reboot if_required with no user deferrals, jobs polled every --job-poll-ms. A fresh
 *   PostgreSQL database per size (DATABASE_URL's server when set, else an embedded one).
 * - floor: bench/rollout/floor-workflows.ts — the same rings, sliding window, paging and
 *   history budget, children that run as many no-op activities as the real children did.
 * - with --batched, also the floor with children started in batches (the whole free part
 *   of the window in one activation) instead of runRing's one child per workflow task.
 *
 * Measured: wall time (start → result), workflow executions (parent runs + children, from
 * visibility), the largest history (events and bytes, every execution), the worker's peak
 * RSS (VmHWM of the worker process alone, start-up bundling included), CPU seconds of
 * worker, Temporal server and PostgreSQL, and executions over Temporal's history warnings
 * (10,240 events or 10 MiB).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection, type WorkflowExecutionInfo } from '@temporalio/client';
import { freePort } from '../../cli/process/tethered.js';
import { createDatabase, dropDatabase } from '../common/database.js';
import { PROJECT_ROOT } from '../../cli/runtime.js';
import { startTemporal } from '../../cli/temporal/start.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../store/embedded.js';
import { migrateUp } from '../../store/migrate.js';
import type { CycleState } from '../../workflows/cycle-state.js';
import { progressQuery } from '../../workflows/messages.js';
import { floorProgressQuery, type FloorInput, type FloorResult } from './floor-workflows.js';
import { memory, sampleRss, treeCpuSeconds } from './measure.js';
import type { BenchWorkerConfig, BenchWorkerOptions, WorkerMessage } from './worker.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const WARN_EVENTS = 10_240;
const WARN_BYTES = 10 * 1024 * 1024;
/** Reboot-required patches make a real child run 10 activities, the others 7. */
const DEFAULT_FLOOR_ACTIVITIES = 10;

interface Options {
  sizes: number[];
  concurrency: number;
  jobPollMs: number;
  poolSize: number;
  timeoutMs: number;
  only: 'real' | 'floor' | undefined;
  json: string | undefined;
  from: string[] | undefined;
  floorActivities: number | undefined;
  batched: boolean;
  worker: BenchWorkerOptions;
}

interface HistoryStat {
  workflowId: string;
  events: number;
  bytes: number;
}

interface Measurement {
  /** floor: starts children like runRing; batched: fills the window in one activation. */
  kind: 'real' | 'floor' | 'batched';
  devices: number;
  completed: boolean;
  /** Final phase (real) or why it did not complete. */
  note: string;
  wallMs: number;
  /** Executions: parent runs + children. */
  workflows: number;
  parentRuns: number;
  children: number;
  largest: HistoryStat | undefined;
  largestParent: HistoryStat | undefined;
  largestChild: HistoryStat | undefined;
  /** Executions over 10,240 events or 10 MiB. */
  overWarn: number;
  /** Activities per child over a sample of children: mean, min, max. */
  activitiesPerChild: { mean: number; min: number; max: number; sampled: number } | undefined;
  ringTotals: number[];
  /** VmHWM of the worker process (start-up included). */
  peakRss: number;
  /** Highest VmRSS sampled while the rollout ran. */
  runPeakRss: number;
  cpu: {
    worker?: number | undefined;
    temporal?: number | undefined;
    postgres?: number | undefined;
  };
  /** Real only: time in prepareRollout and planRollout (first parent run). */
  phases?: { prepareMs: number; planMs: number } | undefined;
  /** Child durations (start → close, from visibility): median and 95th percentile. */
  childMs: { p50: number; p95: number } | undefined;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '100,1000,10000' },
      concurrency: { type: 'string', default: '200' },
      'job-poll-ms': { type: 'string', default: '20' },
      'pool-size': { type: 'string', default: '10' },
      'timeout-min': { type: 'string', default: '45' },
      only: { type: 'string' },
      json: { type: 'string' },
      from: { type: 'string' },
      'floor-activities': { type: 'string' },
      batched: { type: 'boolean', default: false },
      'max-activities': { type: 'string', default: '200' },
      'max-workflow-tasks': { type: 'string', default: '100' },
      'max-cached': { type: 'string', default: '1000' },
    },
    strict: true,
  });
  const int = (name: string, v: string | undefined): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} expects a whole number ≥ 1`);
    return n;
  };
  const only = values.only;
  if (only !== undefined && only !== 'real' && only !== 'floor')
    throw new Error('--only expects real or floor');
  const maxWft = int('max-workflow-tasks', values['max-workflow-tasks']);
  const maxAct = int('max-activities', values['max-activities']);
  return {
    sizes: values.sizes.split(',').map((s) => int('sizes', s.trim().replaceAll('_', ''))),
    concurrency: int('concurrency', values.concurrency),
    jobPollMs: int('job-poll-ms', values['job-poll-ms']),
    poolSize: int('pool-size', values['pool-size']),
    timeoutMs: int('timeout-min', values['timeout-min']) * 60_000,
    only,
    json: values.json,
    from: values.from?.split(','),
    floorActivities:
      values['floor-activities'] === undefined
        ? undefined
        : int('floor-activities', values['floor-activities']),
    batched: values.batched,
    worker: {
      maxConcurrentActivityTaskExecutions: maxAct,
      maxConcurrentWorkflowTaskExecutions: maxWft,
      maxCachedWorkflows: int('max-cached', values['max-cached']),
      maxConcurrentWorkflowTaskPolls: Math.min(10, maxWft),
      maxConcurrentActivityTaskPolls: Math.min(10, maxAct),
    },
  };
}

const log = (msg: string) =>
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- processes -----------------------------------------------------------------------

interface WorkerProcess {
  pid: number;
  stop(): Promise<void>;
}

async function startWorker(config: BenchWorkerConfig): Promise<WorkerProcess> {
  const child: ChildProcess = fork(path.join(here, 'worker.ts'), [], {
    cwd: PROJECT_ROOT,
    execArgv: ['--import', 'tsx'],
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

// ---- Temporal measurements -----------------------------------------------------------

/** A protobuf Timestamp (seconds is a Long) in ms. */
const eventMs = (
  t: { seconds?: { toString(): string } | null; nanos?: number | null } | null | undefined,
): number => (t ? Number(t.seconds?.toString() ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : 0);

/** Every execution whose id starts with `prefix`, once visibility shows none running. */
async function settledExecutions(client: Client, prefix: string): Promise<WorkflowExecutionInfo[]> {
  const query = `WorkflowId STARTS_WITH "${prefix}"`;
  let last = -1;
  for (let i = 0; i < 120; i++) {
    const total = (await client.workflow.count(query)).count;
    const running = (await client.workflow.count(`${query} AND ExecutionStatus = "Running"`)).count;
    if (running === 0 && total === last) break;
    last = total;
    await sleep(500);
  }
  const out: WorkflowExecutionInfo[] = [];
  for await (const info of client.workflow.list({ query })) out.push(info);
  return out;
}

function largest(infos: WorkflowExecutionInfo[]): HistoryStat | undefined {
  let best: HistoryStat | undefined;
  for (const i of infos) {
    if (!best || i.historyLength > best.events)
      best = { workflowId: i.workflowId, events: i.historyLength, bytes: i.historySize ?? 0 };
  }
  return best;
}

/** Activities scheduled per child, over an evenly spaced sample of children. */
async function activitiesPerChild(
  client: Client,
  children: WorkflowExecutionInfo[],
  samples = 50,
): Promise<Measurement['activitiesPerChild']> {
  if (children.length === 0) return undefined;
  const sorted = [...children].sort((a, b) => a.workflowId.localeCompare(b.workflowId));
  const step = Math.max(1, Math.floor(sorted.length / samples));
  const counts: number[] = [];
  for (let i = 0; i < sorted.length && counts.length < samples; i += step) {
    const c = sorted[i]!;
    const history = await client.workflow.getHandle(c.workflowId, c.runId).fetchHistory();
    counts.push(
      (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes).length,
    );
  }
  return {
    mean: counts.reduce((a, b) => a + b, 0) / counts.length,
    min: Math.min(...counts),
    max: Math.max(...counts),
    sampled: counts.length,
  };
}

/** Time from scheduling to completion of the named activities in one run's history. */
async function activityDurations(
  client: Client,
  workflowId: string,
  runId: string,
  names: string[],
): Promise<Record<string, number>> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const scheduled = new Map<string, { name: string; at: number }>();
  const out: Record<string, number> = {};
  for (const e of history.events ?? []) {
    const s = e.activityTaskScheduledEventAttributes;
    const name = s?.activityType?.name;
    if (s && name && names.includes(name))
      scheduled.set(String(e.eventId), { name, at: eventMs(e.eventTime) });
    const c = e.activityTaskCompletedEventAttributes;
    const from = c ? scheduled.get(String(c.scheduledEventId)) : undefined;
    if (from) out[from.name] = eventMs(e.eventTime) - from.at;
  }
  return out;
}

// ---- one measurement -----------------------------------------------------------------

interface Run {
  kind: Measurement['kind'];
  devices: number;
  adminDbUrl: string | undefined;
  pgPid: number | undefined;
  floorInput?: FloorInput;
}

async function measure(run: Run, opts: Options): Promise<Measurement> {
  const tag = `${run.kind}-${run.devices}`;
  const dbName = `patchops_bench_${run.devices}_${randomBytes(3).toString('hex')}`;
  const stops: Array<() => Promise<void>> = [];
  try {
    let databaseUrl: string | undefined;
    if (run.kind === 'real') {
      if (!run.adminDbUrl) throw new Error('real run needs PostgreSQL');
      databaseUrl = await createDatabase(run.adminDbUrl, dbName);
      const adminUrl = run.adminDbUrl;
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
    const client = new Client({ connection, namespace: 'default' });
    const taskQueue = `bench-${tag}`;
    let t = Date.now();
    const worker = await startWorker({
      mode: run.kind === 'real' ? 'real' : 'floor',
      address: temporal.address,
      namespace: 'default',
      taskQueue,
      databaseUrl,
      devices: run.devices,
      ringConcurrency: opts.concurrency,
      jobPollMs: opts.jobPollMs,
      poolSize: opts.poolSize,
      worker: opts.worker,
    });
    stops.push(() => worker.stop());
    log(
      `${tag}: Temporal ${temporal.address}, worker pid ${worker.pid} ready in ${Date.now() - t} ms`,
    );

    const cpu0 = {
      worker: treeCpuSeconds(worker.pid),
      temporal: treeCpuSeconds(temporal.pid),
      postgres: treeCpuSeconds(run.pgPid),
    };
    const rss = sampleRss(worker.pid);
    const workflowId = `bench-${tag}`;
    t = Date.now();
    const handle =
      run.kind === 'real'
        ? await client.workflow.start('patchCycle', {
            taskQueue,
            workflowId,
            args: [{ rolloutId: workflowId, clientId: 'acme', startedBy: 'bench' }],
          })
        : await client.workflow.start('floorParent', {
            taskQueue,
            workflowId,
            args: [run.floorInput!],
          });
    const progress = setInterval(() => {
      const q =
        run.kind === 'real'
          ? handle
              .query(progressQuery)
              .then(
                (p) =>
                  `${p.phase} ${p.rings.map((r) => `${r.name} ${r.succeeded + r.failed + r.skipped}/${r.started}/${r.total}`).join(', ')}`,
              )
          : handle
              .query(floorProgressQuery)
              .then((p) => `finished/started ${p.finished.join('+')}/${p.started.join('+')}`);
      q.then(
        (s) =>
          log(
            `${tag}: ${((Date.now() - t) / 1000).toFixed(0)} s, ${s}, worker RSS ${mib(memory(worker.pid)?.rss ?? 0)}`,
          ),
        () => undefined,
      );
    }, 30_000);
    let completed = false;
    let note = '';
    let result: CycleState | FloorResult | undefined;
    try {
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        handle.result().then((r: unknown) => ({ r })),
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), opts.timeoutMs);
        }),
      ]).finally(() => clearTimeout(timer));
      if (outcome) {
        result = outcome.r as CycleState | FloorResult;
        completed = run.kind !== 'real' || (result as CycleState).phase === 'completed';
        note = run.kind === 'real' ? (result as CycleState).phase : 'completed';
      } else {
        note = `stopped after ${opts.timeoutMs / 60_000} min`;
      }
    } catch (err) {
      note = `failed: ${String(err)}`;
    } finally {
      clearInterval(progress);
    }
    const wallMs = Date.now() - t;
    const runPeakRss = rss.stop();
    const peakRss = memory(worker.pid)?.peak ?? 0;
    const cpu = {
      worker: diff(treeCpuSeconds(worker.pid), cpu0.worker),
      temporal: diff(treeCpuSeconds(temporal.pid), cpu0.temporal),
      postgres: diff(treeCpuSeconds(run.pgPid), cpu0.postgres),
    };
    if (!result) {
      const p = await (
        run.kind === 'real'
          ? handle
              .query(progressQuery)
              .then((q) => q.rings.map((r) => `${r.name} ${r.started}/${r.total}`).join(', '))
          : handle.query(floorProgressQuery).then((q) => `started ${q.started.join('+')}`)
      ).catch(() => 'no progress');
      note += ` (${p})`;
      await handle.terminate('bench stopped').catch(() => undefined);
    }
    log(`${tag}: ${note} in ${(wallMs / 1000).toFixed(1)} s; collecting histories`);

    const infos = await settledExecutions(client, workflowId);
    const parents = infos.filter((i) => i.workflowId === workflowId);
    const children = infos.filter((i) => i.workflowId !== workflowId);
    let phases: Measurement['phases'];
    if (run.kind === 'real' && handle.firstExecutionRunId) {
      const d = await activityDurations(client, workflowId, handle.firstExecutionRunId, [
        'prepareRollout',
        'planRollout',
      ]);
      phases = { prepareMs: d.prepareRollout ?? NaN, planMs: d.planRollout ?? NaN };
    }
    const ringTotals =
      run.kind === 'real'
        ? ((result as CycleState | undefined)?.rings.map((r) => r.total) ?? [])
        : (run.floorInput?.rings ?? []);
    return {
      kind: run.kind,
      devices: run.devices,
      completed,
      note,
      wallMs,
      workflows: infos.length,
      parentRuns: parents.length,
      children: children.length,
      largest: largest(infos),
      largestParent: largest(parents),
      largestChild: largest(children),
      overWarn: infos.filter(
        (i) => i.historyLength > WARN_EVENTS || (i.historySize ?? 0) > WARN_BYTES,
      ).length,
      activitiesPerChild: await activitiesPerChild(client, children),
      ringTotals,
      peakRss,
      runPeakRss,
      cpu,
      phases,
      childMs: percentiles(
        children.flatMap((c) =>
          c.closeTime ? [c.closeTime.getTime() - c.startTime.getTime()] : [],
        ),
      ),
    };
  } finally {
    for (const stop of stops.reverse())
      await stop().catch((err: unknown) => log(`${tag}: teardown: ${String(err)}`));
  }
}

function percentiles(xs: number[]): Measurement['childMs'] {
  if (xs.length === 0) return undefined;
  const sorted = [...xs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { p50: at(0.5), p95: at(0.95) };
}

const diff = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? undefined : a - b;

// ---- output --------------------------------------------------------------------------

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '–';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, '0')} s`;
}
const n = (x: number) => x.toLocaleString('en-US');
const cell = (m: Measurement | undefined, f: (m: Measurement) => string) => (m ? f(m) : '–');
const pair = (
  a: Measurement | undefined,
  b: Measurement | undefined,
  f: (m: Measurement) => string,
) => `${cell(a, f)} / ${cell(b, f)}`;
const wall = (m: Measurement) =>
  m.completed ? duration(m.wallMs) : `${duration(m.wallMs)} (${m.note})`;
const childMs = (m: Measurement) =>
  m.childMs ? `${duration(m.childMs.p50)} / ${duration(m.childMs.p95)}` : '–';
const secs = (x: number | undefined) => (x === undefined ? '–' : `${x.toFixed(0)}`);

function report(results: Measurement[], opts: Options): string {
  const lines: string[] = [];
  const find = (kind: Measurement['kind'], devices: number) =>
    results.find((r) => r.kind === kind && r.devices === devices);
  lines.push(
    '| devices | wall time real / floor | real ÷ floor | workflows real / floor | largest history, events real / floor | worker peak RSS real / floor | histories over 10,240 events or 10 MiB |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const size of opts.sizes) {
    const real = find('real', size);
    const floor = find('floor', size);
    const ratio =
      real && floor && real.completed && floor.completed
        ? `${(real.wallMs / floor.wallMs).toFixed(2)}×`
        : '–';
    lines.push(
      `| ${n(size)} | ${pair(real, floor, wall)} | ${ratio} | ${pair(real, floor, (m) => n(m.workflows))} | ${pair(real, floor, (m) => (m.largest ? n(m.largest.events) : '–'))} | ${pair(real, floor, (m) => mib(m.peakRss))} | ${pair(real, floor, (m) => String(m.overWarn))} |`,
    );
  }
  lines.push(
    '',
    '| devices | real: prepareRollout / planRollout | rings (devices) | parent runs real / floor | largest parent history real / floor | largest child history real / floor | activities per child (real, sampled) | child duration p50 / p95 real; floor | RSS peak during run real / floor | CPU s real: worker / Temporal / PostgreSQL | CPU s floor: worker / Temporal |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  const hist = (h: HistoryStat | undefined) =>
    h ? `${n(h.events)} ev, ${(h.bytes / 1024).toFixed(0)} KiB` : '–';
  for (const size of opts.sizes) {
    const real = find('real', size);
    const floor = find('floor', size);
    const a = real?.activitiesPerChild;
    lines.push(
      `| ${n(size)} | ${real?.phases ? `${duration(real.phases.prepareMs)} / ${duration(real.phases.planMs)}` : '–'} | ${(real ?? floor)?.ringTotals.map(n).join(' + ') ?? '–'} | ${pair(real, floor, (m) => String(m.parentRuns))} | ${pair(real, floor, (m) => hist(m.largestParent))} | ${pair(real, floor, (m) => hist(m.largestChild))} | ${a ? `${a.mean.toFixed(1)} (${a.min}–${a.max}, n=${a.sampled})` : '–'} | ${cell(real, childMs)}; ${cell(floor, childMs)} | ${pair(real, floor, (m) => mib(m.runPeakRss))} | ${cell(real, (m) => `${secs(m.cpu.worker)} / ${secs(m.cpu.temporal)} / ${secs(m.cpu.postgres)}`)} | ${cell(floor, (m) => `${secs(m.cpu.worker)} / ${secs(m.cpu.temporal)}`)} |`,
    );
  }
  if (results.some((r) => r.kind === 'batched')) {
    lines.push(
      '',
      'Floor with batched child starts (the window filled in one activation instead of one child per workflow task):',
      '',
      '| devices | wall time | real ÷ this | workflows | largest history, events | worker peak RSS | child duration p50 / p95 | CPU s worker / Temporal |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const size of opts.sizes) {
      const b = find('batched', size);
      const real = find('real', size);
      if (!b) continue;
      const ratio =
        real?.completed && b.completed ? `${(real.wallMs / b.wallMs).toFixed(2)}×` : '–';
      lines.push(
        `| ${n(size)} | ${wall(b)} | ${ratio} | ${n(b.workflows)} | ${b.largest ? n(b.largest.events) : '–'} | ${mib(b.peakRss)} | ${childMs(b)} | ${secs(b.cpu.worker)} / ${secs(b.cpu.temporal)} |`,
      );
    }
  }
  const biggest = Math.max(...opts.sizes);
  const real = find('real', biggest);
  const floor = find('floor', biggest);
  if (real) {
    const check = (ok: boolean | undefined) => (ok === undefined ? 'n/a' : ok ? 'met' : 'MISSED');
    lines.push(
      '',
      `Targets at ${n(biggest)} devices: completes — ${check(real.completed)}; within 2× the floor — ${check(real.completed && floor?.completed ? real.wallMs <= 2 * floor.wallMs : floor ? false : undefined)}; worker RSS under 1 GiB — ${check(real.peakRss < 1024 ** 3)}; no history-size warnings — ${check(real.overWarn === 0)}.`,
    );
  }
  const w = opts.worker;
  lines.push(
    '',
    `Settings: ring concurrency ${opts.concurrency}, jobPollMs ${opts.jobPollMs}, pg pool ${opts.poolSize}; worker maxConcurrentActivityTaskExecutions ${w.maxConcurrentActivityTaskExecutions}, maxConcurrentWorkflowTaskExecutions ${w.maxConcurrentWorkflowTaskExecutions}, maxCachedWorkflows ${w.maxCachedWorkflows}; a fresh in-memory Temporal dev server and worker process per measurement; ${process.env.DATABASE_URL ? 'PostgreSQL from DATABASE_URL' : 'embedded PostgreSQL'}, a fresh database per size.`,
  );
  return lines.join('\n');
}

// ---- main ----------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseOptions();
  if (opts.from) {
    // Re-print the tables of earlier runs saved with --json (e.g. small sizes and 10,000 run apart).
    const saved = opts.from.flatMap(
      (file) => JSON.parse(readFileSync(file, 'utf8')) as Measurement[],
    );
    opts.sizes = [...new Set(saved.map((m) => m.devices))].sort((a, b) => a - b);
    process.stdout.write(`${report(saved, opts)}\n`);
    return;
  }
  const scratch = mkdtempSync(path.join(tmpdir(), 'patchops-bench-'));
  chmodSync(scratch, 0o755); // embedded PostgreSQL runs as the postgres user when we are root
  let embedded: EmbeddedPostgresHandle | undefined;
  const results: Measurement[] = [];
  try {
    let adminDbUrl = process.env.DATABASE_URL;
    if (!adminDbUrl && opts.only !== 'floor') {
      embedded = await startEmbeddedPostgres({
        dir: path.join(scratch, 'pg'),
        port: await freePort(),
      });
      adminDbUrl = embedded.url;
    }
    for (const devices of opts.sizes) {
      let real: Measurement | undefined;
      if (opts.only !== 'floor') {
        log(`real-${devices}: starting`);
        real = await measure({ kind: 'real', devices, adminDbUrl, pgPid: embedded?.pid }, opts);
        results.push(real);
        log(`real-${devices}: ${JSON.stringify(real)}`);
      }
      if (opts.only !== 'real') {
        const rings =
          real && real.ringTotals.length
            ? real.ringTotals
            : [Math.round(devices * 0.1), devices - Math.round(devices * 0.1)];
        const floorInput: FloorInput = {
          rings,
          concurrency: opts.concurrency,
          activitiesPerChild:
            opts.floorActivities ?? real?.activitiesPerChild?.mean ?? DEFAULT_FLOOR_ACTIVITIES,
        };
        log(`floor-${devices}: starting ${JSON.stringify(floorInput)}`);
        const floor = await measure(
          { kind: 'floor', devices, adminDbUrl, pgPid: undefined, floorInput },
          opts,
        );
        results.push(floor);
        log(`floor-${devices}: ${JSON.stringify(floor)}`);
        if (opts.batched) {
          const batched = await measure(
            {
              kind: 'batched',
              devices,
              adminDbUrl,
              pgPid: undefined,
              floorInput: { ...floorInput, batchStarts: true },
            },
            opts,
          );
          results.push(batched);
          log(`batched-${devices}: ${JSON.stringify(batched)}`);
        }
      }
    }
  } finally {
    await embedded?.stop().catch((err: unknown) => log(`PostgreSQL teardown: ${String(err)}`));
    rmSync(scratch, { recursive: true, force: true });
  }
  if (opts.json) writeFileSync(opts.json, JSON.stringify(results, null, 2));
  process.stdout.write(`\n${report(results, opts)}\n`);
}

await main();
