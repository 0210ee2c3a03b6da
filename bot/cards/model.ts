import { isFinal } from '../../domain/rollout-state.js';
import type { RiskTier } from '../../domain/risk.js';
import type { RiskInputs } from '../../domain/risk-order.js';
import type { RolloutPhase } from '../../workflows/messages.js';

/**
 * One approval-card model for every chat platform. Activities build it from the store and
 * the workflow's progress; bot/cards/block-kit.ts (Slack) and bot/teams/adaptive.ts (Teams) render it. A
 * renderer never looks anything up: what a card shows is all here.
 */

export type Severity = 'critical' | 'important' | 'moderate' | 'low' | 'none';
export const SEVERITIES: readonly Severity[] = ['critical', 'important', 'moderate', 'low', 'none'];

/** What a button does. Every platform sends back `{ action, rolloutId, round?, ring?, days? }`. */
export type CardAction =
  'approve' | 'reject' | 'defer' | 'details' | 'promote' | 'pause' | 'resume' | 'cancel';

export interface CardRing {
  name: string;
  devices: number;
  succeeded: number;
  failed: number;
  skipped: number;
  running: number;
}

export interface CardPatchHighlight {
  patchId: string;
  title: string;
  cves: string[];
  cvss: number | null;
  kev: boolean;
}

export interface CardDecision {
  decision: string;
  by: string;
  via: string;
  at: string;
  reason: string | null;
  /** For a defer: when approval is asked for again (ISO 8601). */
  until?: string | null;
}

/** What kind of message the card is: the rollout's main card or an alert beside it. */
export type CardKind = 'rollout' | 'promotion' | 'alert';

export interface RolloutCard {
  kind: CardKind;
  rolloutId: string;
  clientId: string;
  clientName: string;
  phase: RolloutPhase;
  paused: boolean;
  /** One line saying what the card wants from the reader. */
  headline: string;
  patchCount: number;
  deviceCount: number;
  severity: Record<Severity, number>;
  /** KEV-listed patches first, then highest CVSS; at most five. */
  highlights: CardPatchHighlight[];
  kevCount: number;
  cveCount: number;
  rings: CardRing[];
  currentRing: string | null;
  /** The most urgent risk tier among the patches it deploys and their earliest SLA due date. */
  urgency?: { tier: RiskTier; dueAt: string } | null;
  /** The maintenance window, in words ("Sun 02:00 for 4h, device time"). */
  window: string;
  ticket: { id: string; url: string | null } | null;
  decision: CardDecision | null;
  haltReason: string | null;
  /** The buttons this card carries now; none once decided and finished. */
  actions: CardAction[];
  /** Approval round: a decision click names the round it was made for. */
  round: number;
  /** For promotion cards: the ring waiting to start. */
  promoteRing: string | null;
  /** ISO time the card content was built. */
  updatedAt: string;
}

/** What a button carries back. Small, so it fits Slack's 2,000-char button value. */
export interface ActionPayload {
  action: CardAction;
  rolloutId: string;
  round?: number;
  ring?: string;
  /** For defer. */
  days?: number;
  /** For details: the page to show. */
  page?: number;
}

export const DEFER_DAYS = [1, 3, 7] as const;

export function encodeAction(p: ActionPayload): string {
  return JSON.stringify(p);
}

const ACTIONS = new Set<string>([
  'approve',
  'reject',
  'defer',
  'details',
  'promote',
  'pause',
  'resume',
  'cancel',
]);

/** Parses a button value from any platform; undefined for anything we did not send. */
export function decodeAction(raw: unknown): ActionPayload | undefined {
  let v: unknown = raw;
  if (typeof raw === 'string') {
    try {
      v = JSON.parse(raw);
    } catch {
      return undefined;
    }
  }
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.action !== 'string' || !ACTIONS.has(o.action)) return undefined;
  if (typeof o.rolloutId !== 'string' || !/^[\w.:-]{1,200}$/.test(o.rolloutId)) return undefined;
  const p: ActionPayload = { action: o.action as CardAction, rolloutId: o.rolloutId };
  if (typeof o.round === 'number' && Number.isInteger(o.round)) p.round = o.round;
  if (typeof o.ring === 'string') p.ring = o.ring;
  if (typeof o.days === 'number' && (DEFER_DAYS as readonly number[]).includes(o.days))
    p.days = o.days;
  if (typeof o.page === 'number' && Number.isInteger(o.page) && o.page >= 0) p.page = o.page;
  return p;
}

/** One page of the full patch list behind "View details". */
export interface PatchPage {
  rolloutId: string;
  page: number;
  pages: number;
  total: number;
  patches: Array<{
    patchId: string;
    title: string;
    severity: Severity;
    cves: string[];
    kev: boolean;
    decision: string;
    devices: number;
    /** Why it sits where it does in the deployment order (absent for plans made before tiers). */
    risk?: RiskInputs | null;
  }>;
}

export const DETAILS_PAGE_SIZE = 15;

export const isFinalPhase = (p: RolloutPhase): boolean => isFinal(p);

/** The buttons a card of this kind carries in this phase. */
export function actionsFor(kind: CardKind, phase: RolloutPhase, paused: boolean): CardAction[] {
  if (isFinalPhase(phase)) return ['details'];
  const control: CardAction[] = [paused ? 'resume' : 'pause', 'cancel'];
  if (kind === 'promotion')
    return phase === 'awaiting_promotion' ? ['promote', ...control] : control;
  if (kind === 'alert') return control;
  if (phase === 'awaiting_approval') return ['approve', 'reject', 'defer', 'details'];
  // A deferred rollout can be called off; there is nothing running to pause.
  if (phase === 'deferred') return ['cancel', 'details'];
  if (phase === 'planning') return ['details'];
  return [...control, 'details'];
}
