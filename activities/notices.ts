import type { NoticeKind } from '../adapters/chat/types.js';
import type { ActivityDeps } from './index.js';

/** Notices to chat (approval requests, reminders, escalations, failure alerts …) and their wording. */
export function createNoticeActivities(deps: ActivityDeps) {
  const { store, publisher } = deps;
  const cards = publisher!;
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

  return {
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
  };
}
