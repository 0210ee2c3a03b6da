import type { RolloutSettings } from '../domain/rollout-settings.js';
import type { DecisionResult, Progress, RingProgress, RolloutPhase } from './messages.js';

/** Everything patchCycle carries across continue-as-new: small, no device lists. */
export interface CycleState {
  phase: RolloutPhase;
  settings: RolloutSettings | null;
  decision: DecisionResult | null;
  /** How long the last defer decision asked to wait. */
  deferMs: number | null;
  ringIndex: number;
  /** Last device id started in the current ring (keyset cursor into rollout_devices). */
  cursor: string | null;
  /** Batches the batched engine has formed so far, over all rings (the last batch's number). */
  batches?: number;
  /** The current ring has no more pages to start. */
  ringExhausted: boolean;
  rings: RingProgress[];
  ticketId: string | null;
  haltReason: string | null;
  paused: boolean;
  cancelled: { by: string; reason?: string } | null;
  /**
   * Who approved so far in this approval round, when the rollout needs approvals from
   * several different people (an emergency's `approvals: 2`); absent otherwise.
   */
  approvedBy?: string[];
}

export function initialState(): CycleState {
  return {
    phase: 'planning',
    settings: null,
    decision: null,
    deferMs: null,
    ringIndex: 0,
    cursor: null,
    ringExhausted: false,
    rings: [],
    ticketId: null,
    haltReason: null,
    paused: false,
    cancelled: null,
  };
}

export function toProgress(rolloutId: string, s: CycleState): Progress {
  return {
    rolloutId,
    phase: s.phase,
    paused: s.paused,
    currentRing: s.rings[s.ringIndex]?.name ?? null,
    rings: s.rings,
    decision: s.decision,
    haltReason: s.haltReason,
  };
}

/** Failure rate among finished devices, and whether the breaker trips. */
export function breakerTripped(ring: RingProgress, cb: RolloutSettings['circuitBreaker']): boolean {
  const finished = ring.succeeded + ring.failed;
  return finished >= cb.minSamples && ring.failed / finished > cb.maxFailureRate;
}

/** Success rate of a ring over devices that were attempted (skipped offline devices excluded). */
export function successRate(ring: RingProgress): number {
  const attempted = ring.succeeded + ring.failed;
  return attempted === 0 ? 1 : ring.succeeded / attempted;
}
