import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type {
  DebianSnapshot,
  EpssSnapshot,
  IntelSnapshot,
  IntelSourceName,
  KevSnapshot,
  NvdSnapshot,
} from '../adapters/intel/types.js';
import type { CveIntel, CvssEntry, IntelLookup } from '../domain/intel.js';
import type { Pool } from './pool.js';

/** What a refresh stored, as its caller reports it. */
export interface IntelRefreshResult {
  source: IntelSourceName;
  records: number;
  fetchedAt: Date;
  /** KEV: CVEs new in the catalog since the previous refresh (empty on the very first one). */
  added: string[];
  /** True when this refresh key had already been stored (a retried activity). */
  replayed: boolean;
}

/** The state of one source, for doctor. */
export interface IntelSourceStatus {
  source: IntelSourceName;
  sourceUrl: string | null;
  fetchedAt: Date | null;
  records: number;
  version: string | null;
  windowEnd: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
}

type Cell = string | number | null | undefined;

/** One CSV field for COPY: NULL is an unquoted empty field, every string is quoted. */
const csv = (v: Cell): string =>
  v === null || v === undefined
    ? ''
    : typeof v === 'number'
      ? String(v)
      : `"${v.replace(/"/g, '""')}"`;
const pgArray = (xs: readonly string[]) =>
  `{${xs.map((x) => `"${x.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;

/** Streams rows into `table` with COPY, in chunks of about 1 MB. */
async function copyRows(
  client: pg.PoolClient,
  table: string,
  columns: readonly string[],
  rows: Iterable<Cell[]>,
): Promise<void> {
  function* chunks() {
    let buf = '';
    for (const r of rows) {
      buf += `${r.map(csv).join(',')}\n`;
      if (buf.length > 1_000_000) {
        yield buf;
        buf = '';
      }
    }
    if (buf) yield buf;
  }
  await pipeline(
    Readable.from(chunks()),
    client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN WITH (FORMAT csv)`)),
  );
}

const KEV_COLUMNS = [
  'cve_id',
  'vendor_project',
  'product',
  'vulnerability_name',
  'date_added',
  'short_description',
  'required_action',
  'due_date',
  'known_ransomware',
  'notes',
  'cwes',
  'forensic_triage',
] as const;
const NVD_COLUMNS = [
  'cve_id',
  'last_modified',
  'vuln_status',
  'cvss_version',
  'base_score',
  'vector_string',
  'metric_type',
  'metric_source',
  'metrics',
] as const;

/**
 * All SQL of vulnerability intelligence. A refresh is one transaction per source: the
 * snapshot is COPYed into a staging table and swapped in, so a failed or malformed
 * download (which never reaches here) or a crash midway leaves the previous data whole.
 */
export class IntelRepository implements IntelLookup {
  constructor(private readonly pool: Pool) {}

  /**
   * Stores a snapshot. `refreshKey` makes it idempotent: a second call with the same key
   * changes nothing and returns what the first stored (the KEV CVEs it added).
   */
  async store(
    snapshot: IntelSnapshot,
    meta: { sourceUrl: string; refreshKey: string; fetchedAt?: Date },
  ): Promise<IntelRefreshResult> {
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      // One refresh of a source at a time (the schedule and a CLI refresh may overlap).
      await client.query('select pg_advisory_xact_lock(hashtext($1))', [
        `intel:${snapshot.source}`,
      ]);
      const done = await client.query<{ record_count: number; fetched_at: Date; added: string[] }>(
        'select record_count, fetched_at, added from intel_refreshes where refresh_key = $1',
        [meta.refreshKey],
      );
      if (done.rows[0]) {
        await client.query('commit');
        const r = done.rows[0];
        return {
          source: snapshot.source,
          records: r.record_count,
          fetchedAt: r.fetched_at,
          added: r.added,
          replayed: true,
        };
      }
      const fetchedAt = meta.fetchedAt ?? new Date();
      let added: string[] = [];
      let version: string | null = null;
      let windowEnd: string | null = null;
      let records = snapshot.rows.length;
      switch (snapshot.source) {
        case 'kev':
          added = await this.replaceKev(client, snapshot, fetchedAt);
          version = snapshot.catalogVersion;
          break;
        case 'epss':
          await this.replaceEpss(client, snapshot);
          version = `${snapshot.modelVersion ?? 'api'} ${snapshot.scoreDate}`;
          break;
        case 'nvd':
          await this.mergeNvd(client, snapshot);
          windowEnd = snapshot.windowEnd;
          version = snapshot.full ? 'full' : 'incremental';
          records = Number(
            (await client.query<{ n: string }>('select count(*) n from intel_nvd')).rows[0]!.n,
          );
          break;
        case 'debian':
          await this.replaceDebian(client, snapshot);
          break;
      }
      await client.query(
        `insert into intel_sources (source, source_url, fetched_at, record_count, version, window_end, last_error, last_error_at)
         values ($1, $2, $3, $4, $5, $6, null, null)
         on conflict (source) do update set source_url = excluded.source_url, fetched_at = excluded.fetched_at,
           record_count = excluded.record_count, version = excluded.version,
           window_end = coalesce(excluded.window_end, intel_sources.window_end), last_error = null, last_error_at = null`,
        [snapshot.source, meta.sourceUrl, fetchedAt, records, version, windowEnd],
      );
      await client.query(
        'insert into intel_refreshes (refresh_key, source, fetched_at, record_count, added) values ($1, $2, $3, $4, $5)',
        [meta.refreshKey, snapshot.source, fetchedAt, records, added],
      );
      await client.query('commit');
      return { source: snapshot.source, records, fetchedAt, added, replayed: false };
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** Notes a failed refresh for doctor; the stored data stays as it was. */
  async recordFailure(source: IntelSourceName, sourceUrl: string, error: string): Promise<void> {
    await this.pool.query(
      `insert into intel_sources (source, source_url, last_error, last_error_at) values ($1, $2, $3, now())
       on conflict (source) do update set last_error = excluded.last_error, last_error_at = excluded.last_error_at`,
      [source, sourceUrl, error.slice(0, 1000)],
    );
  }

  /**
   * Replaces the KEV catalog; returns the CVEs new since the last one (none the first time).
   * A new CVE's `first_seen_at` is this refresh's `fetchedAt` itself, not the transaction's
   * now(): `kevAddedSince(fetchedAt)` compares the two, and now() (microseconds, taken
   * before) could fall after a millisecond-truncated fetchedAt.
   */
  private async replaceKev(
    client: pg.PoolClient,
    s: KevSnapshot,
    fetchedAt: Date,
  ): Promise<string[]> {
    await client.query(
      'create temp table intel_kev_stage (like intel_kev including defaults) on commit drop',
    );
    await copyRows(
      client,
      'intel_kev_stage',
      KEV_COLUMNS,
      s.rows.map((r) => [
        r.cve,
        r.vendorProject,
        r.product,
        r.vulnerabilityName,
        r.dateAdded,
        r.shortDescription,
        r.requiredAction,
        r.dueDate,
        r.knownRansomwareCampaignUse,
        r.notes,
        pgArray(r.cwes),
        r.forensicTriage,
      ]),
    );
    // The very first catalog is a baseline, not 1,500 emergencies.
    const baseline = await client.query(
      `select 1 from intel_sources where source = 'kev' and fetched_at is not null`,
    );
    const added = baseline.rowCount
      ? (
          await client.query<{ cve_id: string }>(
            `select s.cve_id from intel_kev_stage s
             where not exists (select 1 from intel_kev k where k.cve_id = s.cve_id) order by s.cve_id`,
          )
        ).rows.map((r) => r.cve_id)
      : [];
    await client.query(
      'delete from intel_kev k where not exists (select 1 from intel_kev_stage s where s.cve_id = k.cve_id)',
    );
    const set = KEV_COLUMNS.slice(1)
      .map((c) => `${c} = excluded.${c}`)
      .join(', ');
    const cols = KEV_COLUMNS.join(', ');
    await client.query(
      `insert into intel_kev (${cols}, first_seen_at) select ${cols}, $1 from intel_kev_stage
       on conflict (cve_id) do update set ${set}
       where (${KEV_COLUMNS.slice(1)
         .map((c) => `intel_kev.${c}`)
         .join(', ')}) is distinct from (${KEV_COLUMNS.slice(1)
         .map((c) => `excluded.${c}`)
         .join(', ')})`,
      [fetchedAt],
    );
    return added;
  }

  private async replaceEpss(client: pg.PoolClient, s: EpssSnapshot): Promise<void> {
    // A whole day's scores replace the previous day's; readers keep seeing the old rows
    // (MVCC) until the transaction commits.
    await client.query('delete from intel_epss');
    await copyRows(
      client,
      'intel_epss',
      ['cve_id', 'epss', 'percentile', 'score_date'],
      s.rows.map((r) => [r.cve, r.epss, r.percentile, r.date]),
    );
  }

  private async replaceDebian(client: pg.PoolClient, s: DebianSnapshot): Promise<void> {
    await client.query('delete from intel_debian');
    await copyRows(
      client,
      'intel_debian',
      ['cve_id', 'package', 'release', 'status', 'fixed_version', 'urgency'],
      s.rows.map((r) => [r.cve, r.package, r.release, r.status, r.fixedVersion, r.urgency]),
    );
  }

  private async mergeNvd(client: pg.PoolClient, s: NvdSnapshot): Promise<void> {
    await client.query(
      'create temp table intel_nvd_stage (like intel_nvd including defaults) on commit drop',
    );
    await copyRows(
      client,
      'intel_nvd_stage',
      NVD_COLUMNS,
      s.rows.map((r) => [
        r.cve,
        r.lastModified,
        r.vulnStatus,
        r.cvss?.version ?? null,
        r.cvss?.baseScore ?? null,
        r.cvss?.vectorString ?? null,
        r.cvss?.type ?? null,
        r.cvss?.source ?? null,
        JSON.stringify(r.metrics),
      ]),
    );
    const cols = NVD_COLUMNS.join(', ');
    await client.query(
      `insert into intel_nvd (${cols}) select ${cols} from intel_nvd_stage
       on conflict (cve_id) do update set ${NVD_COLUMNS.slice(1)
         .map((c) => `${c} = excluded.${c}`)
         .join(', ')}`,
    );
  }

  /** Every source's last refresh and failure (sources never refreshed are absent). */
  async status(): Promise<IntelSourceStatus[]> {
    const res = await this.pool.query<{
      source: IntelSourceName;
      source_url: string | null;
      fetched_at: Date | null;
      record_count: number;
      version: string | null;
      window_end: Date | null;
      last_error: string | null;
      last_error_at: Date | null;
    }>('select * from intel_sources order by source');
    return res.rows.map((r) => ({
      source: r.source,
      sourceUrl: r.source_url,
      fetchedAt: r.fetched_at,
      records: r.record_count,
      version: r.version,
      windowEnd: r.window_end,
      lastError: r.last_error,
      lastErrorAt: r.last_error_at,
    }));
  }

  /** Where the next NVD sync starts: the previous window's end, when there is one. */
  async nvdWindowEnd(): Promise<Date | undefined> {
    const r = await this.pool.query<{ window_end: Date | null }>(
      `select window_end from intel_sources where source = 'nvd'`,
    );
    return r.rows[0]?.window_end ?? undefined;
  }

  /** KEV CVEs patchops first saw after `since` (for the emergency path catching up). */
  async kevAddedSince(since: Date): Promise<string[]> {
    const r = await this.pool.query<{ cve_id: string }>(
      'select cve_id from intel_kev where first_seen_at > $1 order by first_seen_at, cve_id',
      [since],
    );
    return r.rows.map((x) => x.cve_id);
  }

  /** Merged intel per CVE; ids no source knows are absent from the map. */
  async lookup(cves: readonly string[]): Promise<Map<string, CveIntel>> {
    const ids = [...new Set(cves.map((c) => c.trim().toUpperCase()))];
    const out = new Map<string, CveIntel>();
    if (!ids.length) return out;
    const at = (cve: string): CveIntel => {
      let e = out.get(cve);
      if (!e) out.set(cve, (e = { cve }));
      return e;
    };
    const [kev, epss, nvd, debian] = await Promise.all([
      this.pool.query<{
        cve_id: string;
        date_added: string;
        due_date: string;
        known_ransomware: string;
        vendor_project: string;
        product: string;
        cwes: string[];
      }>(
        `select cve_id, to_char(date_added, 'YYYY-MM-DD') date_added, to_char(due_date, 'YYYY-MM-DD') due_date,
                known_ransomware, vendor_project, product, cwes
         from intel_kev where cve_id = any($1)`,
        [ids],
      ),
      this.pool.query<{ cve_id: string; epss: number; percentile: number; score_date: string }>(
        `select cve_id, epss, percentile, to_char(score_date, 'YYYY-MM-DD') score_date from intel_epss where cve_id = any($1)`,
        [ids],
      ),
      this.pool.query<{
        cve_id: string;
        cvss_version: string;
        base_score: string;
        vector_string: string;
        metric_type: 'Primary' | 'Secondary';
        metric_source: string;
      }>(
        `select cve_id, cvss_version, base_score, vector_string, metric_type, metric_source
         from intel_nvd where cve_id = any($1) and cvss_version is not null`,
        [ids],
      ),
      this.pool.query<{
        cve_id: string;
        package: string;
        release: string;
        status: string;
        fixed_version: string | null;
        urgency: string | null;
      }>('select * from intel_debian where cve_id = any($1) order by cve_id, package, release', [
        ids,
      ]),
    ]);
    for (const r of kev.rows)
      at(r.cve_id).kev = {
        dateAdded: r.date_added,
        dueDate: r.due_date,
        knownRansomwareCampaignUse: r.known_ransomware,
        vendorProject: r.vendor_project,
        product: r.product,
        cwes: r.cwes,
      };
    for (const r of epss.rows)
      at(r.cve_id).epss = { score: r.epss, percentile: r.percentile, date: r.score_date };
    for (const r of nvd.rows) {
      const cvss: CvssEntry = {
        version: r.cvss_version,
        baseScore: Number(r.base_score),
        vectorString: r.vector_string,
        type: r.metric_type,
        source: r.metric_source,
      };
      at(r.cve_id).cvss = cvss;
    }
    for (const r of debian.rows) {
      const e = at(r.cve_id);
      e.debian ??= [];
      let pkg = e.debian.find((d) => d.package === r.package);
      if (!pkg) e.debian.push((pkg = { package: r.package, releases: {} }));
      pkg.releases[r.release] = {
        status: r.status,
        ...(r.fixed_version ? { fixedVersion: r.fixed_version } : {}),
        ...(r.urgency ? { urgency: r.urgency } : {}),
      };
    }
    return out;
  }
}
