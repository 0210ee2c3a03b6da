import type { RolloutPhase } from '../domain/rollout-state.js';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApproverSettings } from '../domain/rollout-settings.js';

/**
 * Every Update, Signal and Query of the patch workflows, defined once. The CLI, Slack and
 * Teams import these definitions; nobody spells a message name twice.
 */

export type DecisionVia = 'cli' | 'slack' | 'teams';

export interface Approver {
  /** CLI user name, Slack user id or AAD object id. */
  id: string;
  via: DecisionVia;
  /** Slack team id or AAD tenant id, when the platform has one. */
  tenant?: string;
  /** Groups the front door resolved for this user (Slack user groups …). */
  groups?: string[];
}

export interface DecisionInput {
  decision: 'approve' | 'reject' | 'defer';
  approver: Approver;
  reason?: string;
  /** For defer: how long, in ms. */
  deferMs?: number;
}

export interface DecisionResult {
  decision: DecisionInput['decision'];
  decidedBy: string;
  status: RolloutPhase;
  /** For defer: when the approval is asked for again (ISO 8601, UTC). */
  until?: string;
}

export interface PromoteInput {
  approver: Approver;
  ring: string;
}

export type { RolloutPhase } from '../domain/rollout-state.js';

export interface RingProgress {
  name: string;
  total: number;
  started: number;
  succeeded: number;
  failed: number;
  skipped: number;
}

export interface Progress {
  rolloutId: string;
  phase: RolloutPhase;
  paused: boolean;
  currentRing: string | null;
  rings: RingProgress[];
  decision: DecisionResult | null;
  haltReason: string | null;
}

export const decideUpdate = defineUpdate<DecisionResult, [DecisionInput]>('decide');
export const promoteUpdate = defineUpdate<{ ring: string; promotedBy: string }, [PromoteInput]>(
  'promote',
);
/** Pause, resume or cancel asked for by an approver (the Updates that replace the Signals). */
export interface ControlInput {
  approver: Approver;
  reason?: string;
}

export interface ControlResult {
  action: 'pause' | 'resume' | 'cancel';
  /** `via:id` of who asked. */
  by: string;
  phase: RolloutPhase;
  paused: boolean;
}

/** Longest ring name a promote may carry; policy ring names are short words. */
export const MAX_RING_NAME = 64;

/** Error types of Update validators: front doors branch on these, not on message text. */
export const NOT_AUTHORISED = 'NOT_AUTHORISED';
export const INVALID_STATE = 'INVALID_STATE';
export const INVALID_INPUT = 'INVALID_INPUT';

export const pauseUpdate = defineUpdate<ControlResult, [ControlInput]>('pauseRollout');
export const resumeUpdate = defineUpdate<ControlResult, [ControlInput]>('resumeRollout');
export const cancelUpdate = defineUpdate<ControlResult, [ControlInput]>('cancelRollout');
/**
 * Kept so running workflows and old clients still work: new callers use the Updates above,
 * which check who asks and say what happened.
 */
export const pauseSignal = defineSignal<[{ by: string }]>('pause');
export const resumeSignal = defineSignal<[{ by: string }]>('resume');
export const cancelSignal = defineSignal<[{ by: string; reason?: string }]>('cancel');
export const progressQuery = defineQuery<Progress>('progress');
/** The rollout's own approvers (its policy, --policy override included); null while planning. */
export const approversQuery = defineQuery<ApproverSettings | null>('approvers');
