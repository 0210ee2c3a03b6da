/**
 * The one model of where a rollout stands. The workflow moves through phases; PostgreSQL's
 * `rollouts.status` column holds a coarser word for lists and queries (its CHECK constraint
 * lists these statuses); cards and `status` show the phase. Every mapping between the two
 * lives here. Pure: workflows, store, bot and CLI import it.
 */

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
  | 'cancelled'
  /** Planning (scan, plan, ticket) failed; the note says why. */
  | 'failed';

/** What `rollouts.status` holds. */
export type RolloutStatus =
  | 'planning'
  | 'awaiting_approval'
  | 'deploying'
  | 'paused'
  | 'verifying'
  | 'completed'
  | 'rejected'
  | 'halted'
  | 'cancelled'
  | 'failed';

/** Phases (and statuses: the same words) after which a rollout changes no more. */
const FINAL = new Set<string>(['completed', 'rejected', 'halted', 'cancelled', 'failed']);

/** Whether a phase or a stored status is final. */
export const isFinal = (phaseOrStatus: string): boolean => FINAL.has(phaseOrStatus);

/**
 * The status a phase is stored as; undefined for the phases between (deferred, waiting for
 * a window, soaking, waiting for promotion, reporting), which keep the status they had.
 */
export function statusOf(phase: RolloutPhase): Extract<RolloutPhase, RolloutStatus> | undefined {
  switch (phase) {
    case 'planning':
    case 'awaiting_approval':
    case 'deploying':
    case 'verifying':
    case 'completed':
    case 'rejected':
    case 'halted':
    case 'cancelled':
    case 'failed':
      return phase;
    default:
      return undefined;
  }
}

/** The phase to show for a stored status when no phase was recorded (older rows). */
export function phaseOf(status: string): RolloutPhase {
  if (status === 'paused') return 'deploying';
  return statusOf(status as RolloutPhase) ?? 'planning';
}
