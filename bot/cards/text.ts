import type { RiskInputs } from '../../domain/risk-order.js';
import type { DEFER_DAYS, CardAction, CardRing, RolloutCard } from './model.js';

/** Plain-text pieces both renderers share, so Slack and Teams say the same thing. */

export const clip = (s: string, max: number): string =>
  s.length <= max ? s : `${s.slice(0, Math.max(0, max - 1))}…`;

export function severityLine(c: RolloutCard): string {
  const parts = (['critical', 'important', 'moderate', 'low'] as const)
    .filter((s) => c.severity[s] > 0)
    .map((s) => `${c.severity[s]} ${s}`);
  return parts.length ? parts.join(' · ') : 'no rated patches';
}

export function ringLine(r: CardRing): string {
  const done = r.succeeded + r.failed + r.skipped;
  const bits = [`${done}/${r.devices} done`];
  if (r.succeeded) bits.push(`${r.succeeded} ok`);
  if (r.failed) bits.push(`${r.failed} failed`);
  if (r.skipped) bits.push(`${r.skipped} skipped`);
  if (r.running) bits.push(`${r.running} running`);
  return `${r.name}: ${bits.join(', ')}`;
}

/** An alert card's headline when it is re-rendered: halted, or which rings have failures. */
export function alertHeadline(c: RolloutCard): string {
  if (c.phase === 'halted') return 'Halted';
  const rings = c.rings.filter((r) => r.failed > 0).map((r) => r.name);
  if (rings.length === 0) return 'Failures';
  return `Failures in ring${rings.length > 1 ? 's' : ''} ${rings.join(', ')}`;
}

export function decisionLine(c: RolloutCard): string | null {
  const d = c.decision;
  if (!d) return null;
  const verb =
    d.decision === 'approve' ? 'Approved' : d.decision === 'reject' ? 'Rejected' : 'Deferred';
  const who = d.by.replace(/^(slack|teams|cli):/, '');
  const utc = (iso: string) => `${iso.replace('T', ' ').slice(0, 16)} UTC`;
  return `${verb} by ${who} (${d.via}) at ${utc(d.at)}${
    d.decision === 'defer' && d.until ? ` until ${utc(d.until)}` : ''
  }${d.reason ? ` — "${clip(d.reason, 300)}"` : ''}`;
}

export function highlightLines(c: RolloutCard): string[] {
  return c.highlights.map(
    (h) =>
      `${h.kev ? '[KEV] ' : ''}${h.patchId} ${clip(h.title, 80)} — ${h.cves.slice(0, 3).join(', ')}${
        h.cves.length > 3 ? ` +${h.cves.length - 3}` : ''
      }${h.cvss !== null ? ` (CVSS ${h.cvss.toFixed(1)})` : ''}`,
  );
}

export const BUTTON_TEXT: Record<CardAction, string> = {
  approve: 'Approve',
  reject: 'Reject',
  defer: 'Defer',
  details: 'View details',
  promote: 'Promote',
  pause: 'Pause',
  resume: 'Resume',
  cancel: 'Cancel rollout',
};

export const deferLabel = (days: (typeof DEFER_DAYS)[number]): string =>
  `Defer ${days} day${days === 1 ? '' : 's'}`;

/** The card as one paragraph of text: notification fallbacks and the log notifier. */
export function cardSummary(c: RolloutCard): string {
  return `${c.headline}: rollout ${c.rolloutId} for ${c.clientName} — ${c.patchCount} patches (${severityLine(
    c,
  )}) on ${c.deviceCount} devices`;
}

const FTC_LABEL: Record<RiskInputs['ftc'], string> = {
  security_software: 'security software',
  operating_system: 'operating system',
  browser: 'browser',
  other_app: 'app',
};
const EXPLOITATION_WEIGHT = { none: 1, public_poc: 2, active: 3 } as const;
const CRITICALITY_WEIGHT = { low: 1, medium: 2, high: 3, critical: 4 } as const;
const utcMinute = (iso: string) => `${iso.replace('T', ' ').slice(0, 16)} UTC`;

/** The tier and due date of a rollout's most urgent patch, for the card's facts. */
export function urgencyLine(u: NonNullable<RolloutCard['urgency']>): string {
  return `${u.tier} — due ${utcMinute(u.dueAt)}`;
}

/**
 * Why a patch sits where it does in the deployment order, in three lines: tier and due
 * date; the tie-breaker with its factors; the raw inputs (CVE, KEV, EPSS, exposure …).
 */
export function riskLines(r: RiskInputs): string[] {
  const cvss = r.cvss === null ? 'CVSS n/a (vendor severity)' : `CVSS ${r.cvss}`;
  const epss = r.epss === null ? '' : ` + EPSS ${r.epss}`;
  return [
    `${r.tier} (${r.timeline}) · due ${utcMinute(r.dueAt)} · ${FTC_LABEL[r.ftc]}`,
    `tie-breaker ${r.tieBreaker} = ${cvss} × (${r.exploitation} ${EXPLOITATION_WEIGHT[r.exploitation]}${epss}) × ${r.criticality} criticality ${CRITICALITY_WEIGHT[r.criticality]}`,
    [
      r.cve ?? 'no CVE listed',
      r.kev ? `KEV${r.kevDueDate ? ` (CISA due ${r.kevDueDate})` : ''}` : 'not in KEV',
      r.internetExposed ? 'internet-exposed' : 'not exposed',
      r.automatable ? 'automatable' : 'not automatable',
      `${r.technicalImpact} impact`,
      `on ${r.deviceId}`,
      r.source === 'intel' ? 'intel' : 'vendor data',
    ].join(' · '),
  ];
}
