import {
  CancellationScope,
  ParentClosePolicy,
  condition,
  isCancellation,
  patched,
  proxyActivities,
  startChild,
  workflowInfo,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { breakerTripped, type CycleState } from './cycle-state.js';
import { deviceRollout, type DeviceRolloutResult } from './device-rollout.js';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 10 },
});

const PAGE = 100;
/**
 * Keep the parent's history well under Temporal's 10,240-event warning. No child starts
 * past the budget, but the ones running still end (a completion and a workflow task, ~5
 * events each), so the budget shrinks with the ring's concurrency. Up to concurrency 200
 * it is the 8,000 that recorded histories were made with.
 */
const historyBudget = (concurrency: number) => Math.min(8_000, 9_200 - 5 * concurrency);

export type RingOutcome = 'done' | 'halted' | 'cancelled' | 'continue_as_new';

/**
 * Deploys one ring through deviceRollout children with a sliding window of at most
 * `concurrency` running at once. Device ids come from PostgreSQL a page at a time; the
 * cursor lives in `state`, so the ring resumes after continue-as-new.
 */
export async function runRing(rolloutId: string, state: CycleState): Promise<RingOutcome> {
  const settings = state.settings!;
  const ringSettings = settings.rings[state.ringIndex]!;
  const progress = state.rings[state.ringIndex]!;
  const running = new Map<string, Promise<void>>();
  let buffer: string[] = [];
  let finished = 0;
  let alerted = false;
  const wf = workflowInfo().workflowId;
  // Children start inside this scope, so a cancel of the rollout reaches every running device.
  const scope = new CancellationScope();

  const track = (deviceId: string, handle: ChildWorkflowHandle<typeof deviceRollout>) => {
    const done = handle.result().then(
      (r: DeviceRolloutResult) => count(r.outcome),
      // A device cancelled with the rollout recorded itself as cancelled: not a failure.
      (err: unknown) => count(isCancellation(err) ? 'cancelled' : 'failed'),
    );
    running.set(
      deviceId,
      done.finally(() => running.delete(deviceId)),
    );
  };
  const count = (outcome: DeviceRolloutResult['outcome']) => {
    finished++;
    if (outcome === 'succeeded') progress.succeeded++;
    else if (outcome === 'failed') progress.failed++;
    else progress.skipped++;
  };
  const mustStop = () => state.cancelled !== null || state.haltReason !== null;
  const historyFull = () =>
    workflowInfo().continueAsNewSuggested ||
    workflowInfo().historyLength > historyBudget(ringSettings.concurrency);

  while (!mustStop()) {
    await condition(() => !state.paused || state.cancelled !== null);
    if (mustStop()) break;
    if (buffer.length === 0 && !state.ringExhausted) {
      buffer = await acts.ringPage({
        rolloutId,
        ringIndex: state.ringIndex,
        after: state.cursor,
        limit: PAGE,
      });
      if (buffer.length < PAGE) state.ringExhausted = true;
    }
    if (buffer.length === 0 && running.size === 0) break;
    if (buffer.length > 0 && running.size < ringSettings.concurrency && !historyFull()) {
      const deviceId = buffer.shift()!;
      state.cursor = deviceId;
      progress.started++;
      const handle = await scope.run(() =>
        startChild(deviceRollout, {
          workflowId: `${wf}/device/${deviceId}`,
          args: [{ rolloutId, deviceId, settings }],
          parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        }),
      );
      track(deviceId, handle);
      continue;
    }
    if (running.size === 0 && historyFull()) break;
    const seen = finished;
    await condition(() => finished > seen || state.cancelled !== null);
    if (breakerTripped(progress, settings.circuitBreaker)) {
      state.haltReason = `circuit breaker: ${progress.failed} of ${progress.succeeded + progress.failed} devices failed in ring ${ringSettings.name}`;
    }
    // The first failure in a ring tells people, with Pause / Resume / Cancel on the alert.
    if (!state.haltReason && !alerted && progress.failed > 0 && patched('ring-failure-alert')) {
      alerted = true;
      await acts.notify({
        rolloutId,
        kind: 'failure_alert',
        ring: ringSettings.name,
        idempotencyKey: `${wf}:failures:${ringSettings.name}`,
      });
    }
  }
  // On cancel, running devices are cancelled (each records itself as cancelled); on halt
  // they finish what they started. Either way the ring waits for them.
  if (state.cancelled) scope.cancel();
  await Promise.all(running.values());
  if (state.cancelled) return 'cancelled';
  if (state.haltReason) return 'halted';
  // Unstarted devices remain (paged cursor) and history is full: resume in a new run.
  if (buffer.length > 0 || !state.ringExhausted) {
    // The cursor is the last device started: the next run pages on from there.
    state.ringExhausted = false;
    return 'continue_as_new';
  }
  return 'done';
}
