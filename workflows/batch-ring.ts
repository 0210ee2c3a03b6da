import {
  ActivityFailure,
  CancellationScope,
  condition,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { BatchCounts } from '../store/batches.js';
import { breakerTripped, type CycleState } from './cycle-state.js';
import { failureReason } from './device-rollout.js';
import type { RingOutcome } from './ring.js';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 10 },
});
// Small PostgreSQL writes stay out of the task queue and out of the billed activities.
const local = proxyLocalActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 10 },
});
// One attempt moves a whole batch and polls its jobs; it heartbeats, so a dead worker is
// noticed in seconds and another picks the batch up where PostgreSQL says it stopped. A
// cancel takes effect at once: the open devices are recorded cancelled, and whatever the
// attempt still records afterwards is ignored (the first final outcome stays); the attempt
// itself learns of the cancel at its next heartbeat and starts nothing after it.
const batches = proxyActivities<Activities>({
  startToCloseTimeout: '4 hours',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

/** The most devices one batch activity drives at once. */
export const BATCH_MAX = 500;
const historyBudget = 8_000;

/**
 * Deploys one ring in batches: the ring's devices, in id order, a batch of up to
 * `concurrency` (at most BATCH_MAX) at a time, and as many batches at once as the ring's
 * concurrency allows, so no more devices are in flight than the policy says. Each batch is
 * one activity per round; a round ends when every due device of the batch is done or must
 * wait (a window, an offline retry, a postponed reboot), and one timer waits for the
 * earliest. The cursor lives in `state`, as runRing's does, so a ring survives
 * continue-as-new. Pause holds new batches and later rounds; cancel stops the running
 * attempts and ends their open devices as cancelled.
 */
export async function runRingBatched(rolloutId: string, state: CycleState): Promise<RingOutcome> {
  const settings = state.settings!;
  const ring = settings.rings[state.ringIndex]!;
  const progress = state.rings[state.ringIndex]!;
  const size = Math.max(1, Math.min(ring.concurrency, BATCH_MAX));
  const lanes = Math.max(1, Math.floor(ring.concurrency / size));
  const wf = workflowInfo().workflowId;
  const running = new Set<Promise<void>>();
  const scope = new CancellationScope();
  /** Rounds and batches ended so far: the ring loop wakes on each. */
  let changes = 0;
  let alerted = false;

  const mustStop = () => state.cancelled !== null || state.haltReason !== null;
  const historyFull = () =>
    workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > historyBudget;

  /** Adds what a batch newly ended to the ring's progress. */
  const counted = (before: BatchCounts, now: BatchCounts) => {
    progress.succeeded += now.succeeded - before.succeeded;
    progress.failed += now.failed - before.failed;
    progress.skipped += now.skipped - before.skipped + now.cancelled - before.cancelled;
  };

  const runBatch = async (batch: number): Promise<void> => {
    let seen: BatchCounts = { succeeded: 0, failed: 0, skipped: 0, cancelled: 0, open: 0 };
    for (;;) {
      let report;
      try {
        report = await scope.run(() =>
          batches.advanceBatch({ rolloutId, batch, workflowId: wf, settings }),
        );
      } catch (err) {
        if (isCancellation(err) || !(err instanceof ActivityFailure)) throw err;
        // Given up for good (the RMM refused the batch, credentials revoked): its open
        // devices fail with the cause instead of staying "deploying", and count as failed
        // for the circuit breaker and the gate.
        progress.failed += await acts.endOpenDevices({
          rolloutId,
          ringIndex: state.ringIndex,
          batch,
          outcome: 'failed',
          reason: failureReason(err),
        });
        return;
      }
      counted(seen, report.counts);
      seen = report.counts;
      changes++;
      if (report.nextAt === null) return;
      await scope.run(() => sleep(Math.max(1, report.nextAt! - Date.now())));
      await condition(() => !state.paused || state.cancelled !== null);
      if (state.cancelled) return;
    }
  };

  while (!mustStop()) {
    await condition(() => !state.paused || state.cancelled !== null);
    if (mustStop()) break;
    if (running.size < lanes && !state.ringExhausted && !historyFull()) {
      const batch = (state.batches ?? 0) + 1;
      const formed = await local.formBatch({
        rolloutId,
        ringIndex: state.ringIndex,
        after: state.cursor,
        limit: size,
        batch,
      });
      if (formed.size < size) state.ringExhausted = true;
      if (formed.size === 0) continue;
      state.batches = batch;
      state.cursor = formed.lastDeviceId;
      progress.started += formed.size;
      const p: Promise<void> = runBatch(batch)
        .catch((err: unknown) => {
          if (!isCancellation(err)) throw err;
        })
        .finally(() => {
          running.delete(p);
          changes++;
        });
      running.add(p);
      continue;
    }
    if (running.size === 0) break;
    const before = changes;
    await condition(() => changes > before || state.cancelled !== null);
    if (breakerTripped(progress, settings.circuitBreaker)) {
      state.haltReason = `circuit breaker: ${progress.failed} of ${progress.succeeded + progress.failed} devices failed in ring ${ring.name}`;
    }
    if (!state.haltReason && !alerted && progress.failed > 0) {
      alerted = true;
      await acts.notify({
        rolloutId,
        kind: 'failure_alert',
        ring: ring.name,
        idempotencyKey: `${wf}:failures:${ring.name}`,
      });
    }
  }
  // On cancel, running batches stop (the activity waits for its attempt to end) and their
  // open devices are recorded as cancelled; on halt they finish what they started.
  if (state.cancelled) scope.cancel();
  await Promise.all(running);
  if (state.cancelled) {
    progress.skipped += await CancellationScope.nonCancellable(() =>
      acts.endOpenDevices({
        rolloutId,
        ringIndex: state.ringIndex,
        outcome: 'cancelled',
        reason: 'rollout cancelled',
      }),
    );
    return 'cancelled';
  }
  if (state.haltReason) return 'halted';
  if (!state.ringExhausted) return 'continue_as_new';
  return 'done';
}
