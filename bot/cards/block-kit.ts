import type { Block, Button, KnownBlock, View } from '@slack/types';
import {
  DEFER_DAYS,
  encodeAction,
  type CardAction,
  type PatchPage,
  type RolloutCard,
} from './model.js';
import {
  BUTTON_TEXT,
  cardSummary,
  clip,
  decisionLine,
  deferLabel,
  highlightLines,
  ringLine,
  riskLines,
  severityLine,
  urgencyLine,
} from './text.js';

/**
 * Block Kit rendering of the card model. Limits (docs.slack.dev/reference/block-kit):
 * 50 blocks per message, 3,000 chars per section text, 75 per button text, 2,000 per
 * button value, 25 elements per actions block; the renderer clips rather than fails.
 */
export const SLACK_LIMITS = {
  blocks: 50,
  modalBlocks: 100,
  sectionText: 3000,
  buttonText: 75,
  buttonValue: 2000,
  fieldText: 2000,
} as const;

type Blocks = Array<KnownBlock | Block>;

const field = (text: string) => ({
  type: 'mrkdwn' as const,
  text: clip(text, SLACK_LIMITS.fieldText),
});
const md = (text: string) => ({
  type: 'mrkdwn' as const,
  text: clip(text, SLACK_LIMITS.sectionText),
});
/** Escapes &, < and > as Slack's mrkdwn requires. */
export const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** action_id encodes the verb; value carries the payload. */
export const actionId = (a: CardAction, suffix = ''): string => `patchops.${a}${suffix}`;

function button(c: RolloutCard, a: CardAction): Button {
  const style =
    a === 'approve' ? 'primary' : a === 'reject' || a === 'cancel' ? 'danger' : undefined;
  return {
    type: 'button' as const,
    action_id: actionId(a),
    text: { type: 'plain_text' as const, text: clip(BUTTON_TEXT[a], SLACK_LIMITS.buttonText) },
    value: encodeAction({
      action: a,
      rolloutId: c.rolloutId,
      round: c.round,
      ...(a === 'promote' && c.promoteRing ? { ring: c.promoteRing } : {}),
    }),
    ...(style ? { style } : {}),
  };
}

function deferMenu(c: RolloutCard) {
  return {
    type: 'static_select' as const,
    action_id: actionId('defer'),
    placeholder: { type: 'plain_text' as const, text: 'Defer…' },
    options: DEFER_DAYS.map((days) => ({
      text: { type: 'plain_text' as const, text: deferLabel(days) },
      value: encodeAction({ action: 'defer', rolloutId: c.rolloutId, round: c.round, days }),
    })),
  };
}

export function renderBlocks(c: RolloutCard): Blocks {
  const blocks: Blocks = [
    {
      type: 'header',
      text: { type: 'plain_text', text: clip(`${c.headline} — ${c.clientName}`, 150) },
    },
    {
      type: 'section',
      text: md(
        `*Rollout* \`${esc(c.rolloutId)}\`\n*Patches:* ${c.patchCount} (${severityLine(c)}) · *Devices:* ${c.deviceCount}`,
      ),
      fields: [
        field(`*Window*\n${esc(c.window)}`),
        field(
          `*Ticket*\n${c.ticket ? (c.ticket.url ? `<${c.ticket.url}|${esc(c.ticket.id)}>` : esc(c.ticket.id)) : 'none'}`,
        ),
        field(`*CVEs*\n${c.cveCount}${c.kevCount ? ` · *${c.kevCount} on CISA KEV*` : ''}`),
        field(`*Rings*\n${c.rings.map((r) => `${esc(r.name)} ${r.devices}`).join(' · ') || '-'}`),
        ...(c.urgency ? [field(`*Most urgent*\n${esc(urgencyLine(c.urgency))}`)] : []),
      ],
    },
  ];
  const hl = highlightLines(c);
  if (hl.length)
    blocks.push({
      type: 'section',
      text: md(`*Highlights*\n${hl.map((l) => `• ${esc(l)}`).join('\n')}`),
    });
  if (c.phase !== 'awaiting_approval' && c.phase !== 'planning' && c.rings.length)
    blocks.push({
      type: 'section',
      text: md(`*Progress*\n${c.rings.map((r) => `• ${esc(ringLine(r))}`).join('\n')}`),
    });
  if (c.haltReason) blocks.push({ type: 'section', text: md(`:warning: *${esc(c.haltReason)}*`) });
  const decided = decisionLine(c);
  if (decided) blocks.push({ type: 'context', elements: [md(esc(decided))] });
  if (c.actions.length)
    blocks.push({
      type: 'actions',
      block_id: `patchops.actions.${c.round}`,
      elements: c.actions.map((a) => (a === 'defer' ? deferMenu(c) : button(c, a))),
    });
  blocks.push({
    type: 'context',
    elements: [md(`Updated ${c.updatedAt.replace('T', ' ').slice(0, 19)} UTC · patchops`)],
  });
  return blocks.slice(0, SLACK_LIMITS.blocks);
}

/** The message's `text`: notifications and screen readers use it. */
export const renderFallbackText = (c: RolloutCard): string => clip(cardSummary(c), 3000);

/** The reject modal: asks for a reason; private_metadata carries the click. */
export function rejectModal(rolloutId: string, round: number, channel: string, ts: string): View {
  return {
    type: 'modal',
    callback_id: 'patchops.reject',
    private_metadata: JSON.stringify({ rolloutId, round, channel, ts }),
    title: { type: 'plain_text', text: 'Reject rollout' },
    submit: { type: 'plain_text', text: 'Reject' },
    close: { type: 'plain_text', text: 'Back' },
    blocks: [
      { type: 'section', text: md(`Reject \`${esc(rolloutId)}\`? Nothing will be deployed.`) },
      {
        type: 'input',
        block_id: 'reason',
        label: { type: 'plain_text', text: 'Reason' },
        element: {
          type: 'plain_text_input',
          action_id: 'value',
          multiline: true,
          min_length: 3,
          max_length: 500,
        },
      },
    ],
  };
}

/** "View details": one page of the patch list, with paging buttons, within modal limits. */
export function detailsModal(p: PatchPage): View {
  const rows = p.patches.map((x) =>
    md(
      `*${esc(x.patchId)}* ${esc(clip(x.title, 120))}\n${x.severity}${x.kev ? ' · *KEV*' : ''} · ${x.decision} · ${x.devices} devices${
        x.cves.length
          ? `\n${x.cves.slice(0, 8).join(', ')}${x.cves.length > 8 ? ` +${x.cves.length - 8}` : ''}`
          : ''
      }${x.risk ? `\n${riskLines(x.risk).map(esc).join('\n')}` : ''}`,
    ),
  );
  const nav = [];
  if (p.page > 0)
    nav.push({
      type: 'button' as const,
      action_id: actionId('details', '.prev'),
      text: { type: 'plain_text' as const, text: 'Previous' },
      value: encodeAction({ action: 'details', rolloutId: p.rolloutId, page: p.page - 1 }),
    });
  if (p.page + 1 < p.pages)
    nav.push({
      type: 'button' as const,
      action_id: actionId('details', '.next'),
      text: { type: 'plain_text' as const, text: 'Next' },
      value: encodeAction({ action: 'details', rolloutId: p.rolloutId, page: p.page + 1 }),
    });
  return {
    type: 'modal',
    callback_id: 'patchops.details',
    title: { type: 'plain_text', text: 'Rollout patches' },
    close: { type: 'plain_text', text: 'Close' },
    blocks: [
      {
        type: 'section',
        text: md(`\`${esc(p.rolloutId)}\` — ${p.total} patches, page ${p.page + 1} of ${p.pages}`),
      },
      ...rows.map((text) => ({ type: 'section' as const, text })),
      ...(nav.length ? [{ type: 'actions' as const, elements: nav }] : []),
    ],
  };
}
