/**
 * The compliance KPIs of one client and site (siteId null: the whole client) as of a moment,
 * and how a report says them. Pairs count as follows: `installed` is done; `excluded`
 * (blocked by policy) is out of scope; everything else, `pending_reboot` included, is open
 * (the fix is not in effect until the reboot).
 */
export interface ComplianceKpis {
  clientId: string;
  /** null: every site of the client together. */
  siteId: string | null;
  /** Devices of the client/site patchops knows. */
  managedDevices: number;
  /** Devices with no open patch past its SLA due date. */
  compliantDevices: number;
  /** compliantDevices ÷ managedDevices (0..1); null when there are no devices. */
  complianceRate: number | null;
  /** Mean hours from detection to installation of pairs installed in the window; null when none. */
  meanHoursToPatch: number | null;
  /** Mean days open pairs have been known missing; null when none is open. */
  meanOpenAgeDays: number | null;
  /** Device × patch pairs in scope (every state but excluded). */
  applicablePairs: number;
  openVulnerabilities: number;
  /** Open pairs of a CISA KEV-listed patch (the exposure the chart draws). */
  openKev: number;
  /** Pairs whose last install attempt failed. */
  failedPatches: number;
  /** Of KEV pairs whose SLA was settled in the window, the share installed by their due date. */
  kevWithinSla: number | null;
  /** The same for the critical tiers: BOD 26-04's 3-day timelines, forensic and act. */
  criticalWithinSla: number | null;
  /** Open pairs past their due date. */
  slaBreaches: number;
  /** Devices with at least one installed patch waiting for a reboot. */
  rebootsPending: number;
}

export const pct = (x: number | null): string => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);
const num = (x: number | null, digits = 1): string => (x === null ? '-' : x.toFixed(digits));

/** "2026-W49": the ISO 8601 week of a moment (UTC); a weekly report is posted once per week. */
export function isoWeek(at: Date): string {
  const d = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  const weekday = d.getUTCDay() || 7;
  d.setUTCDate(d.getUTCDate() + 4 - weekday); // the Thursday of this week names its year
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((d.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/** One line of KPIs, as chat and the weekly report print them. */
export function kpiLine(k: ComplianceKpis): string {
  return [
    `${pct(k.complianceRate)} compliant (${k.compliantDevices}/${k.managedDevices} devices)`,
    `${k.slaBreaches} SLA breaches`,
    `${k.openKev} open KEV`,
    `${k.failedPatches} failed`,
    `${k.rebootsPending} reboots pending`,
    `MTTP ${num(k.meanHoursToPatch)} h`,
    `KEV within SLA ${pct(k.kevWithinSla)}`,
    `critical within SLA ${pct(k.criticalWithinSla)}`,
    `open vulns ${k.openVulnerabilities}, mean age ${num(k.meanOpenAgeDays)} d`,
  ].join(' · ');
}

/** The weekly report's message: the client's total, then each site. */
export function reportText(
  clientId: string,
  period: string,
  rows: readonly ComplianceKpis[],
  windowDays: number,
): string {
  const total = rows.find((r) => r.siteId === null);
  const sites = rows.filter((r) => r.siteId !== null);
  return [
    `*Compliance report ${clientId}, ${period}* (time to patch and SLA shares: last ${windowDays} days)`,
    total ? `Overall: ${kpiLine(total)}` : 'No devices known for this client.',
    ...sites.map((s) => `• ${s.siteId}: ${kpiLine(s)}`),
  ].join('\n');
}
