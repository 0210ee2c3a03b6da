/**
 * Shared pieces of bench/slack: the fake workspace's ids, policies, a throwaway database,
 * an in-process worker, a response_url sink, percentiles and machine-load sampling.
 */
import { benchFleet } from '../common/fleet.js';
import { percentile } from '../common/stats.js';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { NativeConnection } from '@temporalio/worker';
import pg from 'pg';
import { pino } from 'pino';
import type { ActivityDeps } from '../../activities/index.js';
import type { SlackConfig } from '../../cli/config-chat.js';
import { createWorker, installRuntimeLogger, type WorkerTuning } from '../../cli/worker.js';
import { createSimulator } from '../../adapters/rmm/simulator/index.js';
import { parsePolicy, type PolicyDocument } from '../../domain/policy/index.js';
import { migrateUp } from '../../store/migrate.js';
import { treeCpuSeconds } from '../rollout/measure.js';

/** Logs go to stderr; stdout carries only the tables. */
export const benchLog = pino({ level: process.env.LOG_LEVEL ?? 'warn' }, pino.destination(2));
export const say = (msg: string): void =>
  void process.stderr.write(`[bench-slack ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export const SECRET = 'bench-signing-secret';
export const TEAM = 'T0001';
export const CHANNEL = 'C0001';
export const APPROVER = 'U0001';
export const GROUP_APPROVER = 'U0002';
export const USERGROUP = 'S0APPROVE';

/** The bot's Slack settings, pointed at the fake Web API (as in test/e2e/slack.test.ts). */
export const slackConfig = (apiUrl: string): SlackConfig => ({
  botToken: 'xoxb-test',
  signingSecret: SECRET,
  appToken: undefined,
  mode: 'http',
  apiUrl,
  channels: { '*': CHANNEL },
  allowedChannels: [],
  allowedTeams: [TEAM],
});

/** Two rings (10 % / 90 %), no windows, no deferrals, a loose breaker, Slack approvers. */
export function policyYaml(approval: 'auto' | 'needs_approval', concurrency: number): string {
  return `
scope: { level: global }
approval: { default: ${approval} }
rings:
  - { name: pilot, members: { percent: 10 }, soak: 0s, successThreshold: 0.5, concurrency: ${concurrency} }
  - { name: broad, members: { percent: 90 }, soak: 0s, successThreshold: 0.5, concurrency: ${concurrency} }
windows: []
approvers: { slack: { teamId: ${TEAM}, users: [${APPROVER}], usergroups: [${USERGROUP}] } }
approvalTimeout: { after: 1h, remindEvery: 30m, outcome: reject }
circuitBreaker: { maxFailureRate: 0.9, minSamples: 5 }
reboot: { mode: if_required, userDeferrals: 0 }
`;
}

export function parseBenchPolicy(yaml: string): PolicyDocument {
  const r = parsePolicy(yaml, 'bench-slack.yaml');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.policy;
}

/** One simulated client (acme) of `devices` devices: no latency, offline devices or failures. */
export const benchSimulator = (devices: number) => createSimulator(benchFleet(devices));

/** A fresh, migrated database on the admin URL's server; drop() removes it. */
export async function throwawayDatabase(
  adminUrl: string,
  tag: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `patchops_bench_slack_${tag}_${randomBytes(3).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`create database ${name}`);
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const drop = () => admin(`drop database if exists ${name} with (force)`);
  try {
    await migrateUp(u.toString());
  } catch (err) {
    await drop();
    throw err;
  }
  return { url: u.toString(), drop };
}

/** The production worker (workflows + activities) polling `taskQueue` in this process. */
export async function startWorker(
  address: string,
  taskQueue: string,
  deps: ActivityDeps,
  tuning?: WorkerTuning,
): Promise<{ stop(): Promise<void> }> {
  installRuntimeLogger(benchLog);
  const connection = await NativeConnection.connect({ address });
  const worker = await createWorker({ connection, namespace: 'default', taskQueue, deps, tuning });
  const running = worker.run();
  return {
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch((err: unknown) => say(`worker: ${String(err)}`));
      await connection.close();
    },
  };
}

/** Slack's side of response_url: records when each path was first posted to. */
export async function responseSink(): Promise<{
  url: string;
  arrivals: Map<string, number>;
  close(): Promise<void>;
}> {
  const arrivals = new Map<string, number>();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const path = req.url ?? '/';
      if (!arrivals.has(path)) arrivals.set(path, Date.now());
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    arrivals,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Stats {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles. */
export function stats(xs: readonly number[]): Stats {
  const at = (q: number) => percentile(xs, q);
  return { count: xs.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) };
}

export interface LoadStats {
  cpus: number;
  /** Whole-machine CPU busy %, mean and highest 1-s sample. */
  busyMean: number;
  busyMax: number;
  /** 1-minute load average at the end. */
  load1: number;
  seconds: number;
}

function cpuTicks(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1);
  const n = f.map(Number);
  const total = n.reduce((a, b) => a + b, 0);
  return { busy: total - (n[3] ?? 0) - (n[4] ?? 0), total };
}

/** Samples whole-machine CPU use every second until stop(). */
export function machineLoad(): { stop(): LoadStats } {
  const t0 = Date.now();
  const first = cpuTicks();
  let prev = first;
  let max = 0;
  const timer = setInterval(() => {
    const now = cpuTicks();
    if (now.total > prev.total)
      max = Math.max(max, (now.busy - prev.busy) / (now.total - prev.total));
    prev = now;
  }, 1000);
  return {
    stop() {
      clearInterval(timer);
      const end = cpuTicks();
      const mean =
        end.total > first.total ? (end.busy - first.busy) / (end.total - first.total) : 0;
      return {
        cpus: cpus().length,
        busyMean: mean * 100,
        busyMax: Math.max(max, mean) * 100,
        load1: loadavg()[0] ?? 0,
        seconds: (Date.now() - t0) / 1000,
      };
    },
  };
}

/** CPU seconds of every PostgreSQL server on the machine (each postmaster's whole tree). */
export function postgresCpuSeconds(): number | undefined {
  const comm = new Map<number, { name: string; ppid: number }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const text = readFileSync(`/proc/${d}/stat`, 'utf8');
      const name = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
      const ppid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
      comm.set(Number(d), { name, ppid });
    } catch {
      /* exited */
    }
  }
  const isPg = (pid: number) => /^postgres|^postmaster/.test(comm.get(pid)?.name ?? '');
  const roots = [...comm.keys()].filter((p) => isPg(p) && !isPg(comm.get(p)!.ppid));
  if (roots.length === 0) return undefined;
  return roots.reduce((sum, p) => sum + (treeCpuSeconds(p) ?? 0), 0);
}

/** Process CPU seconds (user + system) of this Node process. */
export const selfCpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

export const ms = (x: number): string => (Number.isFinite(x) ? x.toFixed(0) : '–');
export const n = (x: number): string => x.toLocaleString('en-US');

export function diff(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a - b;
}

const active = new Set<Teardown>();

/**
 * What one part of the bench started, stopped in reverse order by run(); teardownAll()
 * runs every one not yet run (Ctrl-C), so no process or database outlives the bench.
 */
export class Teardown {
  private readonly stops: Array<() => Promise<unknown>> = [];

  constructor(private readonly name: string) {
    active.add(this);
  }

  add(stop: () => Promise<unknown>): void {
    this.stops.push(stop);
  }

  async run(): Promise<void> {
    active.delete(this);
    for (const stop of this.stops.splice(0).reverse())
      await stop().catch((err: unknown) => say(`${this.name} teardown: ${String(err)}`));
  }
}

export async function teardownAll(): Promise<void> {
  for (const t of [...active].reverse()) await t.run();
}
