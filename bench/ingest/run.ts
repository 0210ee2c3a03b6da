/**
 * bench/ingest — scan ingestion and report queries at fleet scale. Prints markdown tables;
 * not part of the test run.
 *
 *   npx tsx bench/ingest/run.ts [--devices 10000] [--missing 50] [--catalog 2000] [--runs 3]
 *
 * A fresh database (DATABASE_URL's server when set, else an embedded PostgreSQL) holds one
 * client, 10 sites, --devices devices and a catalog of --catalog patches; every device
 * misses --missing of them (seeded, so every run ingests the same rows). Each run, in
 * turn, into an emptied device_patches:
 *
 * - patchops: what the scan activity does per page of 200 devices (upsertPatches of the
 *   page's patches, then recordScans), the code path `prepareRollout` and `scanClient` run;
 * - per device: the same statements one device at a time (the scan's call pattern before
 *   recordScans);
 * - COPY: the same (device, patch, 'missing') rows streamed with COPY FROM STDIN into the
 *   same table with the same indexes — the baseline (target: patchops ≥ half its rate);
 * - rescan: patchops again over the full table (an unchanged fleet scanned again).
 *
 * Then every report query the compliance store offers, 50 times each over that data, p50
 * and p95 (target: p95 under 100 ms).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { from as copyFrom } from 'pg-copy-streams';
import { freePort } from '../../cli/process/tethered.js';
import type { Device, Patch } from '../../domain/model.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../store/embedded.js';
import { createPool, createStore, type Store } from '../../store/index.js';
import type { ScanResult } from '../../store/inventory.js';
import { migrateUp } from '../../store/migrate.js';
import type { Pool } from '../../store/pool.js';
import { createDatabase, dropDatabase } from '../common/database.js';
import { median, percentile } from '../common/stats.js';

const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '10000' },
    missing: { type: 'string', default: '50' },
    catalog: { type: 'string', default: '2000' },
    runs: { type: 'string', default: '3' },
    'query-runs': { type: 'string', default: '50' },
  },
});
const DEVICES = Number(args.devices);
const MISSING = Number(args.missing);
const CATALOG = Number(args.catalog);
const RUNS = Number(args.runs);
const QUERY_RUNS = Number(args['query-runs']);
const PAGE = 200; // the scan activity's listDevices page
const CLIENT = 'bench-client';

const log = (msg: string) => process.stderr.write(`[ingest] ${msg}\n`);

/** A small deterministic PRNG (mulberry32), so every run ingests the same rows. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fleet(): { devices: Device[]; patches: Patch[]; scans: ScanResult[] } {
  const rand = prng(26);
  const patches: Patch[] = Array.from({ length: CATALOG }, (_, i) => ({
    id: `kb-${String(i).padStart(6, '0')}`,
    vendorRef: `KB${5000000 + i}`,
    title: `Security update ${i}`,
    product: i % 3 === 0 ? 'Windows 11' : i % 3 === 1 ? 'Microsoft Edge' : 'Office',
    kind: 'os' as const,
    category: i % 3 === 0 ? ('security' as const) : ('critical_update' as const),
    vendorSeverity: (['critical', 'important', 'moderate', 'low'] as const)[i % 4]!,
    cvss: Math.round(rand() * 100) / 10,
    epss: Math.round(rand() * 1000) / 1000,
    kev: i % 50 === 0,
    cveIds: [`CVE-2026-${String(10000 + i)}`],
    releaseDate: '2026-11-10',
    rebootRequired: i % 2 === 0,
    uninstallable: true,
  }));
  const devices: Device[] = Array.from({ length: DEVICES }, (_, i) => ({
    id: `dev-${String(i).padStart(6, '0')}`,
    clientId: CLIENT,
    siteId: `site-${i % 10}`,
    hostname: `ws-${i}`,
    osFamily: 'windows',
    osVersion: '11 23H2',
    tags: [],
    criticality: (['low', 'medium', 'high'] as const)[i % 3]!,
    internetExposed: i % 7 === 0,
    timezone: null,
    online: true,
    rmmKind: 'simulator',
    rmmRef: `ref-${i}`,
  }));
  const scans = devices.map((d) => {
    const picked = new Set<string>();
    while (picked.size < MISSING) picked.add(patches[Math.floor(rand() * CATALOG)]!.id);
    return { deviceId: d.id, missing: [...picked], installed: [] };
  });
  return { devices, patches, scans };
}

async function seed(store: Store, devices: Device[], patches: Patch[]): Promise<void> {
  await store.inventory.upsertClients([{ id: CLIENT, name: 'Bench client' }]);
  await store.inventory.upsertSites(
    Array.from({ length: 10 }, (_, i) => ({
      id: `site-${i}`,
      clientId: CLIENT,
      name: `Site ${i}`,
      timezone: 'Europe/Berlin',
    })),
  );
  for (let i = 0; i < devices.length; i += 1000)
    await store.inventory.upsertDevices(devices.slice(i, i + 1000));
  await store.inventory.upsertPatches(patches);
}

const seconds = async (fn: () => Promise<unknown>): Promise<number> => {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
};

/** The scan activity's writes, page by page (store/inventory.ts recordScans). */
async function ingestPages(store: Store, scans: ScanResult[], byId: Map<string, Patch>) {
  for (let i = 0; i < scans.length; i += PAGE) {
    const page = scans.slice(i, i + PAGE);
    await store.inventory.upsertPatches(page.flatMap((s) => s.missing.map((id) => byId.get(id)!)));
    await store.inventory.recordScans(page);
  }
}

async function ingestPerDevice(store: Store, scans: ScanResult[], byId: Map<string, Patch>) {
  for (const s of scans) {
    await store.inventory.upsertPatches(s.missing.map((id) => byId.get(id)!));
    await store.inventory.recordScan(s.deviceId, [...s.missing], []);
  }
}

async function copyRows(pool: Pool, scans: ScanResult[]): Promise<void> {
  const client = await pool.connect();
  try {
    const stream = client.query(
      copyFrom(`COPY device_patches (device_id, patch_id, state) FROM STDIN`),
    );
    function* rows() {
      for (let i = 0; i < scans.length; i += PAGE)
        yield scans
          .slice(i, i + PAGE)
          .flatMap((s) => s.missing.map((p) => `${s.deviceId}\t${p}\tmissing\n`))
          .join('');
    }
    await pipeline(Readable.from(rows()), stream);
  } finally {
    client.release();
  }
}

async function emptyTable(pool: Pool): Promise<void> {
  await pool.query(`truncate device_patches`);
  await pool.query(`vacuum analyze device_patches`);
}

interface Row {
  name: string;
  times: number[];
}

function ingestTable(rows: Row[], count: number, copy: Row): string {
  const copyRate = count / median(copy.times);
  const lines = [
    `| method | rows | median s | rows/s | vs COPY | runs (s) |`,
    `|---|---:|---:|---:|---:|---|`,
  ];
  for (const r of rows) {
    const rate = count / median(r.times);
    lines.push(
      `| ${r.name} | ${count.toLocaleString('en')} | ${median(r.times).toFixed(2)} | ${Math.round(rate).toLocaleString('en')} | ${(rate / copyRate).toFixed(2)}× | ${r.times.map((t) => t.toFixed(2)).join(', ')} |`,
    );
  }
  return lines.join('\n');
}

/** The reads behind reports: what `/patch report` and `patchops report` run, and the daily job. */
function reportQueries(store: Store): Array<[string, () => Promise<unknown>]> {
  const month = new Date(Date.now() - 30 * 86_400_000);
  return [
    [
      '/patch report, App Home: compliance.snapshot(client)',
      () => store.compliance.snapshot(CLIENT),
    ],
    [
      'chart: compliance.history(client, 30 days)',
      () => store.compliance.history({ clientId: CLIENT, since: month }),
    ],
    [
      'live KPIs (daily snapshot job, report --since): compliance.kpis(client)',
      () => store.compliance.kpis({ clientId: CLIENT }),
    ],
  ];
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(path.join(tmpdir(), 'patchops-ingest-'));
  chmodSync(scratch, 0o755); // embedded PostgreSQL runs as the postgres user when we are root
  let embedded: EmbeddedPostgresHandle | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    embedded = await startEmbeddedPostgres({
      dir: path.join(scratch, 'pg'),
      port: await freePort(),
    });
    adminUrl = embedded.url;
  }
  const dbName = `patchops_ingest_${randomBytes(4).toString('hex')}`;
  const url = await createDatabase(adminUrl, dbName);
  const pool = createPool(url);
  try {
    await migrateUp(url);
    const store = createStore(pool);
    const { devices, patches, scans } = fleet();
    const byId = new Map(patches.map((p) => [p.id, p]));
    const count = scans.reduce((n, s) => n + s.missing.length, 0);
    log(`seeding ${DEVICES} devices, ${CATALOG} patches; ${count} device-patch rows per ingest`);
    await seed(store, devices, patches);

    const pages: Row = { name: 'patchops (recordScans per page of 200)', times: [] };
    const perDevice: Row = { name: 'one device per call', times: [] };
    const copy: Row = { name: 'COPY (baseline)', times: [] };
    const rescan: Row = { name: 'rescan, nothing changed (patchops)', times: [] };
    for (let run = 1; run <= RUNS; run++) {
      for (const [row, fn] of [
        [copy, () => copyRows(pool, scans)],
        [pages, () => ingestPages(store, scans, byId)],
        [perDevice, () => ingestPerDevice(store, scans, byId)],
      ] as const) {
        await emptyTable(pool);
        row.times.push(await seconds(fn));
        log(`run ${run}: ${row.name} ${row.times.at(-1)!.toFixed(2)} s`);
      }
      rescan.times.push(await seconds(() => ingestPages(store, scans, byId)));
      log(`run ${run}: ${rescan.name} ${rescan.times.at(-1)!.toFixed(2)} s`);
    }
    const stored = await pool.query<{ n: string }>(`select count(*) as n from device_patches`);
    if (Number(stored.rows[0]!.n) !== count)
      throw new Error(`expected ${count} device_patches rows, found ${stored.rows[0]!.n}`);

    // Report queries over realistic data: due dates spread over ±30 days, a tenth installed.
    await pool.query(
      `update device_patches set due_at = now() + ((hashtext(device_id || patch_id) % 30) || ' days')::interval,
         detected_at = now() - ((abs(hashtext(patch_id || device_id)) % 60) || ' days')::interval`,
    );
    await pool.query(
      `update device_patches set state = 'installed', installed_at = now() where abs(hashtext(device_id || patch_id)) % 10 = 0`,
    );
    // Tiers as planning writes them (store/risk.ts), so the KPIs read each pair's own.
    await pool.query(
      `update device_patches set risk_tier = (array['forensic','act','attend','track','upgrade'])[1 + abs(hashtext(patch_id)) % 5]`,
    );
    await pool.query(`analyze`);
    const live = await seconds(() => store.compliance.takeSnapshots({ clientId: CLIENT }));
    log(`snapshot taken in ${live.toFixed(2)} s`);
    const qlines = [`| query | runs | p50 ms | p95 ms |`, `|---|---:|---:|---:|`];
    for (const [name, fn] of reportQueries(store)) {
      await fn(); // warm
      const ms: number[] = [];
      for (let i = 0; i < QUERY_RUNS; i++) ms.push((await seconds(fn)) * 1000);
      qlines.push(
        `| ${name} | ${QUERY_RUNS} | ${percentile(ms, 0.5).toFixed(1)} | ${percentile(ms, 0.95).toFixed(1)} |`,
      );
    }

    const version = await pool.query<{ v: string }>(
      `select current_setting('server_version') as v`,
    );
    process.stdout.write(
      [
        `## Scan ingestion: ${DEVICES.toLocaleString('en')} devices × ${MISSING} missing patches`,
        '',
        `PostgreSQL ${version.rows[0]!.v} (${embedded ? 'embedded' : 'DATABASE_URL'}), ${cpus().length} cores, ${RUNS} runs, table emptied and analysed before each.`,
        '',
        ingestTable([pages, perDevice, copy], count, copy),
        '',
        ingestTable([rescan], count, copy),
        '',
        `## Report queries over ${count.toLocaleString('en')} device-patch rows`,
        '',
        ...qlines,
        '',
      ].join('\n'),
    );
  } finally {
    await pool.end();
    await dropDatabase(adminUrl, dbName).catch(() => undefined);
    await embedded?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
