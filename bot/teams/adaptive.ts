import {
  DEFER_DAYS,
  type ActionPayload,
  type CardAction,
  type CardKind,
  type PatchPage,
  type RolloutCard,
} from '../cards/model.js';
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
} from '../cards/text.js';

/**
 * Adaptive Card rendering of the card model (schema 1.5, Universal Actions). Buttons are
 * Action.Execute (an `adaptiveCard/action` invoke whose response replaces the card for the
 * clicker) with an Action.Submit fallback for clients without Universal Actions (a message
 * activity whose `value` is the same data). Limits (learn.microsoft.com, Teams cards format):
 * a message of at most ~28 KB, refresh.userIds of at most 60; the renderer clips, never fails.
 */
export const TEAMS_LIMITS = { refreshUsers: 60, rings: 12, text: 2000, cardBytes: 27_000 } as const;

export const ADAPTIVE_SCHEMA = 'http://adaptivecards.io/schemas/adaptive-card.json';
export const REFRESH_VERB = 'refresh';

type Json = Record<string, unknown>;

// A type alias, not an interface, so a card is assignable to botbuilder's Record<string, unknown>.
export type AdaptiveCard = {
  type: 'AdaptiveCard';
  $schema: typeof ADAPTIVE_SCHEMA;
  version: '1.5';
  body: Json[];
  actions?: Json[];
  refresh?: { action: Json; userIds: string[] };
  msteams?: { width: 'Full' };
  fallbackText?: string;
};

/** What every button of a card carries: the action payload plus which card it came from. */
export type ActionData = ActionPayload & { kind: CardKind };

/** What the automatic refresh of a card sends back. */
export interface RefreshData {
  rolloutId: string;
  kind: CardKind;
  ring?: string;
}

export interface RenderOptions {
  /** Teams user ids (MRIs, `29:…`, never AAD ids) whose clients refresh the card on sight. */
  refreshUserIds?: readonly string[];
  /** Shown first, highlighted: why a click was refused, or what it did. */
  notice?: { text: string; tone: 'attention' | 'good' | 'info' } | undefined;
}

const text = (t: string, more: Json = {}): Json => ({
  type: 'TextBlock',
  text: clip(t, TEAMS_LIMITS.text),
  wrap: true,
  ...more,
});
const small = (t: string): Json => text(t, { size: 'Small', isSubtle: true, spacing: 'Small' });
const when = (iso: string) => `${iso.replace('T', ' ').slice(0, 16)} UTC`;

function execute(title: string, verb: string, data: object, style?: string): Json {
  return {
    type: 'Action.Execute',
    title,
    verb,
    data,
    ...(style ? { style } : {}),
    // Clients without Universal Actions send a message activity whose value is `data`.
    fallback: { type: 'Action.Submit', title, data, ...(style ? { style } : {}) },
  };
}

export function actionData(c: RolloutCard, a: CardAction, extra: Partial<ActionPayload> = {}) {
  const data: ActionData = { action: a, rolloutId: c.rolloutId, round: c.round, kind: c.kind };
  if (a === 'promote' && c.promoteRing) data.ring = c.promoteRing;
  return { ...data, ...extra };
}

const STYLE: Partial<Record<CardAction, string>> = {
  approve: 'positive',
  reject: 'destructive',
  cancel: 'destructive',
};

/** Reject asks for a reason inside a ShowCard; its own Execute submits the input with the data. */
function rejectAction(c: RolloutCard): Json {
  return {
    type: 'Action.ShowCard',
    title: BUTTON_TEXT.reject,
    card: {
      type: 'AdaptiveCard',
      body: [
        {
          type: 'Input.Text',
          id: 'reason',
          label: 'Reason (nothing will be deployed)',
          isMultiline: true,
          isRequired: true,
          maxLength: 500,
          errorMessage: 'Say why you reject this rollout.',
        },
      ],
      actions: [execute('Reject rollout', 'reject', actionData(c, 'reject'), 'destructive')],
    },
  };
}

/** Defer: a ShowCard holding one Execute per allowed delay (one more click, no free-form input). */
function deferAction(c: RolloutCard): Json {
  return {
    type: 'Action.ShowCard',
    title: BUTTON_TEXT.defer,
    card: {
      type: 'AdaptiveCard',
      body: [text('Ask again in…', { size: 'Small' })],
      actions: DEFER_DAYS.map((days) =>
        execute(deferLabel(days), 'defer', actionData(c, 'defer', { days })),
      ),
    },
  };
}

function cardAction(c: RolloutCard, a: CardAction): Json {
  if (a === 'reject') return rejectAction(c);
  if (a === 'defer') return deferAction(c);
  const extra = a === 'details' ? { page: 0 } : {};
  return execute(BUTTON_TEXT[a], a, actionData(c, a, extra), STYLE[a]);
}

function ticketText(c: RolloutCard): string {
  if (!c.ticket) return 'none';
  return c.ticket.url ? `[${c.ticket.id}](${c.ticket.url})` : c.ticket.id;
}

function body(c: RolloutCard, notice: RenderOptions['notice']): Json[] {
  const out: Json[] = [];
  if (notice)
    out.push({
      type: 'Container',
      style: notice.tone === 'info' ? 'emphasis' : notice.tone,
      items: [text(notice.text, { weight: 'Bolder' })],
    });
  out.push(
    text(`${c.headline} — ${c.clientName}`, { size: 'Large', weight: 'Bolder', style: 'heading' }),
  );
  out.push({
    type: 'FactSet',
    facts: [
      { title: 'Rollout', value: c.rolloutId },
      { title: 'Client', value: `${c.clientName} (${c.clientId})` },
      { title: 'Patches', value: `${c.patchCount} (${severityLine(c)})` },
      { title: 'Devices', value: String(c.deviceCount) },
      { title: 'Window', value: c.window },
      { title: 'Ticket', value: ticketText(c) },
      {
        title: 'CVEs',
        value: `${c.cveCount}${c.kevCount ? ` · **${c.kevCount} on CISA KEV**` : ''}`,
      },
      { title: 'Rings', value: c.rings.map((r) => `${r.name} ${r.devices}`).join(' · ') || '-' },
      ...(c.urgency ? [{ title: 'Most urgent', value: urgencyLine(c.urgency) }] : []),
    ],
  });
  const hl = highlightLines(c);
  if (hl.length)
    out.push({
      type: 'Container',
      items: [
        text('Highlights', { weight: 'Bolder' }),
        ...hl.map((l, i) =>
          text(`• ${l}`, c.highlights[i]?.kev ? { color: 'Attention', spacing: 'None' } : {}),
        ),
      ],
    });
  if (c.phase !== 'awaiting_approval' && c.phase !== 'planning' && c.rings.length)
    out.push({
      type: 'Container',
      items: [
        text('Progress', { weight: 'Bolder' }),
        ...c.rings.slice(0, TEAMS_LIMITS.rings).map((r) =>
          text(`• ${ringLine(r)}`, {
            spacing: 'None',
            ...(r.name === c.currentRing ? { weight: 'Bolder' } : {}),
          }),
        ),
      ],
    });
  if (c.haltReason) out.push(text(`⚠ ${c.haltReason}`, { color: 'Attention', weight: 'Bolder' }));
  const decided = decisionLine(c);
  if (decided) out.push(small(decided));
  out.push(small(`Updated ${when(c.updatedAt)} · patchops`));
  return out;
}

/** The rollout card as an Adaptive Card; `refreshUserIds` is clipped to Teams' 60. */
export function renderAdaptiveCard(c: RolloutCard, opts: RenderOptions = {}): AdaptiveCard {
  const card: AdaptiveCard = {
    type: 'AdaptiveCard',
    $schema: ADAPTIVE_SCHEMA,
    version: '1.5',
    body: body(c, opts.notice),
    msteams: { width: 'Full' },
    fallbackText: clip(cardSummary(c), 1000),
  };
  if (c.actions.length) card.actions = c.actions.map((a) => cardAction(c, a));
  const users = [...new Set(opts.refreshUserIds ?? [])].slice(0, TEAMS_LIMITS.refreshUsers);
  const data: RefreshData = {
    rolloutId: c.rolloutId,
    kind: c.kind,
    ...(c.promoteRing ? { ring: c.promoteRing } : {}),
  };
  if (users.length)
    card.refresh = { action: { type: 'Action.Execute', verb: REFRESH_VERB, data }, userIds: users };
  return fitCard(card);
}

/** Drops highlight and progress detail until the card fits Teams' message size. */
function fitCard(card: AdaptiveCard): AdaptiveCard {
  const size = () => Buffer.byteLength(JSON.stringify(card));
  while (size() > TEAMS_LIMITS.cardBytes) {
    const i = card.body.findLastIndex((b) => b.type === 'Container' && b.style === undefined);
    if (i < 0) break;
    card.body.splice(i, 1);
  }
  return card;
}

/** "View details": one page of the patch list with Previous / Next / Back to the rollout card. */
export function renderDetailsCard(p: PatchPage, back: { kind: CardKind } = { kind: 'rollout' }) {
  const rows: Json[] = p.patches.map((x) => ({
    type: 'Container',
    separator: true,
    items: [
      text(`**${x.patchId}** ${clip(x.title, 120)}`),
      small(
        `${x.severity}${x.kev ? ' · **KEV**' : ''} · ${x.decision} · ${x.devices} devices${
          x.cves.length
            ? ` · ${x.cves.slice(0, 8).join(', ')}${x.cves.length > 8 ? ` +${x.cves.length - 8}` : ''}`
            : ''
        }`,
      ),
      ...(x.risk ? riskLines(x.risk).map((l) => small(l)) : []),
    ],
  }));
  const nav = (page: number): ActionData => ({
    action: 'details',
    rolloutId: p.rolloutId,
    page,
    kind: back.kind,
  });
  const actions: Json[] = [];
  if (p.page > 0) actions.push(execute('Previous', 'details', nav(p.page - 1)));
  if (p.page + 1 < p.pages) actions.push(execute('Next', 'details', nav(p.page + 1)));
  const backData: RefreshData = { rolloutId: p.rolloutId, kind: back.kind };
  actions.push(execute('Back', REFRESH_VERB, { ...backData }));
  const card: AdaptiveCard = {
    type: 'AdaptiveCard',
    $schema: ADAPTIVE_SCHEMA,
    version: '1.5',
    body: [
      text('Rollout patches', { size: 'Large', weight: 'Bolder', style: 'heading' }),
      small(`${p.rolloutId} — ${p.total} patches, page ${p.page + 1} of ${p.pages}`),
      ...rows,
    ],
    actions,
    msteams: { width: 'Full' },
  };
  return fitCard(card);
}
