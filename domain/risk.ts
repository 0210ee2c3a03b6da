import type { Device, Patch, Severity } from './model.js';

/**
 * Risk tier and SLA due date of a missing patch on a device, plus CISA's SSVC decision
 * tables. Pure and deterministic: `now` comes in as a parameter.
 */

export type RiskTier = 'low' | 'medium' | 'high' | 'critical' | 'emergency';

/** The outcome of assessing one patch on one device. */
export interface RiskAssessment {
  tier: RiskTier;
  /** 0..100, banded by tier (low 0-19 … emergency 80-100) so sorting by score keeps tiers. */
  score: number;
  /** When the patch must be installed (epoch ms). */
  dueAt: number;
  /** Human-readable steps that led to the tier and SLA, for cards and the audit trail. */
  reasons: string[];
}

const TIERS: readonly RiskTier[] = ['low', 'medium', 'high', 'critical', 'emergency'];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SLA_MS: Record<RiskTier, number> = {
  emergency: 72 * HOUR,
  critical: 7 * DAY,
  high: 14 * DAY,
  medium: 30 * DAY,
  low: 90 * DAY,
};
const SEVERITY_TIER: Record<Severity, RiskTier> = {
  critical: 'critical',
  important: 'high',
  moderate: 'medium',
  low: 'low',
  none: 'low',
};

function baseTier(patch: AssessedPatch, reasons: string[]): RiskTier {
  if (patch.kev) {
    reasons.push('listed in CISA KEV (known exploited): emergency');
    return 'emergency';
  }
  const cvss = patch.cvss ?? 0;
  const byCvss: RiskTier =
    cvss >= 9 ? 'critical' : cvss >= 7 ? 'high' : cvss >= 4 ? 'medium' : 'low';
  const bySeverity = SEVERITY_TIER[patch.vendorSeverity];
  // The stronger of the two signals decides; vendors and NVD often disagree.
  const tier = TIERS.indexOf(byCvss) >= TIERS.indexOf(bySeverity) ? byCvss : bySeverity;
  if (patch.cvss !== null && tier === byCvss) reasons.push(`CVSS ${patch.cvss}: ${tier}`);
  if (tier === bySeverity) reasons.push(`vendor severity ${patch.vendorSeverity}: ${tier}`);
  return tier;
}

/** Fields of a patch that risk depends on. */
export type AssessedPatch = Pick<Patch, 'vendorSeverity' | 'cvss' | 'epss' | 'kev' | 'releaseDate'>;
/** Fields of a device that risk depends on. */
export type AssessedDevice = Pick<Device, 'criticality' | 'internetExposed'>;

/**
 * Tier, score and due date of `patch` on `device`.
 *
 * Tier: KEV → emergency; CVSS ≥ 9 or vendor "critical" → critical; CVSS ≥ 7 or "important"
 * → high; CVSS ≥ 4 or "moderate" → medium; else low. Then +1 tier for an asset of
 * criticality high/critical and +1 for EPSS ≥ 0.5 (they stack), but only KEV makes an
 * emergency: bumps stop at critical.
 *
 * SLA: emergency 72 h (24 h if internet-exposed); critical 7 d (3 d if internet-exposed and
 * EPSS ≥ 0.1); high 14 d; medium 30 d; low 90 d. It runs from the patch's release date
 * (UTC midnight) when known, otherwise from `now`, so a late scan does not extend it.
 */
export function assessRisk(
  patch: AssessedPatch,
  device: AssessedDevice,
  now: number,
): RiskAssessment {
  const reasons: string[] = [];
  let tier = baseTier(patch, reasons);
  const bump = (why: string): void => {
    if (tier === 'emergency') return;
    if (tier === 'critical') {
      reasons.push(`${why}: stays critical (only KEV makes an emergency)`);
      return;
    }
    tier = TIERS[TIERS.indexOf(tier) + 1] ?? tier;
    reasons.push(`${why}: raised to ${tier}`);
  };
  if (device.criticality === 'high' || device.criticality === 'critical') {
    bump(`asset criticality ${device.criticality}`);
  }
  const epss = patch.epss ?? 0;
  if (epss >= 0.5) bump(`EPSS ${epss} ≥ 0.5`);

  let slaMs = SLA_MS[tier];
  if (tier === 'emergency' && device.internetExposed) {
    slaMs = 24 * HOUR;
    reasons.push('internet-exposed: SLA 24h');
  } else if (tier === 'critical' && device.internetExposed && epss >= 0.1) {
    slaMs = 3 * DAY;
    reasons.push(`internet-exposed with EPSS ${epss} ≥ 0.1: SLA 3d`);
  }
  const anchor = patch.releaseDate === null ? now : releaseMidnight(patch.releaseDate);
  reasons.push(
    patch.releaseDate === null
      ? 'SLA counted from now (no release date)'
      : `SLA counted from release date ${patch.releaseDate}`,
  );
  return { tier, score: score(tier, patch, device), dueAt: anchor + slaMs, reasons };
}

function releaseMidnight(date: string): number {
  const [y, m, d] = date.split('-').map(Number);
  const ms = Date.UTC(y ?? NaN, (m ?? NaN) - 1, d ?? NaN);
  // Date.UTC rolls 2025-02-30 over to March; a round trip catches it.
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== date) {
    throw new Error(`patch releaseDate "${date}" is not a valid YYYY-MM-DD date`);
  }
  return ms;
}

/** Position inside the tier's band, from the same signals, so equal tiers still sort. */
function score(tier: RiskTier, patch: AssessedPatch, device: AssessedDevice): number {
  const asset = { low: 0, medium: 0.5, high: 1, critical: 1 }[device.criticality];
  const intensity =
    0.5 * ((patch.cvss ?? 0) / 10) +
    0.3 * (patch.epss ?? 0) +
    0.1 * (device.internetExposed ? 1 : 0) +
    0.1 * asset;
  const floor = TIERS.indexOf(tier) * 20;
  const width = tier === 'emergency' ? 20 : 19;
  return floor + Math.round(intensity * width);
}

// --- CISA SSVC decision tables, transcribed from CISA's published CSVs. -----------------

export type SsvcExploitation = 'none' | 'public_poc' | 'active';
export type SsvcTechnicalImpact = 'partial' | 'total';
export type SsvcMissionImpact = 'low' | 'medium' | 'high';
/** CISA levels; "track*" is track with closer monitoring for changes. */
export type SsvcDecision = 'track' | 'track*' | 'attend' | 'act';

/** Inputs of the CISA coordinator tree (SSVC 2.0.3). */
export interface SsvcInput {
  exploitation: SsvcExploitation;
  automatable: boolean;
  technicalImpact: SsvcTechnicalImpact;
  missionWellbeing: SsvcMissionImpact;
}

type ByImpact<T> = Record<SsvcTechnicalImpact, T>;
// exploitation → automatable (no/yes) → technical impact → [low, medium, high] mission.
const COORDINATOR: Record<SsvcExploitation, [ByImpact<SsvcDecision[]>, ByImpact<SsvcDecision[]>]> =
  {
    none: [
      { partial: ['track', 'track', 'track'], total: ['track', 'track', 'track*'] },
      { partial: ['track', 'track', 'attend'], total: ['track', 'track', 'attend'] },
    ],
    public_poc: [
      { partial: ['track', 'track', 'track*'], total: ['track', 'track*', 'attend'] },
      { partial: ['track', 'track', 'attend'], total: ['track', 'track*', 'attend'] },
    ],
    active: [
      { partial: ['track', 'track', 'attend'], total: ['track', 'attend', 'act'] },
      { partial: ['attend', 'attend', 'act'], total: ['attend', 'act', 'act'] },
    ],
  };
const MISSION_INDEX: Record<SsvcMissionImpact, number> = { low: 0, medium: 1, high: 2 };

/** CISA's coordinator decision (track / track* / attend / act) for a vulnerability. */
export function ssvcDecision(input: SsvcInput): SsvcDecision {
  const row = COORDINATOR[input.exploitation][input.automatable ? 1 : 0][input.technicalImpact];
  const decision = row[MISSION_INDEX[input.missionWellbeing]];
  if (!decision) throw new Error(`ssvc: no decision for ${JSON.stringify(input)}`);
  return decision;
}

/** Remediation timelines of CISA BOD 26-04 as its SSVC table names them. */
export type BodTimeline =
  'fix on system upgrade' | '60 days' | '14 days' | '3 days' | '3 days & forensic investigation';

/** Inputs of the BOD 26-04 table. */
export interface BodInput {
  kev: boolean;
  publiclyExposed: boolean;
  automatable: boolean;
  technicalImpact: SsvcTechnicalImpact;
}

const UPGRADE = 'fix on system upgrade';
const FORENSIC = '3 days & forensic investigation';
// Key: KEV, publicly exposed, automatable as y/n → { partial, total } technical impact.
const BOD_26_04: Record<string, ByImpact<BodTimeline>> = {
  nnn: { partial: UPGRADE, total: UPGRADE },
  ynn: { partial: '14 days', total: '14 days' },
  nyn: { partial: '60 days', total: '14 days' },
  nny: { partial: '60 days', total: '60 days' },
  yyn: { partial: '14 days', total: FORENSIC },
  yny: { partial: '14 days', total: FORENSIC },
  nyy: { partial: '14 days', total: '3 days' },
  yyy: { partial: '3 days', total: FORENSIC },
};

/** The remediation timeline CISA BOD 26-04 requires for a vulnerability. */
export function bodRemediation(input: BodInput): BodTimeline {
  const yn = (b: boolean): string => (b ? 'y' : 'n');
  const key = yn(input.kev) + yn(input.publiclyExposed) + yn(input.automatable);
  const row = BOD_26_04[key];
  if (!row) throw new Error(`bod 26-04: no row for ${JSON.stringify(input)}`);
  return row[input.technicalImpact];
}
