/** The markdown tables of bench/rollout, from measurements fresh or saved with --json. */
import { KINDS, type HistoryStat, type Measurement } from './types.js';

export const TARGET_DEVICES = 100_000;
const TARGET_WALL_MS = 10 * 60_000;
const GIB = 1024 ** 3;

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const n = (x: number) => x.toLocaleString('en-US');
const secs = (x: number | undefined) => (x === undefined ? '–' : x.toFixed(0));
const rate = (devices: number, ms: number | undefined) =>
  ms && ms > 0 ? (devices / (ms / 1000)).toFixed(1) : '–';

function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, '0')} s`;
}

const hist = (h: HistoryStat | undefined) =>
  h ? `${n(h.events)} ev, ${(h.bytes / 1024).toFixed(0)} KiB` : '–';
const wall = (m: Measurement) =>
  m.completed ? duration(m.wallMs) : `${duration(m.wallMs)} (${m.note})`;
const deployingMs = (m: Measurement) =>
  m.planningMs === undefined ? undefined : m.wallMs - m.planningMs;
const perDevice = (m: Measurement) => m.histories.totalActions / m.devices;

/** Rows ordered by size, then floor, batched, per-device. */
function ordered(results: Measurement[]): Measurement[] {
  return [...results].sort(
    (a, b) => a.devices - b.devices || KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind),
  );
}

function mainTable(rows: Measurement[], results: Measurement[]): string[] {
  const floorOf = (m: Measurement) =>
    results.find((r) => r.kind === 'floor' && r.devices === m.devices && r.completed);
  const lines = [
    '| devices | kind | wall time | × floor | planning | deploying | devices/s | devices/s deploying | Temporal actions | actions/device | largest history | over warning | worker peak RSS | CPU s worker / Temporal / PostgreSQL | simulated RMM: CPU s / peak RSS |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const m of rows) {
    const floor = floorOf(m);
    const ratio = floor && m.completed ? `${(m.wallMs / floor.wallMs).toFixed(2)}×` : '–';
    const h = m.histories;
    lines.push(
      `| ${n(m.devices)} | ${m.kind} | ${wall(m)} | ${ratio} | ${duration(m.planningMs)} | ${duration(deployingMs(m))} | ${rate(m.devices, m.wallMs)} | ${rate(m.devices, deployingMs(m))} | ${n(h.totalActions)} | ${perDevice(m).toFixed(2)} | ${hist(h.largest)} | ${h.overWarn} | ${mib(m.peakRss)} | ${secs(m.cpu.worker)} / ${secs(m.cpu.temporal)} / ${secs(m.cpu.postgres)} | ${m.rmmPeakRss ? `${secs(m.cpu.rmm)} / ${mib(m.rmmPeakRss)}` : m.kind === 'floor' ? '–' : 'in the worker'} |`,
    );
  }
  return lines;
}

function detailTable(rows: Measurement[]): string[] {
  const lines = [
    '| devices | kind | deployed / failed / skipped of planned | executions | workflow starts | activities | local activities | timers | signals | updates | activity retries | events | largest history by bytes | prepareRollout / planRollout | worker peak RSS after planning / during run | concurrency | histories read in |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const m of rows) {
    const h = m.histories;
    const o = m.outcome;
    const done = o ? `${n(o.succeeded)} / ${n(o.failed)} / ${n(o.skipped)} of ${n(o.total)}` : '–';
    const a = h.actions;
    const plan =
      m.kind === 'floor'
        ? '–'
        : `${duration(h.activityMs.prepareRollout)} / ${duration(h.activityMs.planRollout)}`;
    lines.push(
      `| ${n(m.devices)} | ${m.kind} | ${done} | ${n(h.executions)} | ${n(a.workflowStarts)} | ${n(a.activities)} | ${n(a.localActivities)} | ${n(a.timers)} | ${n(a.signals)} | ${n(a.updates)} | ${n(h.activityRetries)} | ${n(h.events)} | ${hist(h.largestBytes)} | ${plan} | ${m.planningPeakRss === undefined ? '–' : mib(m.planningPeakRss)} / ${mib(m.runPeakRss)} | ${n(m.concurrency)} | ${duration(h.collectMs)} |`,
    );
  }
  return lines;
}

/** The issue's targets, checked on the batched row at 100,000 devices (or the largest one). */
function targetsTable(results: Measurement[]): string[] {
  const batched = results.filter((r) => r.kind === 'batched').sort((a, b) => b.devices - a.devices);
  const m = batched.find((r) => r.devices === TARGET_DEVICES) ?? batched[0];
  if (!m) return [];
  const check = (ok: boolean) => (ok ? 'met' : 'not met');
  const perDev = perDevice(m);
  return [
    m.devices === TARGET_DEVICES
      ? `Targets, batched at ${n(m.devices)} devices:`
      : `Targets, batched at ${n(m.devices)} devices (the targets are set for ${n(TARGET_DEVICES)}; no such row here):`,
    '',
    '| target | measured | |',
    '| --- | ---: | --- |',
    `| completes in ≤ 10 min | ${wall(m)} | ${check(m.completed && m.wallMs <= TARGET_WALL_MS)} |`,
    `| ≤ 1 Temporal action per device | ${perDev.toFixed(2)} | ${check(perDev <= 1)} |`,
    `| worker peak RSS < 1 GiB | ${mib(m.peakRss)} | ${check(m.peakRss < GIB)} |`,
    `| no history-size warnings | ${m.histories.overWarn} over, largest ${hist(m.histories.largest)} | ${check(m.histories.overWarn === 0)} |`,
  ];
}

function settingsLine(results: Measurement[], postgres: string | undefined): string {
  const w = results[0]?.worker ?? {};
  const perKind = KINDS.flatMap((k) => {
    const c = [...new Set(results.filter((r) => r.kind === k).map((r) => r.concurrency))];
    return c.length ? [`${k} ${c.map(n).join('/')}`] : [];
  });
  return [
    `Settings: devices in flight ${perKind.join(', ')}`,
    `worker ${Object.entries(w)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    'a fresh in-memory Temporal dev server and worker process per row, a fresh database per patchCycle row',
    postgres ?? '',
  ]
    .filter(Boolean)
    .join('; ')
    .concat('.');
}

export function report(results: Measurement[], postgres?: string): string {
  const rows = ordered(results);
  return [
    ...mainTable(rows, results),
    '',
    'Planning is start → the first progress query showing phase `deploying` (polled every 200 ms); deploying is the rest, verify and report included. Actions are counted from every history: workflow starts (children and continue-as-new runs included), activities, local activities, timers, signals and updates. Largest history: Temporal warns at 10,240 events or 10 MiB.',
    '',
    ...detailTable(rows),
    '',
    ...targetsTable(results),
    '',
    settingsLine(results, postgres),
  ].join('\n');
}
