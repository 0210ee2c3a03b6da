import { phaseOf } from '../../domain/rollout-state.js';
import type { Store } from '../../store/index.js';
import type { RingCounts } from '../../store/rollouts.js';
import type { Progress, RolloutPhase } from '../../workflows/messages.js';
import {
  actionsFor,
  isFinalPhase,
  DETAILS_PAGE_SIZE,
  SEVERITIES,
  type CardKind,
  type CardRing,
  type PatchPage,
  type RolloutCard,
  type Severity,
} from './model.js';

const HEADLINE: Partial<Record<RolloutPhase, string>> = {
  planning: 'Planning',
  awaiting_approval: 'Approval needed',
  deferred: 'Deferred — approval will be asked again',
  waiting_window: 'Waiting for the maintenance window',
  deploying: 'Deploying',
  soaking: 'Soaking before the next ring',
  awaiting_promotion: 'Waiting for promotion to the next ring',
  verifying: 'Verifying by rescan',
  reporting: 'Reporting',
  completed: 'Completed',
  rejected: 'Rejected',
  halted: 'Halted',
  cancelled: 'Cancelled',
  failed: 'Failed',
};

export interface BuildOptions {
  kind?: CardKind;
  /** The workflow's own progress, when the caller has it (it wins over the store). */
  progress?: Progress;
  round?: number;
  promoteRing?: string | null;
  /** Override of the headline (alerts say what went wrong). */
  headline?: string;
}

/** Builds the card for a rollout from PostgreSQL (and the workflow's progress when given). */
export async function buildRolloutCard(
  store: Store,
  rolloutId: string,
  opts: BuildOptions = {},
): Promise<RolloutCard | undefined> {
  const facts = await store.cards.facts(rolloutId);
  if (!facts) return undefined;
  const kind = opts.kind ?? 'rollout';
  const p = opts.progress;
  const phase: RolloutPhase = p?.phase ?? facts.phase ?? phaseOf(facts.status);
  const paused = p?.paused ?? facts.paused;
  const [ringCounts, urgency] = await Promise.all([
    store.rollouts.ringCounts(rolloutId),
    store.risk.urgency(rolloutId),
  ]);
  const rings: CardRing[] = ringCounts.map((r) => {
    const c = r.counts;
    const running = (c.deploying ?? 0) + (c.rebooting ?? 0) + (c.waiting_window ?? 0);
    return {
      name: r.ring,
      devices: r.total,
      succeeded: c.succeeded ?? 0,
      failed: c.failed ?? 0,
      skipped: (c.skipped ?? 0) + (c.offline ?? 0) + (c.cancelled ?? 0),
      running,
    };
  });
  const severity = Object.fromEntries(SEVERITIES.map((s) => [s, facts.severity[s] ?? 0])) as Record<
    Severity,
    number
  >;
  const summary = facts.summary as { window?: string; haltReason?: string; note?: string };
  const haltReason = p?.haltReason ?? (phase === 'halted' ? (summary.note ?? null) : null);
  return {
    kind,
    rolloutId,
    clientId: facts.clientId,
    clientName: facts.clientName,
    phase,
    paused,
    headline:
      opts.headline ??
      `${HEADLINE[phase] ?? phase}${paused && !isFinalPhase(phase) ? ' (paused)' : ''}`,
    patchCount: facts.patchCount,
    deviceCount: facts.deviceCount,
    severity,
    highlights: facts.highlights,
    kevCount: facts.kevCount,
    cveCount: facts.cveCount,
    rings,
    currentRing: p?.currentRing ?? null,
    urgency: urgency ? { tier: urgency.tier, dueAt: urgency.dueAt.toISOString() } : null,
    window: summary.window ?? 'as the policy allows',
    ticket: facts.ticket,
    decision: facts.decision
      ? {
          decision: facts.decision.decision,
          by: facts.decision.by,
          via: facts.decision.via,
          at: facts.decision.at.toISOString(),
          reason: facts.decision.reason,
          until: facts.decision.until?.toISOString() ?? null,
        }
      : null,
    haltReason,
    actions: actionsFor(kind, phase, paused),
    round: opts.round ?? facts.round,
    // The Promote button names the ring it starts: the workflow's validator refuses any other.
    promoteRing: kind === 'promotion' ? (opts.promoteRing ?? nextRing(phase, p, ringCounts)) : null,
    updatedAt: new Date().toISOString(),
  };
}

/** The ring a rollout waiting for promotion starts next, as its workflow reports it. */
export function awaitingPromotion(p: Progress): string | null {
  if (p.phase !== 'awaiting_promotion') return null;
  const current = p.rings.findIndex((r) => r.name === p.currentRing);
  return current >= 0 ? (p.rings[current + 1]?.name ?? null) : null;
}

/**
 * The ring a promotion card's button starts. The workflow knows it exactly; without its
 * progress, rings start in order, so it is the first ring none of whose devices started.
 */
function nextRing(
  phase: RolloutPhase,
  p: Progress | undefined,
  rings: readonly RingCounts[],
): string | null {
  if (phase !== 'awaiting_promotion') return null;
  if (p) return awaitingPromotion(p);
  return rings.find((r) => r.total > 0 && (r.counts.pending ?? 0) === r.total)?.ring ?? null;
}

/** One page of "View details". */
export async function buildPatchPage(
  store: Store,
  rolloutId: string,
  page: number,
): Promise<PatchPage> {
  // Deployment order, with the risk inputs that put each patch where it is.
  const r = await store.risk.patchPage(rolloutId, page, DETAILS_PAGE_SIZE);
  return {
    rolloutId,
    page,
    pages: Math.max(1, Math.ceil(r.total / DETAILS_PAGE_SIZE)),
    total: r.total,
    patches: r.patches.map(({ rank: _rank, ...x }) => ({ ...x, severity: x.severity as Severity })),
  };
}
