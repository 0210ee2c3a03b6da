/**
 * CISA's SSVC decision tables and the decision points patchops derives for them from
 * vulnerability intelligence. Pure and deterministic.
 */

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

// ---- decision points from intel -------------------------------------------------------

/** What a CVSS vector says about SSVC's Automatable and Technical Impact. */
export interface VectorPoints {
  automatable: boolean;
  technicalImpact: SsvcTechnicalImpact;
  /** SSVC exploitation the vector's Exploit Maturity (E) states, if it states one. */
  exploitMaturity?: SsvcExploitation;
}

/**
 * Reads Automatable and Technical Impact from a CVSS v2, v3.x or v4.0 vector:
 * - automatable: attack vector Network, no privileges (v2: no authentication) and no user
 *   interaction (v2 has no UI metric), i.e. an attacker can script it across the internet;
 * - total technical impact: High confidentiality and High integrity impact on the
 *   vulnerable system (v4: VC:H and VI:H; v2: C:C and I:C), i.e. full read and write;
 * - Exploit Maturity, when present: v3 P/F/H → public_poc, v4 P → public_poc, v4 A →
 *   active, U → none (a base vector from NVD rarely carries it).
 * Undefined when the text is not a CVSS vector.
 */
export function vectorPoints(vector: string): VectorPoints | undefined {
  const metrics = new Map<string, string>();
  for (const part of vector.trim().split('/')) {
    const [key, value] = part.split(':');
    if (key && value) metrics.set(key, value);
  }
  const version = metrics.get('CVSS') ?? '2.0';
  const av = metrics.get('AV');
  if (!av) return undefined;
  const v4 = version.startsWith('4');
  const v2 = !metrics.has('CVSS');
  const noPrivileges = v2 ? metrics.get('Au') === 'N' : metrics.get('PR') === 'N';
  const noInteraction = v2 || metrics.get('UI') === 'N';
  const high = v2 ? 'C' : 'H';
  const [c, i] = v4 ? ['VC', 'VI'] : ['C', 'I'];
  const out: VectorPoints = {
    automatable: av === 'N' && noPrivileges && noInteraction,
    technicalImpact: metrics.get(c) === high && metrics.get(i) === high ? 'total' : 'partial',
  };
  const e = metrics.get('E');
  if (e === 'U') out.exploitMaturity = 'none';
  else if (e === 'A' && v4) out.exploitMaturity = 'active';
  else if (e === 'P' || e === 'F' || e === 'H' || e === 'POC') out.exploitMaturity = 'public_poc';
  return out;
}

/** EPSS thresholds from CERT/CC's "Combining EPSS with other exploitation-related decision points". */
export const EPSS_ACTIVE = 0.9;
export const EPSS_BUMP = 0.75;
export const EPSS_POC_TO_ACTIVE = 0.55;

const ORDER: readonly SsvcExploitation[] = ['none', 'public_poc', 'active'];

/**
 * SSVC Exploitation from KEV, EPSS and the vector's Exploit Maturity, following CERT/CC's
 * example table: in KEV → active; EPSS > 0.9 → active; EPSS 0.75–0.9 raises the level one
 * step (none → public_poc, public_poc → active); EPSS 0.55–0.75 raises public_poc to
 * active; otherwise the Exploit Maturity stated in the vector, else none.
 */
export function exploitationOf(a: {
  kev: boolean;
  epss: number | null;
  exploitMaturity?: SsvcExploitation | undefined;
}): SsvcExploitation {
  if (a.kev) return 'active';
  const epss = a.epss ?? 0;
  if (epss > EPSS_ACTIVE) return 'active';
  const base = a.exploitMaturity ?? 'none';
  if (epss >= EPSS_BUMP) return ORDER[Math.min(ORDER.indexOf(base) + 1, 2)] ?? base;
  if (epss >= EPSS_POC_TO_ACTIVE && base === 'public_poc') return 'active';
  return base;
}
