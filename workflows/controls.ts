import { ApplicationFailure } from '@temporalio/workflow';
import { isAuthorisedApprover } from '../domain/approvers.js';
import type { CycleState } from './cycle-state.js';
import {
  INVALID_INPUT,
  INVALID_STATE,
  MAX_RING_NAME,
  NOT_AUTHORISED,
  type Approver,
  type ControlInput,
  type RolloutPhase,
} from './messages.js';

/** Phases after which nothing can be paused, resumed or cancelled any more. */
const OVER: ReadonlySet<RolloutPhase> = new Set([
  'verifying',
  'reporting',
  'completed',
  'rejected',
  'halted',
  'cancelled',
  'failed',
]);

const MAX_ID = 256;
const MAX_REASON = 2_000;

/** A validator's refusal: a short message and a type the front doors branch on. */
export const refuse = (type: string, message: string) =>
  ApplicationFailure.create({ type, message, nonRetryable: true });

/** Inputs are bounded before anything quotes them back: a 100 KB name gets a short answer. */
export function checkInput(who: Approver, reason?: string, ring?: string): void {
  if (typeof who?.id !== 'string' || who.id.length === 0 || who.id.length > MAX_ID)
    throw refuse(INVALID_INPUT, `approver id must be 1 to ${MAX_ID} characters`);
  if (reason !== undefined && (typeof reason !== 'string' || reason.length > MAX_REASON))
    throw refuse(INVALID_INPUT, `reason must be at most ${MAX_REASON} characters`);
  if (
    ring !== undefined &&
    (typeof ring !== 'string' || ring.length === 0 || ring.length > MAX_RING_NAME)
  )
    throw refuse(INVALID_INPUT, `ring name must be 1 to ${MAX_RING_NAME} characters`);
}

/** Throws unless `who` approves for this rollout (its own policy, override included). */
export function mustBeApprover(
  state: CycleState,
  rolloutId: string,
  clientId: string,
  who: Approver,
): void {
  if (!state.settings)
    throw refuse(
      INVALID_STATE,
      `rollout ${rolloutId} is still planning: its approvers are known once planning ends, try again in a moment`,
    );
  if (!isAuthorisedApprover(state.settings.approvers, who))
    throw refuse(
      NOT_AUTHORISED,
      `${who.via} user ${who.id} is not an approver for client ${clientId}`,
    );
}

/** The validator of pause, resume and cancel: who asks, then whether it makes sense now. */
export function validateControl(
  what: 'pause' | 'resume' | 'cancel',
  state: CycleState,
  rolloutId: string,
  clientId: string,
  c: ControlInput,
): void {
  checkInput(c.approver, c.reason);
  mustBeApprover(state, rolloutId, clientId, c.approver);
  if (state.cancelled)
    throw refuse(
      INVALID_STATE,
      `rollout ${rolloutId} is already being cancelled (by ${state.cancelled.by})`,
    );
  const resumingLate = what === 'resume' && state.paused;
  if (OVER.has(state.phase) && !resumingLate)
    throw refuse(
      INVALID_STATE,
      `rollout ${rolloutId} is ${state.phase}: there is nothing to ${what}`,
    );
  if (what === 'pause' && state.paused)
    throw refuse(INVALID_STATE, `rollout ${rolloutId} is already paused`);
  if (what === 'resume' && !state.paused)
    throw refuse(INVALID_STATE, `rollout ${rolloutId} is not paused (it is ${state.phase})`);
}
