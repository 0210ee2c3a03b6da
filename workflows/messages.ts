import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

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

export type RolloutPhase =
  | 'planning'
  | 'awaiting_approval'
  | 'deferred'
  | 'waiting_window'
  | 'deploying'
  | 'soaking'
  | 'awaiting_promotion'
  | 'verifying'
  | 'reporting'
  | 'completed'
  | 'rejected'
  | 'halted'
  | 'cancelled';

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
export const pauseSignal = defineSignal<[{ by: string }]>('pause');
export const resumeSignal = defineSignal<[{ by: string }]>('resume');
export const cancelSignal = defineSignal<[{ by: string; reason?: string }]>('cancel');
export const progressQuery = defineQuery<Progress>('progress');
