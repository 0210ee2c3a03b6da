import { Context, sleep } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { DecisionResult, RolloutPhase } from '../workflows/messages.js';
import type { NoticeKind } from '../adapters/chat/types.js';
import { RmmError } from '../adapters/rmm/types.js';
import type { Patch } from '../domain/model.js';
import type { ScanResult } from '../store/inventory.js';
import type { ActivityDeps } from './index.js';
import { ticketKeeper } from './tickets.js';

const STATUS: Partial<
  Record<RolloutPhase, Parameters<ActivityDeps['store']['rollouts']['setStatus']>[1]>
> = {
  planning: 'planning',
  awaiting_approval: 'awaiting_approval',
  deploying: 'deploying',
  verifying: 'verifying',
  completed: 'completed',
  rejected: 'rejected',
  halted: 'halted',
  cancelled: 'cancelled',
};

/** How many devices' scan results are read from the RMM at once. */
const SCAN_READS_AT_ONCE = 10;

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
  const noticeText = async (
    rolloutId: string,
    kind: NoticeKind,
    ringName?: string,
    to: string[] = [],
  ): Promise<string> => {
    const r = await store.rollouts.get(rolloutId);
    const counts = await store.rollouts.ringCounts(rolloutId);
    const rings = counts.map((c) => `${c.ring} ${c.total}`).join(', ');
    const summary = r?.summary as { patches?: number; devices?: number } | undefined;
    const what = `${summary?.patches ?? 0} patches on ${summary?.devices ?? 0} devices (${rings})`;
    switch (kind) {
      case 'approval_request':
        return `Rollout ${rolloutId} for ${r?.clientId}: ${what} needs approval. patchops approve|reject|defer ${rolloutId} --as USER`;
      case 'approval_reminder':
        return `Reminder: rollout ${rolloutId} is still waiting for approval.`;
      case 'approval_escalation':
        return `Escalation${to.length ? ` to ${to.join(', ')}` : ''}: rollout ${rolloutId} for ${r?.clientId} has waited too long for approval (${what}).`;
      case 'promotion_request':
        return `Rollout ${rolloutId}: the previous ring soaked; promote ring ${ringName ?? 'next'} with patchops promote ${rolloutId}.`;
      case 'failure_alert': {
        // The workflow names the ring (histories from before it did: the first ring with failures).
        const ring = ringName
          ? counts.find((c) => c.ring === ringName)
          : counts.find((c) => (c.counts.failed ?? 0) > 0);
        return `Rollout ${rolloutId}: ${ring?.counts.failed ?? 'some'} device(s) failed in ring ${ringName ?? ring?.ring ?? '?'} — pause to investigate, or let it continue.`;
      }
      case 'halted':
        return `Rollout ${rolloutId} halted: ${(r?.summary as { haltReason?: string } | undefined)?.haltReason ?? 'see status'}`;
      default:
        return `Rollout ${rolloutId}: ${kind}`;
    }
  };

  const syncClient = async (clientId: string): Promise<void> => {
    const client = (await rmm.listClients()).find((c) => c.id === clientId);
    if (!client) {
      throw ApplicationFailure.create({
        type: 'CLIENT_NOT_FOUND',
        message: `client ${clientId} is not known to the ${rmm.kind} RMM`,
        nonRetryable: true,
      });
    }
    await store.inventory.upsertClients([client]);
    await store.inventory.upsertSites(await rmm.listSites(clientId));
  };

  /** Lists the client's devices page by page, scans each page and records what it found. */
  const scanDevices = async (clientId: string): Promise<number> => {
    const ctx = Context.current();
    let cursor: string | undefined;
    let devices = 0;
    do {
      const page = await rmm.listDevices(clientId, { limit: 200, ...(cursor ? { cursor } : {}) });
      await store.inventory.upsertDevices(page.devices);
      const { scanId } = await rmm.triggerScan(page.devices.map((d) => d.id));
      while (!(await rmm.readScan(scanId)).done) {
        ctx.heartbeat({ devices });
        await sleep(500);
      }
      // Devices' results are read a few at a time: over SSH each read is a round trip
      // to the host, and one after another they made the scan the slowest step. The
      // page's results are written together: three statements per page, not per device.
      const found: ScanResult[] = [];
      const patches: Patch[] = [];
      for (let i = 0; i < page.devices.length; i += SCAN_READS_AT_ONCE) {
        const batch = page.devices.slice(i, i + SCAN_READS_AT_ONCE);
        const results = await Promise.all(
          batch.map((d) => Promise.all([rmm.missingPatches(d.id), rmm.installedPatches(d.id)])),
        );
        for (const [j, [missing, installed]] of results.entries()) {
          patches.push(...missing);
          found.push({ deviceId: batch[j]!.id, missing: missing.map((p) => p.id), installed });
        }
      }
      await store.inventory.upsertPatches(patches);
      await store.inventory.recordScans(found);
      devices += page.devices.length;
      ctx.heartbeat({ devices });
      cursor = page.nextCursor;
    } while (cursor);
    return devices;
  };

  return {
    /** Creates the rollout row, syncs the client's inventory from the RMM and scans it. */
    async prepareRollout(a: {
      rolloutId: string;
      clientId: string;
      startedBy: string;
    }): Promise<{ devices: number }> {
      await syncClient(a.clientId);
      await store.rollouts.create({
        id: a.rolloutId,
        clientId: a.clientId,
        startedBy: a.startedBy,
        policy: {},
      });
      const devices = await scanDevices(a.clientId);
      await store.audit.append({
        idempotencyKey: `${a.rolloutId}:scanned`,
        actor: a.startedBy,
        action: 'rollout.scanned',
        subjectType: 'rollout',
        subjectId: a.rolloutId,
        clientId: a.clientId,
        rolloutId: a.rolloutId,
        data: { devices },
      });
      return { devices };
    },

    /** A scan on its own (scheduled or `patchops scan`): inventory and device × patch state. */
    async scanClient(a: { clientId: string; scanId: string }): Promise<{ devices: number }> {
      await syncClient(a.clientId);
      const devices = await scanDevices(a.clientId);
      await store.audit.append({
        idempotencyKey: `${a.scanId}:scanned`,
        actor: 'patchops',
        action: 'client.scanned',
        subjectType: 'client',
        subjectId: a.clientId,
        clientId: a.clientId,
        data: { devices, scanId: a.scanId },
      });
      return { devices };
    },

    async ringPage(a: {
      rolloutId: string;
      ringIndex: number;
      after: string | null;
      limit: number;
    }): Promise<string[]> {
      return store.rollouts.ringPage(a.rolloutId, a.ringIndex, a.after, a.limit);
    },

    /** Posts a notice once per key: a retried activity finds the message already recorded. */
    async notify(a: {
      rolloutId: string;
      kind: NoticeKind;
      /** The ring a failure alert is about, or the ring a promotion request starts. */
      ring?: string;
      /** Whom an escalation goes to (the policy's approvalTimeout.escalateTo). */
      to?: string[];
      idempotencyKey: string;
    }): Promise<void> {
      if (a.kind === 'approval_request')
        await store.cards.setPhase(a.rolloutId, 'awaiting_approval');
      const text = await noticeText(a.rolloutId, a.kind, a.ring, a.to);
      await cards.notify({
        rolloutId: a.rolloutId,
        kind: a.kind,
        key: a.idempotencyKey,
        text,
        ...(a.kind === 'promotion_request' && a.ring ? { promoteRing: a.ring } : {}),
      });
    },

    async recordDecision(a: {
      rolloutId: string;
      decision: DecisionResult;
      via: string;
      reason?: string | undefined;
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
        data: { via: a.via, reason: a.reason ?? null, ...(until ? { until } : {}) },
      });
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
        paused ? 'paused' : (STATUS[a.phase] ?? 'deploying'),
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
        data: { via: a.via, ring: a.ring },
      });
    },

    async recordPhase(a: {
      rolloutId: string;
      phase: RolloutPhase;
      note?: string | undefined;
      idempotencyKey: string;
    }): Promise<void> {
      const status = STATUS[a.phase];
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
      const compliance = await store.compliance.snapshot(a.clientId);
      await store.rollouts.setStatus(a.rolloutId, STATUS[a.phase] ?? 'failed', {
        ...existing?.summary,
        outcome: a.phase,
        note: a.note,
        rings,
        compliance,
      });
      const rate =
        compliance.reduce((n, r) => n + r.installed, 0) /
        Math.max(
          1,
          compliance.reduce((n, r) => n + r.applicable, 0),
        );
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
