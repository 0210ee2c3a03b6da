import type { Notice } from '../adapters/chat/types.js';
import { effectivePolicy } from '../domain/policy/index.js';
import { UNSENT_BATCH, type ComplianceAlert } from '../store/alerts.js';
import { rethrow } from './failures.js';
import type { ActivityDeps } from './index.js';

const HOUR_MS = 3_600_000;
/** Lines one chat message lists; the rest are counted. */
const MAX_LINES = 40;

export interface AlertSettings {
  /** Alert on open pairs due within this many hours, overdue ones included (default 24). */
  dueWithinHours?: number;
  /** Alert on devices no scan has seen for this many days (default 7). */
  notSeenDays?: number;
}

/** "3d" / "5h" for a span of milliseconds. */
function span(ms: number): string {
  const h = Math.round(Math.abs(ms) / HOUR_MS);
  return h >= 48 ? `${Math.round(h / 24)}d` : `${h}h`;
}

/** One alert in words, as of `now`. */
export function alertLine(a: ComplianceAlert, now: Date): string {
  const patch = `${a.patchTitle ?? a.patchId ?? ''}${a.kev ? ' (KEV)' : ''}`;
  const left = a.occurrence.getTime() - now.getTime();
  switch (a.kind) {
    case 'sla_due':
      return left < 0
        ? `• SLA breached: ${a.hostname} – ${patch} overdue by ${span(left)}`
        : `• SLA due: ${a.hostname} – ${patch} due in ${span(left)}`;
    case 'patch_failed':
      return `• Failed: ${a.hostname} – ${patch}${a.detail ? `: ${a.detail}` : ''}`;
    case 'not_seen':
      return `• Not seen: ${a.hostname} – no scan for ${span(left)}`;
  }
}

export function alertText(clientId: string, alerts: readonly ComplianceAlert[], now: Date): string {
  const lines = alerts.slice(0, MAX_LINES).map((a) => alertLine(a, now));
  const more = alerts.length - lines.length;
  return [
    `*Compliance alerts for ${clientId}* (${alerts.length} new)`,
    ...lines,
    ...(more > 0 ? [`…and ${more} more (patchops report --client ${clientId})`] : []),
    ...(alerts.length >= UNSENT_BATCH ? ['More alerts wait for the next run.'] : []),
  ].join('\n');
}

/**
 * The daily check: SLA breaches due within a day, failed patches and devices not seen by a
 * scan. Each alert is raised once per device × patch × occurrence (store/alerts.ts), posted
 * to the client's chat in one message, and — where the client's policy has
 * `tickets.incidentOnFailure` — raised as an incident on the change ticket of the rollout
 * the pair belongs to. Posts and incidents are claimed under keys made of the alert ids, so
 * a retry repeats nothing; the alerts are marked sent last.
 */
export function createAlertActivities({ store, notifiers, itsm, policies, log }: ActivityDeps) {
  async function incidents(clientId: string, alerts: readonly ComplianceAlert[], now: Date) {
    const tickets = effectivePolicy(policies, { clientId, siteId: '', groups: [] }).policy.tickets;
    if (!tickets?.incidentOnFailure) return 0;
    const byRollout = new Map<string, ComplianceAlert[]>();
    for (const a of alerts)
      if (a.rolloutId && a.kind !== 'not_seen')
        byRollout.set(a.rolloutId, [...(byRollout.get(a.rolloutId) ?? []), a]);
    let opened = 0;
    for (const [rolloutId, list] of byRollout) {
      const change = (await store.tickets.ofRollout(rolloutId)).find((t) => t.role === 'change');
      if (!change) continue;
      const key = `alerts:${rolloutId}:${list[0]!.id}-${list[list.length - 1]!.id}:incident`;
      const claim = await store.claims.claim(key, 'ticket.incident', rolloutId);
      if (claim.state === 'done') continue;
      const failed = list.filter((a) => a.kind === 'patch_failed').length;
      const due = list.length - failed;
      const incident = await itsm
        .openIncident(
          { externalId: change.externalId, number: change.number, url: change.url },
          {
            rolloutId,
            clientId,
            title: `Patch compliance: ${failed} failed, ${due} SLA due or breached (${rolloutId})`,
            description: alertText(clientId, list, now).replace(/\*/g, ''),
            urgency: list.some((a) => a.kev) ? 1 : 2,
            routing: {
              ...(tickets.assignmentGroup ? { assignmentGroup: tickets.assignmentGroup } : {}),
              ...(tickets.project ? { project: tickets.project } : {}),
              ...(tickets.repo ? { repo: tickets.repo } : {}),
              ...(tickets.labels ? { labels: tickets.labels } : {}),
            },
          },
          { key, recheck: claim.state === 'recheck' },
        )
        .catch(rethrow);
      await store.tickets.save({ rolloutId, kind: itsm.kind, role: 'incident', ...incident, key });
      await store.claims.complete(key, incident.externalId);
      opened++;
    }
    return opened;
  }

  return {
    async sendComplianceAlerts(
      a: { clientId: string } & AlertSettings,
    ): Promise<{ raised: number; sent: number; posts: number; incidents: number }> {
      const now = new Date();
      const raised = await store.alerts.raise({
        asOf: now,
        clientId: a.clientId,
        dueWithinHours: a.dueWithinHours ?? 24,
        notSeenDays: a.notSeenDays ?? 7,
      });
      const alerts = await store.alerts.unsent(a.clientId);
      if (alerts.length === 0) return { raised, sent: 0, posts: 0, incidents: 0 };
      const batch = `alerts:${a.clientId}:${alerts[0]!.id}-${alerts[alerts.length - 1]!.id}`;
      const notice: Notice = {
        rolloutId: '',
        clientId: a.clientId,
        kind: 'failure_alert',
        text: alertText(a.clientId, alerts, now),
      };
      let posts = 0;
      for (const n of notifiers) {
        for (const conversation of await n.targets(a.clientId)) {
          const key = `${batch}:${n.platform}:${conversation}`;
          const claim = await store.alerts.claimPost({
            platform: n.platform,
            conversation,
            purpose: 'compliance_alert',
            key,
          });
          if (claim.state === 'done') continue;
          const found = claim.state === 'retry' ? await n.find?.(conversation, key) : undefined;
          const message = found ?? (await n.post(conversation, notice, { key }));
          await store.alerts.completePost(key, message.messageRef);
          posts++;
        }
      }
      const opened = await incidents(a.clientId, alerts, now);
      await store.alerts.markSent(alerts.map((x) => x.id));
      log.info({ clientId: a.clientId, raised, sent: alerts.length, posts }, 'compliance alerts');
      return { raised, sent: alerts.length, posts, incidents: opened };
    },
  };
}
