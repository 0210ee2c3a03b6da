import type { ComplianceKpis } from '../domain/compliance-report.js';
import type { Pool } from './pool.js';

export type { ComplianceKpis };

/** A stored daily snapshot: the KPIs of one day. */
export interface ComplianceSnapshot extends ComplianceKpis {
  /** YYYY-MM-DD (UTC). */
  day: string;
  takenAt: Date;
}

/** What `/patch report` and the demo print: one row per client and site. */
export interface ComplianceRow {
  clientId: string;
  siteId: string;
  devices: number;
  /** Device × patch pairs in scope (not excluded). */
  applicable: number;
  failed: number;
  pendingReboot: number;
  /** Devices with no overdue open patch, share of devices (0..1). */
  complianceRate: number;
  /** Forensic/act-tier (3-day) pairs done within SLA over the last 30 days (0..1); null when none. */
  criticalAddressed: number | null;
  kevWithinSla: number | null;
  slaBreaches: number;
  meanHoursToPatch: number | null;
  meanOpenAgeDays: number | null;
}

export interface KpiQuery {
  /** Only this client. */
  clientId?: string | undefined;
  /** The moment the numbers describe (default now). */
  asOf?: Date;
  /** Start of the window of the flow KPIs (time to patch, within SLA); default asOf − 30 days. */
  since?: Date;
}

const DAY_MS = 86_400_000;
/** Window of the flow KPIs when none is asked for. */
export const DEFAULT_WINDOW_DAYS = 30;

interface KpiRow {
  client_id: string;
  site_id: string;
  managed: number;
  compliant: number;
  reboots: number;
  applicable: number | null;
  open_n: number | null;
  open_kev: number | null;
  failed: number | null;
  breaches: number | null;
  open_age_days: number | null;
  mttp_hours: number | null;
  kev_settled: number | null;
  kev_within: number | null;
  crit_settled: number | null;
  crit_within: number | null;
}

/*
 * A pair's tier and due date are its own (written by planning per device), else those of the
 * rollout that planned it, else of the client's latest rollout listing the patch. The
 * critical tiers are BOD 26-04's 3-day timelines: forensic and act.
 * Counts are cast to int4 so pg returns numbers; averages to float8.
 */
const KPI_SQL = `
with pairs as (
  select d.client_id, d.site_id, d.id as device_id, dp.state, dp.detected_at, dp.installed_at,
         -- coalesce evaluates the look-ups only for pairs planning has not assessed itself
         coalesce(dp.due_at, (select r.due_at from rollout_patches r
            where r.rollout_id = dp.rollout_id and r.patch_id = dp.patch_id),
           (select r.due_at from rollout_patches r join rollouts ro on ro.id = r.rollout_id
            where r.patch_id = dp.patch_id and ro.client_id = d.client_id
            order by ro.created_at desc limit 1)) as due_at,
         coalesce(dp.risk_tier, (select r.risk_tier from rollout_patches r
            where r.rollout_id = dp.rollout_id and r.patch_id = dp.patch_id),
           (select r.risk_tier from rollout_patches r join rollouts ro on ro.id = r.rollout_id
            where r.patch_id = dp.patch_id and ro.client_id = d.client_id
            order by ro.created_at desc limit 1)) as risk_tier,
         p.kev, dp.state not in ('installed', 'excluded') as open
  from devices d
  join device_patches dp on dp.device_id = d.id
  join patches p on p.id = dp.patch_id
  where ($1::text is null or d.client_id = $1)
), settled as (
  select *,
    due_at is not null and (
      (state = 'installed' and installed_at > $3::timestamptz and installed_at <= $2::timestamptz)
      or (due_at > $3::timestamptz and due_at <= $2::timestamptz and not (state = 'installed' and installed_at <= due_at))
    ) as settled,
    due_at is not null and state = 'installed' and installed_at > $3::timestamptz and installed_at <= $2::timestamptz
      and installed_at <= due_at as within
  from pairs
), by_pair as (
  select client_id, coalesce(site_id, '') as site_id,
    count(*) filter (where state <> 'excluded')::int as applicable,
    count(*) filter (where open)::int as open_n,
    count(*) filter (where open and kev)::int as open_kev,
    count(*) filter (where state = 'failed')::int as failed,
    count(*) filter (where open and due_at < $2::timestamptz)::int as breaches,
    avg(extract(epoch from $2::timestamptz - detected_at) / 86400) filter (where open)::float8 as open_age_days,
    avg(extract(epoch from installed_at - detected_at) / 3600)
      filter (where state = 'installed' and installed_at > $3::timestamptz and installed_at <= $2::timestamptz)::float8 as mttp_hours,
    count(*) filter (where kev and settled)::int as kev_settled,
    count(*) filter (where kev and within)::int as kev_within,
    count(*) filter (where risk_tier in ('forensic', 'act') and settled)::int as crit_settled,
    count(*) filter (where risk_tier in ('forensic', 'act') and within)::int as crit_within
  from settled group by grouping sets ((client_id, site_id), (client_id))
), dev as (
  select d.client_id, d.site_id, d.id,
    coalesce(bool_or(pr.open and pr.due_at < $2::timestamptz), false) as overdue,
    coalesce(bool_or(pr.state = 'pending_reboot'), false) as reboot
  from devices d left join pairs pr on pr.device_id = d.id
  where ($1::text is null or d.client_id = $1)
  group by d.client_id, d.site_id, d.id
), by_device as (
  select client_id, coalesce(site_id, '') as site_id, count(*)::int as managed,
    count(*) filter (where not overdue)::int as compliant,
    count(*) filter (where reboot)::int as reboots
  from dev group by grouping sets ((client_id, site_id), (client_id))
)
select bd.*, bp.applicable, bp.open_n, bp.open_kev, bp.failed, bp.breaches, bp.open_age_days, bp.mttp_hours,
       bp.kev_settled, bp.kev_within, bp.crit_settled, bp.crit_within
from by_device bd left join by_pair bp using (client_id, site_id)
order by bd.client_id, bd.site_id <> '', bd.site_id`;

const share = (part: number | null, whole: number | null): number | null =>
  whole ? (part ?? 0) / whole : null;

function toKpis(r: KpiRow): ComplianceKpis {
  return {
    clientId: r.client_id,
    siteId: r.site_id === '' ? null : r.site_id,
    managedDevices: r.managed,
    compliantDevices: r.compliant,
    complianceRate: share(r.compliant, r.managed),
    meanHoursToPatch: r.mttp_hours,
    meanOpenAgeDays: r.open_age_days,
    applicablePairs: r.applicable ?? 0,
    openVulnerabilities: r.open_n ?? 0,
    openKev: r.open_kev ?? 0,
    failedPatches: r.failed ?? 0,
    kevWithinSla: share(r.kev_within, r.kev_settled),
    criticalWithinSla: share(r.crit_within, r.crit_settled),
    slaBreaches: r.breaches ?? 0,
    rebootsPending: r.reboots,
  };
}

interface SnapshotRow {
  client_id: string;
  site_id: string;
  day: string;
  taken_at: Date;
  managed_devices: number;
  compliant_devices: number;
  compliance_rate: number | null;
  mean_hours_to_patch: number | null;
  mean_open_age_days: number | null;
  applicable_pairs: number;
  open_vulnerabilities: number;
  open_kev: number;
  failed_patches: number;
  kev_within_sla: number | null;
  critical_within_sla: number | null;
  sla_breaches: number;
  reboots_pending: number;
}

const toSnapshot = (r: SnapshotRow): ComplianceSnapshot => ({
  day: r.day,
  takenAt: r.taken_at,
  clientId: r.client_id,
  siteId: r.site_id === '' ? null : r.site_id,
  managedDevices: r.managed_devices,
  compliantDevices: r.compliant_devices,
  complianceRate: r.compliance_rate,
  meanHoursToPatch: r.mean_hours_to_patch,
  meanOpenAgeDays: r.mean_open_age_days,
  applicablePairs: r.applicable_pairs,
  openVulnerabilities: r.open_vulnerabilities,
  openKev: r.open_kev,
  failedPatches: r.failed_patches,
  kevWithinSla: r.kev_within_sla,
  criticalWithinSla: r.critical_within_sla,
  slaBreaches: r.sla_breaches,
  rebootsPending: r.reboots_pending,
});

/** The numbers compliance reports are made of, per client and site, and their daily history. */
export class ComplianceRepository {
  constructor(private readonly pool: Pool) {}

  /** KPIs per client and site, each client's total first (siteId null). */
  async kpis(q: KpiQuery = {}): Promise<ComplianceKpis[]> {
    const asOf = q.asOf ?? new Date();
    const since = q.since ?? new Date(asOf.getTime() - DEFAULT_WINDOW_DAYS * DAY_MS);
    const res = await this.pool.query<KpiRow>(KPI_SQL, [q.clientId ?? null, asOf, since]);
    return res.rows.map(toKpis);
  }

  /**
   * Per site, as `/patch report`, App Home and the demo print them (the last 30 days for
   * flow KPIs): the newest stored snapshot of each client, so a report is one indexed read
   * however large the fleet. Snapshots are taken daily, after every scan and at the end of
   * every rollout; a client with none from the last day is computed (and stored) first.
   */
  async snapshot(clientId?: string): Promise<ComplianceRow[]> {
    return (await this.current(clientId))
      .filter((k) => k.siteId !== null)
      .map((k) => ({
        clientId: k.clientId,
        siteId: k.siteId ?? '',
        devices: k.managedDevices,
        applicable: k.applicablePairs,
        failed: k.failedPatches,
        pendingReboot: k.rebootsPending,
        complianceRate: k.complianceRate ?? 1,
        criticalAddressed: k.criticalWithinSla,
        kevWithinSla: k.kevWithinSla,
        slaBreaches: k.slaBreaches,
        meanHoursToPatch: k.meanHoursToPatch,
        meanOpenAgeDays: k.meanOpenAgeDays,
      }));
  }

  /**
   * The newest stored snapshot of each client and site (whole-client rows included); a
   * client with none from the last day is computed and stored first.
   */
  async current(clientId?: string): Promise<ComplianceSnapshot[]> {
    const rows = await this.latest(clientId);
    const fresh = new Set(
      rows.filter((r) => Date.now() - r.takenAt.getTime() < DAY_MS).map((r) => r.clientId),
    );
    const clients = clientId ? [clientId] : await this.clientIds();
    if (clients.every((c) => fresh.has(c))) return rows;
    await this.takeSnapshots(clientId ? { clientId } : {});
    return this.latest(clientId);
  }

  /** The newest stored snapshot row of each client and site (whole-client rows included). */
  async latest(clientId?: string): Promise<ComplianceSnapshot[]> {
    const res = await this.pool.query<SnapshotRow>(
      `select distinct on (client_id, site_id) client_id, site_id, to_char(day, 'YYYY-MM-DD') as day,
         taken_at, managed_devices, compliant_devices, compliance_rate, mean_hours_to_patch,
         mean_open_age_days, applicable_pairs, open_vulnerabilities, open_kev, failed_patches,
         kev_within_sla, critical_within_sla, sla_breaches, reboots_pending
       from compliance_snapshots where ($1::text is null or client_id = $1)
       order by client_id, site_id, day desc`,
      [clientId ?? null],
    );
    return res.rows.map(toSnapshot);
  }

  /**
   * Stores today's (UTC date of `asOf`) KPIs of every client and site; a second run the
   * same day replaces them. Returns how many rows were written.
   */
  async takeSnapshots(q: { asOf?: Date; clientId?: string } = {}): Promise<number> {
    const asOf = q.asOf ?? new Date();
    const rows = await this.kpis({ asOf, clientId: q.clientId });
    if (rows.length === 0) return 0;
    await this.pool.query(
      `insert into compliance_snapshots (client_id, site_id, day, taken_at, managed_devices,
         compliant_devices, compliance_rate, mean_hours_to_patch, mean_open_age_days,
         applicable_pairs, open_vulnerabilities, open_kev, failed_patches, kev_within_sla,
         critical_within_sla, sla_breaches, reboots_pending)
       select k->>'clientId', coalesce(k->>'siteId', ''), ($2::timestamptz at time zone 'UTC')::date, $2,
         (k->>'managedDevices')::int, (k->>'compliantDevices')::int, (k->>'complianceRate')::float8,
         (k->>'meanHoursToPatch')::float8, (k->>'meanOpenAgeDays')::float8,
         (k->>'applicablePairs')::int, (k->>'openVulnerabilities')::int, (k->>'openKev')::int, (k->>'failedPatches')::int,
         (k->>'kevWithinSla')::float8, (k->>'criticalWithinSla')::float8,
         (k->>'slaBreaches')::int, (k->>'rebootsPending')::int
       from jsonb_array_elements($1::jsonb) as k
       on conflict (client_id, site_id, day) do update set taken_at = excluded.taken_at,
         managed_devices = excluded.managed_devices, compliant_devices = excluded.compliant_devices,
         compliance_rate = excluded.compliance_rate, mean_hours_to_patch = excluded.mean_hours_to_patch,
         mean_open_age_days = excluded.mean_open_age_days, applicable_pairs = excluded.applicable_pairs,
         open_vulnerabilities = excluded.open_vulnerabilities,
         open_kev = excluded.open_kev, failed_patches = excluded.failed_patches,
         kev_within_sla = excluded.kev_within_sla, critical_within_sla = excluded.critical_within_sla,
         sla_breaches = excluded.sla_breaches, reboots_pending = excluded.reboots_pending`,
      [JSON.stringify(rows), asOf],
    );
    return rows.length;
  }

  /**
   * Stored daily snapshots from `since` (inclusive, UTC day) in day order; `site: 'total'`
   * (default) gives the whole-client rows only, `'all'` every site too.
   */
  async history(q: {
    clientId?: string | undefined;
    since?: Date | undefined;
    site?: 'total' | 'all';
  }): Promise<ComplianceSnapshot[]> {
    const res = await this.pool.query<SnapshotRow>(
      `select client_id, site_id, to_char(day, 'YYYY-MM-DD') as day, taken_at, managed_devices,
         compliant_devices, compliance_rate, mean_hours_to_patch, mean_open_age_days,
         applicable_pairs, open_vulnerabilities, open_kev, failed_patches, kev_within_sla,
         critical_within_sla, sla_breaches, reboots_pending
       from compliance_snapshots
       where ($1::text is null or client_id = $1)
         and ($2::timestamptz is null or day >= ($2::timestamptz at time zone 'UTC')::date)
         and ($3 or site_id = '')
       order by client_id, day, site_id`,
      [q.clientId ?? null, q.since ?? null, q.site === 'all'],
    );
    return res.rows.map(toSnapshot);
  }

  /** Ids of every client that has devices (what the daily and weekly runs go through). */
  async clientIds(): Promise<string[]> {
    const res = await this.pool.query<{ client_id: string }>(
      `select distinct client_id from devices order by client_id`,
    );
    return res.rows.map((r) => r.client_id);
  }

  async recentRollouts(
    limit = 20,
  ): Promise<
    Array<{ id: string; clientId: string; status: string; createdAt: Date; ticket: string | null }>
  > {
    const res = await this.pool.query<{
      id: string;
      client_id: string;
      status: string;
      created_at: Date;
      ticket: string | null;
    }>(
      `select r.id, r.client_id, r.status, r.created_at,
              (select coalesce(t.number, t.external_id) from tickets t
               where t.rollout_id = r.id and t.role = 'change' order by t.id limit 1) as ticket
       from rollouts r order by r.created_at desc limit $1`,
      [limit],
    );
    return res.rows.map((r) => ({
      id: r.id,
      clientId: r.client_id,
      status: r.status,
      createdAt: r.created_at,
      ticket: r.ticket,
    }));
  }
}
