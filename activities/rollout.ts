import { Context } from '@temporalio/activity';
import type { DecisionResult, RolloutPhase } from '../workflows/messages.js';
import { RmmError } from '../adapters/rmm/types.js';
import { statusOf } from '../domain/rollout-state.js';
import type { ActivityDeps } from './index.js';
import { ticketKeeper } from './tickets.js';

/** What the rollout-wide rescan of devices waiting for a reboot found (patch counts). */
export interface Verification {
  /** Devices rescanned. */
  devices: number;
  /** Pending patches the RMM now lists installed. */
  installed: number;
  /** Pending patches the RMM lists missing again. */
  failed: number;
  stillPending: number;
}

export function createRolloutActivities(deps: ActivityDeps) {
  const { store, rmm, log, publisher } = deps;
  const cards = publisher!;
  const tickets = ticketKeeper(deps);
  return {
    async ringPage(a: {
      rolloutId: string;
      ringIndex: number;
      after: string | null;
      limit: number;
    }): Promise<string[]> {
      return store.rollouts.ringPage(a.rolloutId, a.ringIndex, a.after, a.limit);
    },

    async recordDecision(a: {
      rolloutId: string;
      decision: DecisionResult;
      via: string;
      /** The decider's Slack workspace or Teams tenant (identity is platform, workspace, user). */
      tenant?: string | null;
      reason?: string | undefined;
      /** Approvals from other people still needed (several approvers): the rollout still waits. */
      approvalsMissing?: number;
      idempotencyKey: string;
    }): Promise<void> {
      const until = a.decision.until ?? null;
      await store.records.saveApproval({
        rolloutId: a.rolloutId,
        decision: a.decision.decision,
        decidedBy: a.decision.decidedBy,
        via: a.via,
        reason: a.reason ?? null,
        deferUntil: until,
        key: a.idempotencyKey,
      });
      await store.audit.append({
        idempotencyKey: a.idempotencyKey,
        actor: a.decision.decidedBy,
        action: `rollout.${a.decision.decision}`,
        subjectType: 'rollout',
        subjectId: a.rolloutId,
        rolloutId: a.rolloutId,
        data: {
          via: a.via,
          tenant: a.tenant ?? null,
          reason: a.reason ?? null,
          ...(until ? { until } : {}),
          ...(a.approvalsMissing ? { approvalsMissing: a.approvalsMissing } : {}),
        },
      });
      if (a.approvalsMissing) {
        cards.refresh(a.rolloutId);
        return;
      }
      if (a.decision.decision === 'approve')
        await store.rollouts.setPlannedPatchState(a.rolloutId, 'approved');
      // The card loses its decision buttons now, not when the next phase is recorded.
      const next = { approve: 'waiting_window', reject: 'rejected', defer: 'deferred' } as const;
      await store.cards.setPhase(a.rolloutId, next[a.decision.decision]);
      cards.refresh(a.rolloutId);
    },

    /**
     * The rollout-wide verification: rescans every device of the rollout still holding
     * patches that wait for a reboot. What the RMM now lists installed (the device has
     * rebooted since) becomes installed; what it lists missing again failed at the reboot;
     * the rest stays pending_reboot. Heartbeats its cursor, so a retry carries on.
     */
    async verifyRollout(a: { rolloutId: string; idempotencyKey: string }): Promise<Verification> {
      const ctx = Context.current();
      const resumed = ctx.info.heartbeatDetails as { after: string; v: Verification } | undefined;
      let after = resumed?.after ?? null;
      const v: Verification = resumed?.v ?? {
        devices: 0,
        installed: 0,
        failed: 0,
        stillPending: 0,
      };
      for (;;) {
        const page = await store.rollouts.pendingRebootPage(a.rolloutId, after, 100);
        if (page.length === 0) break;
        for (const { deviceId, patchIds } of page) {
          v.devices++;
          const seen = await Promise.all([
            rmm.installedPatches(deviceId),
            rmm.missingPatches(deviceId),
          ]).catch((err: unknown) => {
            // A device the RMM no longer knows stays as it was; outages are retried.
            if (err instanceof RmmError && !err.retryable) return undefined;
            throw err;
          });
          if (!seen) {
            v.stillPending += patchIds.length;
            continue;
          }
          const [installed, missing] = seen;
          const missingIds = new Set(missing.map((p) => p.id));
          const done = patchIds.filter((id) => installed.includes(id) && !missingIds.has(id));
          const lost = patchIds.filter((id) => missingIds.has(id));
          if (done.length)
            await store.inventory.setPatchState(deviceId, done, 'installed', a.rolloutId);
          if (lost.length) {
            await store.inventory.setPatchState(
              deviceId,
              lost,
              'failed',
              a.rolloutId,
              'missing again after the reboot',
            );
          }
          v.installed += done.length;
          v.failed += lost.length;
          v.stillPending += patchIds.length - done.length - lost.length;
        }
        after = page[page.length - 1]!.deviceId;
        ctx.heartbeat({ after, v });
      }
      const existing = await store.rollouts.get(a.rolloutId);
      await store.rollouts.setStatus(a.rolloutId, 'verifying', {
        ...existing?.summary,
        verification: v,
      });
      await store.audit.append({
        idempotencyKey: a.idempotencyKey,
        actor: 'patchops',
        action: 'rollout.verified',
        subjectType: 'rollout',
        subjectId: a.rolloutId,
        rolloutId: a.rolloutId,
        data: { ...v },
      });
      return v;
    },

    /**
     * A pause or resume took effect in the workflow: the rollout's status and card say so
     * and the audit trail names who, once per signal (whoever sent it: CLI, Slack, Teams).
     */
    async recordControl(a: {
      rolloutId: string;
      what: 'pause' | 'resume';
      by: string;
      phase: RolloutPhase;
      idempotencyKey: string;
    }): Promise<void> {
      const paused = a.what === 'pause';
      await store.rollouts.setStatus(
        a.rolloutId,
        paused ? 'paused' : (statusOf(a.phase) ?? 'deploying'),
      );
      await store.cards.setPaused(a.rolloutId, paused);
      await store.audit.append({
        idempotencyKey: a.idempotencyKey,
        actor: a.by,
        action: paused ? 'rollout.paused' : 'rollout.resumed',
        subjectType: 'rollout',
        subjectId: a.rolloutId,
        rolloutId: a.rolloutId,
        data: { phase: a.phase },
      });
      cards.refresh(a.rolloutId);
    },

    /** Who started which ring by hand: an approvals row and an audit event, once. */
    async recordPromotion(a: {
      rolloutId: string;
      ring: string;
      promotedBy: string;
      via: string;
      tenant?: string | null;
      idempotencyKey: string;
    }): Promise<void> {
      await store.records.saveApproval({
        rolloutId: a.rolloutId,
        decision: 'promote',
        decidedBy: a.promotedBy,
        via: a.via,
        reason: `ring ${a.ring}`,
        deferUntil: null,
        key: a.idempotencyKey,
      });
      const rollout = await store.rollouts.get(a.rolloutId);
      await store.audit.append({
        idempotencyKey: a.idempotencyKey,
        actor: a.promotedBy,
        action: 'rollout.promote',
        subjectType: 'rollout',
        subjectId: a.rolloutId,
        ...(rollout ? { clientId: rollout.clientId } : {}),
        rolloutId: a.rolloutId,
        data: { via: a.via, tenant: a.tenant ?? null, ring: a.ring },
      });
    },

    async recordPhase(a: {
      rolloutId: string;
      phase: RolloutPhase;
      note?: string | undefined;
      idempotencyKey: string;
    }): Promise<void> {
      const status = statusOf(a.phase);
      if (status) await store.rollouts.setStatus(a.rolloutId, status);
      await store.cards.setPhase(a.rolloutId, a.phase);
      if (a.phase !== 'planning' && a.phase !== 'awaiting_approval')
        await cards.ensureCard(a.rolloutId);
      await store.audit.append({
        idempotencyKey: a.idempotencyKey,
        actor: 'patchops',
        action: `rollout.${a.phase}`,
        subjectType: 'rollout',
        subjectId: a.rolloutId,
        rolloutId: a.rolloutId,
        data: { note: a.note ?? null },
      });
      cards.refresh(a.rolloutId);
    },

    /** Final status, summary numbers, closing ticket note. */
    async finishRollout(a: {
      rolloutId: string;
      clientId: string;
      phase: RolloutPhase;
      note: string;
      ticketId: string | null;
      /** The workflow syncs the ticket itself (syncTicket); histories from before it do not. */
      ticketFollows?: boolean;
      idempotencyKey: string;
    }): Promise<void> {
      // Pairs approved or scheduled on devices that never ran (halt, cancel) are missing.
      await store.rollouts.releaseUnsettledPatches(a.rolloutId);
      const rings = await store.rollouts.ringCounts(a.rolloutId);
      const existing = await store.rollouts.get(a.rolloutId);
      // The client's stored compliance snapshot is retaken now, so reports show the outcome.
      await store.compliance.takeSnapshots({ clientId: a.clientId });
      const compliance = await store.compliance.snapshot(a.clientId);
      await store.rollouts.setStatus(a.rolloutId, statusOf(a.phase) ?? 'failed', {
        ...existing?.summary,
        outcome: a.phase,
        note: a.note,
        rings,
        compliance,
      });
      // The client's share of devices with no overdue patch, over all its sites.
      const devices = compliance.reduce((n, r) => n + r.devices, 0);
      const rate =
        compliance.reduce((n, r) => n + r.complianceRate * r.devices, 0) / Math.max(1, devices);
      const text = `Rollout ${a.rolloutId} ${a.phase}: ${a.note}. ${a.clientId} compliance now ${(rate * 100).toFixed(1)}%.`;
      await cards.notify({
        rolloutId: a.rolloutId,
        kind: 'summary',
        key: `${a.idempotencyKey}:summary`,
        text,
      });
      if (a.ticketId && !a.ticketFollows) await tickets.closeLegacy(a.rolloutId, a.phase, a.note);
      log.info({ rolloutId: a.rolloutId, phase: a.phase }, a.note);
    },
  };
}
