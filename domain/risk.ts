import type { CveIntel } from './intel.js';
import type { Criticality, Device, Patch, Severity } from './model.js';
import {
  bodRemediation,
  exploitationOf,
  vectorPoints,
  type BodTimeline,
  type SsvcExploitation,
  type SsvcTechnicalImpact,
} from './ssvc.js';

export * from './ssvc.js';

/**
 * Risk tier and SLA due date of a missing patch on a device: CISA BOD 26-04's SSVC table
 * per CVE, from intel (KEV, EPSS, NVD's CVSS) or the patch's own fields. Pure and
 * deterministic: times come in as parameters.
 */

/** Tiers, most urgent first; each is one BOD 26-04 remediation timeline. */
export const RISK_TIERS = ['forensic', 'act', 'attend', 'track', 'upgrade'] as const;
export type RiskTier = (typeof RISK_TIERS)[number];

export const TIER_OF_TIMELINE: Record<BodTimeline, RiskTier> = {
  '3 days & forensic investigation': 'forensic',
  '3 days': 'act',
  '14 days': 'attend',
  '60 days': 'track',
  'fix on system upgrade': 'upgrade',
};

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * The SLA per tier when no policy says otherwise: BOD 26-04's days. "Fix on system upgrade"
 * has no CISA deadline; 90 days keeps such patches from lingering for ever.
 */
export const DEFAULT_SLA_MS: Readonly<Record<RiskTier, number>> = {
  forensic: 3 * DAY,
  act: 3 * DAY,
  attend: 14 * DAY,
  track: 60 * DAY,
  upgrade: 90 * DAY,
};

/** A policy's `sla` section: milliseconds per tier; a tier left out keeps its default. */
export type SlaPolicy = Partial<Record<RiskTier, number>>;

/** 0 for the most urgent tier. */
export const tierRank = (t: RiskTier): number => RISK_TIERS.indexOf(t);
/** The more urgent of two tiers. */
export const moreUrgent = (a: RiskTier, b: RiskTier): RiskTier =>
  tierRank(a) <= tierRank(b) ? a : b;

// ---- facts per CVE ----------------------------------------------------------------------

/** What scoring knows about one CVE of a patch (or the patch itself when it names none). */
export interface CveFacts {
  /** null: the patch lists no CVE, its own fields stand in. */
  cve: string | null;
  cvss: number | null;
  /** CVSS vector (from NVD); null when only a score is known. */
  vector: string | null;
  epss: number | null;
  kev: boolean;
  /** ISO dates from CISA's catalog, when intel has the CVE. */
  kevDateAdded: string | null;
  kevDueDate: string | null;
  /** intel: PostgreSQL intel had the CVE; patch: the RMM's / vendor's fields. */
  source: 'intel' | 'patch';
}

/** The patch fields scoring reads. */
export type AssessedPatch = Pick<Patch, 'vendorSeverity' | 'cvss' | 'epss' | 'kev' | 'cveIds'>;
/** The device fields scoring reads. */
export type AssessedDevice = Pick<Device, 'criticality' | 'internetExposed'>;

/**
 * Each CVE of the patch, enriched from intel. A CVE intel lacks takes the patch's own
 * CVSS / EPSS / KEV; a field intel lacks does too. Intel may add a KEV listing but never
 * removes the vendor's: a patch the RMM flags as KEV keeps the flag on every CVE.
 */
export function cveFacts(patch: AssessedPatch, intel: ReadonlyMap<string, CveIntel>): CveFacts[] {
  const own = (cve: string | null): CveFacts => ({
    cve,
    cvss: patch.cvss,
    vector: null,
    epss: patch.epss,
    kev: patch.kev,
    kevDateAdded: null,
    kevDueDate: null,
    source: 'patch',
  });
  if (patch.cveIds.length === 0) return [own(null)];
  return patch.cveIds.map((cve) => {
    const i = intel.get(cve);
    if (!i) return own(cve);
    return {
      cve,
      cvss: i.cvss?.baseScore ?? patch.cvss,
      vector: i.cvss?.vectorString ?? null,
      epss: i.epss?.score ?? patch.epss,
      kev: i.kev !== undefined || patch.kev,
      kevDateAdded: i.kev?.dateAdded ?? null,
      kevDueDate: i.kev?.dueDate ?? null,
      source: 'intel',
    };
  });
}

// ---- assessment -------------------------------------------------------------------------

/** One CVE on one device: the SSVC decision points, the tier and when it is due. */
export interface CveAssessment extends CveFacts {
  exploitation: SsvcExploitation;
  automatable: boolean;
  technicalImpact: SsvcTechnicalImpact;
  timeline: BodTimeline;
  tier: RiskTier;
  /** Epoch ms. */
  dueAt: number;
  /** CVSS × exploitation × asset criticality; orders patches of one tier and FTC group. */
  tieBreaker: number;
  /** How the decision points were derived, for cards and the audit trail. */
  reasons: string[];
}

/** A patch on a device: its most urgent CVE decides the tier; the earliest due date counts. */
export interface RiskAssessment {
  tier: RiskTier;
  /** Epoch ms: the earliest due date of any of its CVEs. */
  dueAt: number;
  tieBreaker: number;
  /** The CVE that set the tier (most urgent, then highest tie-breaker). */
  deciding: CveAssessment;
  cves: CveAssessment[];
}

/** Stand-in CVSS when neither intel nor the vendor gives one (MSRC scale). */
const SEVERITY_CVSS: Record<Severity, number> = {
  critical: 9,
  important: 7,
  moderate: 5,
  low: 3,
  none: 0,
};
const EXPLOITATION_WEIGHT: Record<SsvcExploitation, number> = { none: 1, public_poc: 2, active: 3 };
const CRITICALITY_WEIGHT: Record<Criticality, number> = { low: 1, medium: 2, high: 3, critical: 4 };

/**
 * The numeric tie-breaker: CVSS (vendor severity's stand-in when unknown) × (exploitation
 * level none 1, public_poc 2, active 3, plus the EPSS probability) × asset criticality
 * (low 1 … critical 4). 0..160, two decimals.
 */
export function tieBreaker(a: {
  cvss: number | null;
  vendorSeverity: Severity;
  exploitation: SsvcExploitation;
  epss: number | null;
  criticality: Criticality;
}): number {
  const cvss = a.cvss ?? SEVERITY_CVSS[a.vendorSeverity];
  const exploitation = EXPLOITATION_WEIGHT[a.exploitation] + (a.epss ?? 0);
  return Math.round(cvss * exploitation * CRITICALITY_WEIGHT[a.criticality] * 100) / 100;
}

/** Epoch ms of a YYYY-MM-DD date at UTC midnight; throws on an impossible date. */
export function utcMidnight(date: string, field = 'date'): number {
  const [y, m, d] = date.split('-').map(Number);
  const ms = Date.UTC(y ?? NaN, (m ?? NaN) - 1, d ?? NaN);
  // Date.UTC rolls 2025-02-30 over to March; a round trip catches it.
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== date) {
    throw new Error(`${field} "${date}" is not a valid YYYY-MM-DD date`);
  }
  return ms;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * One CVE on one device.
 *
 * BOD 26-04 inputs: In KEV ← exploitation active (KEV-listed, or EPSS per exploitationOf);
 * Publicly exposed ← device.internetExposed; Automatable and Technical Impact ← the CVSS
 * vector (vectorPoints). Without a vector: automatable when the vendor rates it critical
 * (MSRC: code execution without user interaction), total impact when CVSS ≥ 9 or critical.
 *
 * Due: from first seen on the device, or from the KEV listing when that came later (the
 * clock restarts when the CVE becomes known-exploited), plus the tier's SLA; CISA's KEV due
 * date (end of that UTC day) wins when it is earlier.
 */
export function assessCve(
  facts: CveFacts,
  patch: Pick<Patch, 'vendorSeverity'>,
  device: AssessedDevice,
  firstSeen: number,
  sla: SlaPolicy = {},
): CveAssessment {
  const reasons: string[] = [];
  const points = facts.vector ? vectorPoints(facts.vector) : undefined;
  const critical = patch.vendorSeverity === 'critical';
  const automatable = points ? points.automatable : critical;
  const technicalImpact: SsvcTechnicalImpact = points
    ? points.technicalImpact
    : (facts.cvss ?? 0) >= 9 || critical
      ? 'total'
      : 'partial';
  reasons.push(
    points
      ? `vector ${facts.vector}: automatable ${automatable ? 'yes' : 'no'}, ${technicalImpact} impact`
      : `no CVSS vector; vendor severity ${patch.vendorSeverity}${facts.cvss !== null ? `, CVSS ${facts.cvss}` : ''}: automatable ${automatable ? 'yes' : 'no'}, ${technicalImpact} impact`,
  );
  const exploitation = exploitationOf({
    kev: facts.kev,
    epss: facts.epss,
    exploitMaturity: points?.exploitMaturity,
  });
  if (facts.kev) reasons.push('listed in CISA KEV: exploitation active');
  else if (exploitation !== 'none')
    reasons.push(`EPSS ${facts.epss ?? 0}: exploitation ${exploitation}`);
  const timeline = bodRemediation({
    kev: exploitation === 'active',
    publiclyExposed: device.internetExposed,
    automatable,
    technicalImpact,
  });
  const tier = TIER_OF_TIMELINE[timeline];
  reasons.push(
    `BOD 26-04: ${exploitation === 'active' ? 'exploited' : 'not exploited'}, ${device.internetExposed ? 'exposed' : 'not exposed'} → ${timeline}`,
  );

  let anchor = firstSeen;
  if (facts.kevDateAdded) {
    const added = utcMidnight(facts.kevDateAdded, `KEV dateAdded of ${facts.cve}`);
    if (added > anchor) anchor = added;
  }
  let dueAt = anchor + (sla[tier] ?? DEFAULT_SLA_MS[tier]);
  reasons.push(
    `${tier} SLA ${Math.round((dueAt - anchor) / HOUR / 24)}d from ${anchor === firstSeen ? 'first seen' : 'KEV listing'} ${day(anchor)}`,
  );
  if (facts.kevDueDate) {
    const kevDue = utcMidnight(facts.kevDueDate, `KEV dueDate of ${facts.cve}`) + DAY;
    if (kevDue < dueAt) {
      dueAt = kevDue;
      reasons.push(`CISA KEV due date ${facts.kevDueDate} is earlier`);
    }
  }
  return {
    ...facts,
    exploitation,
    automatable,
    technicalImpact,
    timeline,
    tier,
    dueAt,
    tieBreaker: tieBreaker({
      cvss: facts.cvss,
      vendorSeverity: patch.vendorSeverity,
      exploitation,
      epss: facts.epss,
      criticality: device.criticality,
    }),
    reasons,
  };
}

/** A patch on a device, from its CVEs' facts (cveFacts); `firstSeen` is epoch ms. */
export function assessRisk(
  patch: Pick<Patch, 'vendorSeverity'>,
  facts: readonly CveFacts[],
  device: AssessedDevice,
  firstSeen: number,
  sla: SlaPolicy = {},
): RiskAssessment {
  if (facts.length === 0) throw new Error('assessRisk: no CVE facts (use cveFacts)');
  const cves = facts.map((f) => assessCve(f, patch, device, firstSeen, sla));
  const deciding = cves.reduce((best, c) =>
    tierRank(c.tier) < tierRank(best.tier) ||
    (c.tier === best.tier && c.tieBreaker > best.tieBreaker)
      ? c
      : best,
  );
  return {
    tier: deciding.tier,
    dueAt: Math.min(...cves.map((c) => c.dueAt)),
    tieBreaker: deciding.tieBreaker,
    deciding,
    cves,
  };
}
