import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { TicketEvent } from '../activities/tickets.js';
import { approvalsMissing, type EmergencyRequest } from '../domain/emergency.js';
import type { PolicyDocument } from '../domain/policy/schema.js';
import { approvalGate } from './approval-gate.js';
import { checkInput, mustBeApprover, refuse, validateControl } from './controls.js';
import { initialState, successRate, toProgress, type CycleState } from './cycle-state.js';
import {
  INVALID_INPUT,
  INVALID_STATE,
  approversQuery,
  cancelSignal,
  cancelUpdate,
  decideUpdate,
  pauseSignal,
  pauseUpdate,
  progressQuery,
  promoteUpdate,
  resumeSignal,
  resumeUpdate,
  type ControlInput,
  type ControlResult,
  type DecisionInput,
  type PromoteInput,
  type RolloutPhase,
} from './messages.js';
import { runRingBatched } from './batch-ring.js';
import { runRing } from './ring.js';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 10 },
});
// The ticket follows the rollout, but an ITSM outage never stops patching: a sync that
// keeps failing is given up and the next one makes up for it.
const itsm = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '2 minutes', maximumAttempts: 12 },
});
// Scanning and planning a whole client wait on the RMM and PostgreSQL; they heartbeat.
const long = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '1 minute',
});

export interface PatchCycleInput {
  rolloutId: string;
  clientId: string;
  startedBy: string;
  /** A policy for this rollout only (`rollout start --policy`): replaces the client's own. */
  policyOverride?: PolicyDocument;
  /** An emergency rollout: only this CVE's devices and patches, the policy's emergency block. */
  emergency?: EmergencyRequest;
  /**
   * How rings deploy: `batched` (the default) runs devices in batches through one
   * heartbeating activity each; `per-device` is the older design, a child workflow per
   * device, kept for running histories and for bench/rollout's comparison.
   */
  engine?: 'batched' | 'per-device';
  /** Carried across continue-as-new; absent on the first run. */
  state?: CycleState;
}

/**
 * The patch lifecycle of one client: scan → assess → ticket → approval → rings (window,
 * deploy, soak, gate) → verify → report. Device lists stay in PostgreSQL; this workflow
 * holds ids, counters and a cursor, and continues as new when its history grows.
 */
export async function patchCycle(input: PatchCycleInput): Promise<CycleState> {
  const { rolloutId, clientId } = input;
  const state = input.state ?? initialState();
  const wf = workflowInfo().workflowId;
  let promoted: string | null = null;

  setHandler(progressQuery, () => toProgress(rolloutId, state));
  // Pause and resume take effect at once; the workflow then records who (status, card,
  // audit), so a CLI signal is as visible as a chat button. Repeats change nothing.
  const control = async (what: 'pause' | 'resume', by: string) => {
    if (state.paused === (what === 'pause')) return;
    state.paused = what === 'pause';
    if (!patched('record-pause-resume')) return;
    await acts.recordControl({
      rolloutId,
      what,
      by,
      phase: state.phase,
      idempotencyKey: `${wf}:${what}:${workflowInfo().historyLength}`,
    });
  };
  setHandler(pauseSignal, (s) => control('pause', s.by));
  setHandler(resumeSignal, (s) => control('resume', s.by));
  setHandler(cancelSignal, (c) => void (state.cancelled ??= c));
  setHandler(approversQuery, () => state.settings?.approvers ?? null);
  // The Updates behind pause / resume / cancel: the validator checks who asks and whether it
  // makes sense now, and a rejected one leaves no history. A repeated update id is one action.
  for (const [update, what] of [
    [pauseUpdate, 'pause'],
    [resumeUpdate, 'resume'],
    [cancelUpdate, 'cancel'],
  ] as const) {
    setHandler(
      update,
      async (c): Promise<ControlResult> => {
        const by = `${c.approver.via}:${c.approver.id}`;
        if (what === 'cancel')
          state.cancelled ??= { by, ...(c.reason ? { reason: c.reason } : {}) };
        else await control(what, by);
        return { action: what, by, phase: state.phase, paused: state.paused };
      },
      { validator: (c: ControlInput) => validateControl(what, state, rolloutId, clientId, c) },
    );
  }
  setHandler(
    decideUpdate,
    async (d) => {
      // A rollout that needs several different approvers (an emergency's `approvals: 2`)
      // records each approval and decides with the last one.
      const missing = approvalsStillNeeded(state, d);
      if (missing > 0) {
        state.approvedBy = [...(state.approvedBy ?? []), approverKey(d.approver)];
        const partial = {
          decision: 'approve' as const,
          decidedBy: `${d.approver.via}:${d.approver.id}`,
          status: state.phase,
        };
        await acts.recordDecision({
          rolloutId,
          decision: partial,
          via: d.approver.via,
          tenant: d.approver.tenant ?? null,
          reason: d.reason,
          approvalsMissing: missing,
          idempotencyKey: `${wf}:decide:${workflowInfo().historyLength}`,
        });
        return partial;
      }
      state.decision = {
        decision: d.decision,
        decidedBy: `${d.approver.via}:${d.approver.id}`,
        status: state.phase,
        // Workflow time is deterministic; the gate's timer starts in this same task.
        ...(d.decision === 'defer' && d.deferMs
          ? { until: new Date(Date.now() + d.deferMs).toISOString() }
          : {}),
      };
      state.deferMs = d.deferMs ?? null;
      await acts.recordDecision({
        rolloutId,
        decision: state.decision,
        via: d.approver.via,
        tenant: d.approver.tenant ?? null,
        reason: d.reason,
        idempotencyKey: `${wf}:decide:${workflowInfo().historyLength}`,
      });
      return state.decision;
    },
    {
      // A rejected update leaves no trace in history: the clicker is told why, nothing changes.
      validator: (d: DecisionInput) => {
        checkInput(d.approver, d.reason);
        if (state.phase !== 'awaiting_approval' || state.decision !== null) {
          throw refuse(
            INVALID_STATE,
            `rollout ${rolloutId} is not awaiting approval (it is ${state.phase})`,
          );
        }
        mustBeApprover(state, rolloutId, clientId, d.approver);
        if (d.decision === 'approve' && state.approvedBy?.includes(approverKey(d.approver)))
          throw refuse(
            INVALID_STATE,
            `you already approved rollout ${rolloutId}; it needs ${state.settings?.requiredApprovals ?? 1} approvals from different people`,
          );
        if (d.decision === 'defer' && !(d.deferMs && d.deferMs > 0))
          throw refuse(INVALID_INPUT, 'defer needs deferMs > 0');
      },
    },
  );
  setHandler(
    promoteUpdate,
    async (p) => {
      promoted = p.ring;
      const promotedBy = `${p.approver.via}:${p.approver.id}`;
      // Who promoted goes into the approvals table and the audit trail, as decisions do.
      if (patched('record-promotion')) {
        await acts.recordPromotion({
          rolloutId,
          ring: p.ring,
          promotedBy,
          via: p.approver.via,
          tenant: p.approver.tenant ?? null,
          idempotencyKey: `${wf}:promoted:${p.ring}`,
        });
      }
      return { ring: p.ring, promotedBy };
    },
    {
      validator: (p: PromoteInput) => {
        checkInput(p.approver, undefined, p.ring);
        const ring = state.settings?.rings[state.ringIndex + 1];
        if (state.phase !== 'awaiting_promotion' || !ring || ring.name !== p.ring) {
          throw refuse(
            INVALID_STATE,
            `ring ${p.ring} is not awaiting promotion (rollout is ${state.phase}${ring && state.phase === 'awaiting_promotion' ? `, next ring is ${ring.name}` : ''})`,
          );
        }
        mustBeApprover(state, rolloutId, clientId, p.approver);
      },
    },
  );

  const setPhase = async (phase: RolloutPhase, note?: string) => {
    state.phase = phase;
    await acts.recordPhase({
      rolloutId,
      phase,
      note,
      idempotencyKey: `${wf}:phase:${phase}:${state.ringIndex}`,
    });
  };
  const syncTicket = async (event: TicketEvent) => {
    if (!state.ticketId || !patched('ticket-follows-rollout')) return;
    try {
      await itsm.syncTicket({ rolloutId, clientId, event, tickets: state.settings?.tickets });
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
    }
  };
  const end = async (phase: RolloutPhase, note: string) => {
    await CancellationScope.nonCancellable(async () => {
      await setPhase(phase, note);
      const follows = !!state.ticketId && patched('ticket-follows-rollout');
      await acts.finishRollout({
        rolloutId,
        clientId,
        phase,
        note,
        ticketId: state.ticketId,
        ticketFollows: follows,
        idempotencyKey: `${wf}:finish`,
      });
      if (follows) await syncTicket({ kind: 'end', phase, note });
    });
    return state;
  };

  if (!input.state) {
    let plan: Awaited<ReturnType<Activities['planRollout']>>;
    let prepared = false;
    try {
      await long.prepareRollout({ rolloutId, clientId, startedBy: input.startedBy });
      prepared = true;
      // Planning a big fleet takes minutes (about 2 at 100,000 devices): the long proxy, which
      // heartbeats, not the one-minute one. Activity options are not part of replay.
      plan = await long.planRollout({
        rolloutId,
        clientId,
        policyOverride: input.policyOverride,
        ...(input.emergency ? { emergency: input.emergency } : {}),
      });
      state.settings = plan.settings;
      state.rings = plan.ringSizes.map((total, i) => ({
        name: plan.settings.rings[i]!.name,
        total,
        started: 0,
        succeeded: 0,
        failed: 0,
        skipped: 0,
      }));
      state.ticketId = (
        await acts.openTicket({
          rolloutId,
          clientId,
          idempotencyKey: `${wf}:ticket`,
          settings: plan.settings,
          ...(input.emergency ? { emergency: true } : {}),
        })
      ).ticketId;
    } catch (err) {
      // A rollout that cannot be planned says so (status failed, the reason in its note)
      // instead of showing "planning" for ever; the workflow still fails with the reason.
      if (!(err instanceof ActivityFailure) || isCancellation(err)) throw err;
      // Before prepareRollout has made the rollout's row there is nothing to record it in
      // (an unknown client): the workflow's failure is the record, and `status` reads it.
      if (!prepared || !patched('record-planning-failure')) throw err;
      const note = `planning failed: ${err.cause?.message ?? err.message}`;
      await end('failed', note);
      throw ApplicationFailure.create({
        type: 'PLANNING_FAILED',
        message: note,
        nonRetryable: true,
      });
    }
    if (plan.ringSizes.every((n) => n === 0)) return end('completed', 'nothing to deploy');
    if (plan.needsApproval) {
      const decision = await approvalGate(rolloutId, state);
      if (state.cancelled) return end('cancelled', `cancelled by ${state.cancelled.by}`);
      if (decision.decision === 'reject')
        return end('rejected', `rejected by ${decision.decidedBy}`);
    }
    await syncTicket({ kind: 'decided', auto: !plan.needsApproval });
  }

  const settings = state.settings;
  if (!settings) throw ApplicationFailure.nonRetryable('rollout has no settings', 'INVALID_STATE');
  for (; state.ringIndex < settings.rings.length; state.ringIndex++) {
    const ring = settings.rings[state.ringIndex]!;
    if (state.phase !== 'deploying') {
      await setPhase('deploying', ring.name);
      await syncTicket({ kind: 'ring_started', ring: ring.name });
    }
    // Rollouts before the batched engine replay as they ran: a child workflow per device.
    const batched = input.engine !== 'per-device' && patched('batched-rings');
    const outcome = await (batched ? runRingBatched : runRing)(rolloutId, state);
    if (outcome === 'done') await syncTicket({ kind: 'ring_done', ring: ring.name });
    if (outcome === 'continue_as_new') {
      await condition(allHandlersFinished);
      return continueAsNew<typeof patchCycle>({ ...input, state });
    }
    if (outcome === 'cancelled') return end('cancelled', `cancelled by ${state.cancelled!.by}`);
    if (outcome === 'halted') {
      await acts.notify({ rolloutId, kind: 'halted', idempotencyKey: `${wf}:halted` });
      return end('halted', state.haltReason!);
    }
    const progress = state.rings[state.ringIndex]!;
    const rate = successRate(progress);
    if (rate < ring.successThreshold) {
      state.haltReason = `ring ${ring.name} succeeded on ${(rate * 100).toFixed(1)}% of devices, below the ${(ring.successThreshold * 100).toFixed(1)}% gate`;
      await acts.notify({ rolloutId, kind: 'halted', idempotencyKey: `${wf}:halted` });
      return end('halted', state.haltReason);
    }
    const next = settings.rings[state.ringIndex + 1];
    if (!next) break;
    await setPhase('soaking', ring.name);
    if (await condition(() => state.cancelled !== null, Math.max(1, ring.soakMs))) {
      return end('cancelled', `cancelled by ${state.cancelled!.by}`);
    }
    if (ring.promotion === 'manual') {
      await setPhase('awaiting_promotion', next.name);
      await acts.notify({
        rolloutId,
        kind: 'promotion_request',
        ring: next.name,
        idempotencyKey: `${wf}:promote:${next.name}`,
      });
      await condition(() => promoted === next.name || state.cancelled !== null);
      if (state.cancelled) return end('cancelled', `cancelled by ${state.cancelled.by}`);
    }
    state.cursor = null;
    state.ringExhausted = false;
    state.phase = 'planning'; // forces setPhase('deploying') for the next ring
  }
  await setPhase('verifying');
  // Devices that were waiting for a reboot are rescanned once more, rollout-wide.
  if (patched('verify-pending-reboots'))
    await long.verifyRollout({ rolloutId, idempotencyKey: `${wf}:verified` });
  await setPhase('reporting');
  await sleep(1); // let progress queries observe 'reporting' in order
  await condition(allHandlersFinished);
  return end('completed', 'all rings done');
}

/** One person: platform, workspace or tenant, and id (the same id elsewhere is someone else). */
const approverKey = (a: { via: string; tenant?: string | undefined; id: string }): string =>
  `${a.via}:${a.tenant ?? ''}:${a.id}`;

/** Approvals still needed after this one, when the rollout asks for several people; else 0. */
function approvalsStillNeeded(state: CycleState, d: DecisionInput): number {
  const required = state.settings?.requiredApprovals ?? 1;
  if (d.decision !== 'approve' || required <= 1) return 0;
  return approvalsMissing(required, [...(state.approvedBy ?? []), approverKey(d.approver)]);
}
