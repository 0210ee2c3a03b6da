import type { View } from '@slack/types';
import { percent } from '../../cli/format.js';
import { esc } from '../cards/block-kit.js';
import { PRIVATE, clientsFor, readableClients, type ChatUser } from '../commands/access.js';
import type { SlackDeps } from './app.js';

const section = (text: string) => ({
  type: 'section' as const,
  text: { type: 'mrkdwn' as const, text: text.slice(0, 3000) },
});

/**
 * App Home: the user's pending approvals, running rollouts, compliance per client (≤ 100
 * blocks). It is the user's own tab, not a channel: only clients they approve or view.
 */
export async function homeView(
  d: Pick<SlackDeps, 'store' | 'policies'>,
  user: ChatUser,
): Promise<View> {
  const clientIds = await d.store.cards.clientIds();
  const mine = new Set(clientsFor(d.policies, clientIds, user));
  const visible = new Set(readableClients(d.policies, clientIds, user, PRIVATE));
  const open = (await d.store.cards.openRollouts(1_000))
    .filter((r) => visible.has(r.clientId))
    .slice(0, 50);
  const pending = open.filter((r) => r.phase === 'awaiting_approval' && mine.has(r.clientId));
  // Everything else open that they may see, awaiting someone else's approval included.
  const waiting = new Set(pending.map((r) => r.id));
  const running = open.filter((r) => !waiting.has(r.id));
  const compliance = new Map<string, { devices: number; compliant: number; breaches: number }>();
  for (const r of await d.store.compliance.snapshot()) {
    if (!visible.has(r.clientId)) continue;
    const c = compliance.get(r.clientId) ?? { devices: 0, compliant: 0, breaches: 0 };
    c.devices += r.devices;
    c.compliant += r.complianceRate * r.devices;
    c.breaches += r.slaBreaches;
    compliance.set(r.clientId, c);
  }
  const blocks = [
    { type: 'header' as const, text: { type: 'plain_text' as const, text: 'patchops' } },
    section(
      `*Waiting for your approval* (${pending.length})\n${
        pending.map((r) => `• \`${esc(r.id)}\` — ${esc(r.clientId)}`).join('\n') ||
        (mine.size ? 'Nothing right now.' : '_You are not an approver for any client._')
      }`,
    ),
    { type: 'divider' as const },
    section(
      `*Running rollouts* (${running.length})\n${
        running
          .slice(0, 30)
          .map(
            (r) =>
              `• \`${esc(r.id)}\` — ${esc(r.clientId)}: ${r.phase}${r.paused ? ' (paused)' : ''}`,
          )
          .join('\n') || 'None.'
      }`,
    ),
    { type: 'divider' as const },
    section(
      `*Compliance per client*\n${
        [...compliance]
          .map(
            ([id, c]) =>
              `• ${esc(id)}: ${percent(c.devices ? c.compliant / c.devices : 1)} on ${c.devices} devices, ${c.breaches} SLA breaches`,
          )
          .join('\n') ||
        (visible.size ? 'No devices scanned yet.' : '_You approve or view no client._')
      }`,
    ),
    {
      type: 'context' as const,
      elements: [
        {
          type: 'mrkdwn' as const,
          text: `Updated ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC · /patch help`,
        },
      ],
    },
  ];
  return { type: 'home', blocks };
}
