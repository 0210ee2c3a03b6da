import { condition, patched, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { CycleState } from './cycle-state.js';
import type { DecisionResult } from './messages.js';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 10 },
});

/**
 * Waits durably for a human decision: reminds every `remindEveryMs`, escalates once after
 * `escalateAfterMs`, and applies the policy's timeout outcome after `afterMs`. A defer
 * sleeps and asks again. Returns the final decision (approve or reject).
 */
export async function approvalGate(rolloutId: string, state: CycleState): Promise<DecisionResult> {
  const wf = workflowInfo().workflowId;
  const t = state.settings!.approvalTimeout;
  for (let round = 0; ; round++) {
    state.phase = 'awaiting_approval';
    state.decision = null;
    // Several approvers (an emergency): each round asks all of them again.
    if ((state.settings?.requiredApprovals ?? 1) > 1) state.approvedBy = [];
    await acts.notify({
      rolloutId,
      kind: 'approval_request',
      idempotencyKey: `${wf}:approval:${round}`,
    });
    const started = Date.now();
    let reminders = 0;
    let escalated = false;
    while (!state.decision && !state.cancelled) {
      const waited = Date.now() - started;
      if (waited >= t.afterMs) {
        state.decision = { decision: t.outcome, decidedBy: 'policy:timeout', status: state.phase };
        await acts.recordDecision({
          rolloutId,
          decision: state.decision,
          via: 'timeout',
          idempotencyKey: `${wf}:decision:${round}`,
        });
        break;
      }
      const nextReminder = (reminders + 1) * t.remindEveryMs;
      const escalateAt = t.escalateAfterMs !== null && !escalated ? t.escalateAfterMs : Infinity;
      const wakeAt = Math.min(nextReminder, escalateAt, t.afterMs);
      if (
        await condition(
          () => state.decision !== null || state.cancelled !== null,
          Math.max(1, wakeAt - waited),
        )
      )
        break;
      const now = Date.now() - started;
      if (now >= escalateAt && !escalated) {
        escalated = true;
        await acts.notify({
          rolloutId,
          kind: 'approval_escalation',
          to: t.escalateTo,
          idempotencyKey: `${wf}:escalate:${round}`,
        });
      } else if (now >= nextReminder && now < t.afterMs) {
        reminders++;
        await acts.notify({
          rolloutId,
          kind: 'approval_reminder',
          idempotencyKey: `${wf}:remind:${round}:${reminders}`,
        });
      }
    }
    if (state.cancelled) return cancelled(state.cancelled);
    const decision = state.decision!;
    if (decision.decision !== 'defer') return decision;
    state.phase = 'deferred';
    const wait = state.deferMs ?? t.afterMs;
    // A cancel during the defer ends the rollout now, not when the defer runs out.
    if (patched('cancel-during-defer')) {
      if (await condition(() => state.cancelled !== null, wait)) return cancelled(state.cancelled!);
    } else await sleep(wait);
  }
}

function cancelled(c: NonNullable<CycleState['cancelled']>): DecisionResult {
  return { decision: 'reject', decidedBy: `cancel:${c.by}`, status: 'cancelled' };
}
