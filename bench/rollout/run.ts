/**
 * bench/rollout — how a patch rollout scales with fleet size (issue 16's table): patchCycle's
 * batched engine and its per-device engine beside Temporal's own floor, all in one run.
 * Prints markdown tables; not part of the test run.
 *
 *   npx tsx bench/rollout/run.ts [--sizes 1000,10000,100000] [--per-device-sizes 1000,10000]
 *        [--kinds floor,batched,per-device] [--concurrency 1000] [--per-device-concurrency 200]
 *        [--timeout-min 60] [--json FILE]
 *   npx tsx bench/rollout/run.ts --from a.json,b.json   (re-print saved results)
 *
 * Sizes in ascending order, and for each size floor, batched, per-device (per-device only at
 * --per-device-sizes: 100,000 would take hours), each on a fresh throwaway Temporal dev
 * server (in memory), a fresh worker process and, for patchCycle, a fresh PostgreSQL
 * database (on DATABASE_URL's server when set, else an embedded one):
 *
 * - floor: bench/rollout/floor-workflows.ts — one no-op activity per device, in workflows
 *   of 500 devices that a parent starts; --concurrency devices in flight.
 * - batched: patchCycle with `engine: 'batched'`, every ring's concurrency --concurrency.
 * - per-device: patchCycle with `engine: 'per-device'` (a child workflow per device), ring
 *   concurrency --per-device-concurrency.
 *
 * patchCycle runs over a simulator RMM of one client with N devices, no latency, no
 * offline devices and no failures, and a global policy: approval auto, rings pilot 10 % and
 * broad 90 % (soak 0 s), no windows, reboot if_required with no user deferrals.
 *
 * Measured: wall time (start → result), split into planning (start → the first progress
 * query showing phase `deploying`) and deploying; devices per second over both; Temporal
 * actions counted from the history of every execution on the server (workflow starts incl.
 * children and continue-as-new runs, activities, local activities, timers, signals,
 * updates); the largest history (events, bytes) and executions over Temporal's warnings
 * (10,240 events or 10 MiB); the worker's peak RSS (VmHWM of the worker process, start-up
 * included); CPU seconds of worker, Temporal server and PostgreSQL (the whole server: on a
 * shared one that includes other databases' work), and of the simulated RMM, which runs as
 * its own process (`patchops simulator`, as a real RMM would) unless `--rmm in-process`
 * puts it inside the worker. Then the issue's targets, checked on
 * the batched row at 100,000 devices.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '../../cli/process/tethered.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../store/embedded.js';
import { postgresServerPid } from './measure.js';
import { report } from './report.js';
import { log, measureRun, type RunSettings } from './run-one.js';
import { KINDS, type Kind, type Measurement } from './types.js';
import type { BenchWorkerOptions } from './worker.js';

interface Options {
  sizes: number[];
  perDeviceSizes: number[];
  kinds: Kind[];
  concurrency: number;
  perDeviceConcurrency: number;
  jobPollMs: number;
  poolSize: number;
  timeoutMs: number;
  historyParallel: number;
  rmm: 'served' | 'in-process';
  json: string | undefined;
  from: string[] | undefined;
  worker: BenchWorkerOptions;
}

function rmmMode(v: string): 'served' | 'in-process' {
  if (v === 'served' || v === 'in-process') return v;
  throw new Error(`--rmm: expected served or in-process, got ${v}`);
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '1000,10000,100000' },
      'per-device-sizes': { type: 'string', default: '1000,10000' },
      kinds: { type: 'string', default: KINDS.join(',') },
      concurrency: { type: 'string', default: '1000' },
      'per-device-concurrency': { type: 'string', default: '200' },
      'job-poll-ms': { type: 'string', default: '20' },
      'pool-size': { type: 'string', default: '10' },
      'timeout-min': { type: 'string', default: '60' },
      'history-parallel': { type: 'string', default: '16' },
      rmm: { type: 'string', default: 'served' },
      json: { type: 'string' },
      from: { type: 'string' },
      'max-activities': { type: 'string', default: '200' },
      'max-workflow-tasks': { type: 'string', default: '100' },
      'max-cached': { type: 'string', default: '1000' },
    },
    strict: true,
  });
  const int = (name: string, v: string | undefined): number => {
    const x = Number(v?.trim().replaceAll('_', ''));
    if (!Number.isInteger(x) || x < 1) throw new Error(`--${name} expects a whole number ≥ 1`);
    return x;
  };
  const list = (name: string, v: string) => v.split(',').map((s) => int(name, s));
  const kinds = values.kinds.split(',').map((k) => k.trim());
  for (const k of kinds)
    if (!(KINDS as readonly string[]).includes(k))
      throw new Error(`--kinds: unknown kind ${k}; expected some of ${KINDS.join(', ')}`);
  const maxWft = int('max-workflow-tasks', values['max-workflow-tasks']);
  const maxAct = int('max-activities', values['max-activities']);
  return {
    sizes: list('sizes', values.sizes),
    perDeviceSizes: list('per-device-sizes', values['per-device-sizes']),
    kinds: kinds as Kind[],
    concurrency: int('concurrency', values.concurrency),
    perDeviceConcurrency: int('per-device-concurrency', values['per-device-concurrency']),
    jobPollMs: int('job-poll-ms', values['job-poll-ms']),
    poolSize: int('pool-size', values['pool-size']),
    timeoutMs: int('timeout-min', values['timeout-min']) * 60_000,
    historyParallel: int('history-parallel', values['history-parallel']),
    rmm: rmmMode(values.rmm),
    json: values.json,
    from: values.from?.split(','),
    worker: {
      maxConcurrentActivityTaskExecutions: maxAct,
      maxConcurrentWorkflowTaskExecutions: maxWft,
      maxCachedWorkflows: int('max-cached', values['max-cached']),
      maxConcurrentWorkflowTaskPolls: Math.min(10, maxWft),
      maxConcurrentActivityTaskPolls: Math.min(10, maxAct),
    },
  };
}

/** (kind, size) in the order they run: by size, then floor, batched, per-device. */
function plan(opts: Options): Array<{ kind: Kind; devices: number }> {
  const sizes = [...new Set([...opts.sizes, ...opts.perDeviceSizes])].sort((a, b) => a - b);
  return sizes.flatMap((devices) =>
    opts.kinds
      .filter((kind) =>
        kind === 'per-device'
          ? opts.perDeviceSizes.includes(devices)
          : opts.sizes.includes(devices),
      )
      .sort((a, b) => KINDS.indexOf(a) - KINDS.indexOf(b))
      .map((kind) => ({ kind, devices })),
  );
}

function isMeasurement(m: unknown): m is Measurement {
  const r = m as Partial<Measurement> | null;
  return !!r && KINDS.includes(r.kind as Kind) && typeof r.histories === 'object';
}

async function main(): Promise<void> {
  const opts = parseOptions();
  if (opts.from) {
    // Re-print the tables of earlier runs saved with --json (e.g. sizes run apart).
    const saved = opts.from.flatMap((file) => JSON.parse(readFileSync(file, 'utf8')) as unknown[]);
    const ok = saved.filter(isMeasurement);
    if (ok.length < saved.length)
      log(`skipped ${saved.length - ok.length} saved rows of an older format`);
    process.stdout.write(`${report(ok)}\n`);
    return;
  }
  const runs = plan(opts);
  const scratch = mkdtempSync(path.join(tmpdir(), 'patchops-bench-'));
  chmodSync(scratch, 0o755); // embedded PostgreSQL runs as the postgres user when we are root
  let embedded: EmbeddedPostgresHandle | undefined;
  const results: Measurement[] = [];
  let postgres: string | undefined;
  try {
    let adminDbUrl = process.env.DATABASE_URL;
    let pgPid: number | undefined;
    if (runs.some((r) => r.kind !== 'floor')) {
      if (!adminDbUrl) {
        embedded = await startEmbeddedPostgres({
          dir: path.join(scratch, 'pg'),
          port: await freePort(),
        });
        adminDbUrl = embedded.url;
        pgPid = embedded.pid;
        postgres = 'embedded PostgreSQL';
      } else {
        pgPid = await postgresServerPid(adminDbUrl);
        postgres = `PostgreSQL from DATABASE_URL${pgPid === undefined ? ' (not on this machine: no CPU time)' : ''}`;
      }
    }
    log(`plan: ${runs.map((r) => `${r.kind}-${r.devices}`).join(', ')}`);
    for (const { kind, devices } of runs) {
      const settings: RunSettings = {
        kind,
        devices,
        concurrency: kind === 'per-device' ? opts.perDeviceConcurrency : opts.concurrency,
        jobPollMs: opts.jobPollMs,
        poolSize: opts.poolSize,
        timeoutMs: opts.timeoutMs,
        historyParallel: opts.historyParallel,
        worker: opts.worker,
        adminDbUrl,
        pgPid,
        rmm: opts.rmm,
      };
      log(`${kind}-${devices}: starting`);
      const m = await measureRun(settings);
      results.push(m);
      log(`${kind}-${devices}: ${JSON.stringify(m)}`);
      // Saved after every row, so that a late failure keeps the rows before it.
      if (opts.json) writeFileSync(opts.json, JSON.stringify(results, null, 2));
    }
  } finally {
    await embedded?.stop().catch((err: unknown) => log(`PostgreSQL teardown: ${String(err)}`));
    rmSync(scratch, { recursive: true, force: true });
  }
  process.stdout.write(`\n${report(results, postgres)}\n`);
}

await main();
