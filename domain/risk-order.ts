import type { Criticality, Patch } from './model.js';
import type { BodTimeline, SsvcExploitation, SsvcTechnicalImpact } from './ssvc.js';
import { tierRank, type AssessedDevice, type RiskAssessment, type RiskTier } from './risk.js';

/**
 * The order patches deploy in: most urgent risk tier, then the FTC's order of software
 * kinds, then the numeric tie-breaker; and the raw inputs behind a place in that order.
 * Pure.
 */

/**
 * The FTC's order for updates ("security software, operating system, browsers, then other
 * apps"). Security software: AV / EDR definitions and products; operating system: OS
 * kinds, drivers and firmware; browsers by product name; everything else is an app.
 */
export const FTC_GROUPS = [
  'security_software',
  'operating_system',
  'browser',
  'other_app',
] as const;
export type FtcGroup = (typeof FTC_GROUPS)[number];

const SECURITY_SOFTWARE =
  /defender|antivirus|anti-?malware|endpoint (protection|security)|sentinelone|crowdstrike|sophos|malwarebytes/i;
const BROWSER = /\b(chrome|chromium|firefox|edge|safari|brave|opera|vivaldi|browser)\b/i;

export function ftcGroup(p: Pick<Patch, 'kind' | 'category' | 'product'>): FtcGroup {
  if (p.category === 'definition' || SECURITY_SOFTWARE.test(p.product)) return 'security_software';
  if (p.kind === 'os' || p.kind === 'driver' || p.kind === 'firmware') return 'operating_system';
  if (BROWSER.test(p.product)) return 'browser';
  return 'other_app';
}

/** What orders patches: urgency, then FTC group, then the tie-breaker, then id. */
export interface Ranked {
  patchId: string;
  tier: RiskTier;
  ftc: FtcGroup;
  tieBreaker: number;
}

/** Most urgent tier first, then the FTC order, then the higher tie-breaker, then patch id. */
export function compareRanked(a: Ranked, b: Ranked): number {
  return (
    tierRank(a.tier) - tierRank(b.tier) ||
    FTC_GROUPS.indexOf(a.ftc) - FTC_GROUPS.indexOf(b.ftc) ||
    b.tieBreaker - a.tieBreaker ||
    (a.patchId < b.patchId ? -1 : a.patchId > b.patchId ? 1 : 0)
  );
}

/** The raw inputs behind a patch's place in the order, as stored and shown on cards. */
export interface RiskInputs {
  tier: RiskTier;
  timeline: BodTimeline;
  /** The deciding CVE (null: the patch names none). */
  cve: string | null;
  cvss: number | null;
  vector: string | null;
  epss: number | null;
  kev: boolean;
  kevDueDate: string | null;
  exploitation: SsvcExploitation;
  automatable: boolean;
  technicalImpact: SsvcTechnicalImpact;
  internetExposed: boolean;
  criticality: Criticality;
  tieBreaker: number;
  /** ISO 8601. */
  dueAt: string;
  ftc: FtcGroup;
  source: 'intel' | 'patch';
  /** The device these inputs come from (the patch's most urgent one). */
  deviceId: string;
}

export function riskInputs(
  risk: RiskAssessment,
  device: AssessedDevice & { id: string },
  ftc: FtcGroup,
): RiskInputs {
  const d = risk.deciding;
  return {
    tier: risk.tier,
    timeline: d.timeline,
    cve: d.cve,
    cvss: d.cvss,
    vector: d.vector,
    epss: d.epss,
    kev: d.kev,
    kevDueDate: d.kevDueDate,
    exploitation: d.exploitation,
    automatable: d.automatable,
    technicalImpact: d.technicalImpact,
    internetExposed: device.internetExposed,
    criticality: device.criticality,
    tieBreaker: risk.tieBreaker,
    dueAt: new Date(risk.dueAt).toISOString(),
    ftc,
    source: d.source,
    deviceId: device.id,
  };
}
