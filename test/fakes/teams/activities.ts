/**
 * Builders for the activities Microsoft Teams posts to a bot, shaped after the payloads in
 * Microsoft's docs (msteams-docs: bots/how-to/conversations/subscribe-to-conversation-events.md,
 * channel-and-group-conversations.md, task-modules-and-cards/cards/cards-actions.md; Adaptive
 * Cards: authoring-cards/universal-action-model.md) and on a captured channel message (the
 * text/html attachment, textFormat, teamsChannelId/teamsTeamId in channelData).
 */
import { randomUUID } from 'node:crypto';
import type { Activity, ChannelAccount } from 'botbuilder';

export type TeamsConversationType = 'channel' | 'personal' | 'groupChat';

/** Who talks to whom, where: everything that is the same across a test's activities. */
export interface TeamsContext {
  /** The fake connector's URL (with trailing slash); replies go there. */
  serviceUrl: string;
  tenantId: string;
  /** The Azure Bot's Microsoft App ID; the bot's Teams id is `28:<botAppId>`. */
  botAppId: string;
  /** The bot's display name, used in @mentions. Default 'Patchops'. */
  botName?: string;
  /** `19:…@thread.tacv2;messageid=…` in channels, `19:…@thread.v2` in group chats, `a:…` in personal chats. */
  conversationId: string;
  /** Default: 'personal' for `a:` ids, else 'channel'. */
  conversationType?: TeamsConversationType;
  /** Channel conversations only; defaults derive from conversationId. */
  teamId?: string;
  channelId?: string;
  user: { id: string; aadObjectId: string; name: string };
  locale?: string;
}

/** A complete context for tests: pass only what differs (at least serviceUrl). */
export function teamsContext(
  overrides: Partial<TeamsContext> & { serviceUrl: string },
): TeamsContext {
  return {
    tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
    botAppId: '6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f',
    conversationId: '19:6d97d816470f481dbcda38244b98689a@thread.tacv2;messageid=1700000000000',
    user: {
      id: '29:1I9Is_Sx0OIy2rQ7Xz1lcaPKlO9eqmBRTBuW6XzkFtcjqxTjPaCMij8BVMdBcL9L_RwWNJyAHFQb0TRzXgyQvA',
      aadObjectId: 'c33aafc4-646d-4543-9d4c-abd28e4d2110',
      name: 'Ada Approver',
    },
    ...overrides,
  };
}

/** An inbound activity as Teams sends it (a plain JSON object; post it as-is). */
export type TeamsActivity = Partial<Activity> & { type: string; id: string };

let lastMessageId = 0;
/** Teams message ids are epoch milliseconds; kept unique when a test sends two in one ms. */
const messageId = () => String((lastMessageId = Math.max(lastMessageId + 1, Date.now())));

const botName = (ctx: TeamsContext) => ctx.botName ?? 'Patchops';
const typeOf = (ctx: TeamsContext): TeamsConversationType =>
  ctx.conversationType ?? (ctx.conversationId.startsWith('a:') ? 'personal' : 'channel');
/** The channel a channel conversation lives in: the conversation id without `;messageid=…`. */
const channelOf = (ctx: TeamsContext) => ctx.channelId ?? ctx.conversationId.split(';')[0] ?? '';
const teamOf = (ctx: TeamsContext) => ctx.teamId ?? channelOf(ctx);

function channelData(ctx: TeamsContext, extra: Record<string, unknown> = {}) {
  const tenant = { id: ctx.tenantId };
  if (typeOf(ctx) !== 'channel') return { tenant, ...extra };
  const [channel, team] = [channelOf(ctx), teamOf(ctx)];
  return {
    teamsChannelId: channel,
    teamsTeamId: team,
    channel: { id: channel },
    team: { id: team },
    tenant,
    ...extra,
  };
}

/** The fields every Teams activity carries. */
function common(ctx: TeamsContext, type: string): TeamsActivity {
  const now = new Date().toISOString();
  const conversationType = typeOf(ctx);
  const locale = ctx.locale ?? 'en-US';
  return {
    type,
    id: `f:${randomUUID()}`,
    timestamp: now as unknown as Date, // on the wire it is an ISO string
    localTimestamp: now as unknown as Date,
    channelId: 'msteams',
    serviceUrl: ctx.serviceUrl,
    from: { id: ctx.user.id, name: ctx.user.name, aadObjectId: ctx.user.aadObjectId },
    recipient: { id: `28:${ctx.botAppId}`, name: botName(ctx) },
    conversation: {
      id: ctx.conversationId,
      conversationType,
      tenantId: ctx.tenantId,
      isGroup: conversationType !== 'personal',
      name: '',
    },
    entities: [{ type: 'clientInfo', locale, country: 'US', platform: 'Web', timezone: 'UTC' }],
    channelData: channelData(ctx),
    locale,
    localTimezone: 'UTC',
  };
}

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * A typed message. In channels and group chats the bot only hears @mentions, so `mentionBot`
 * defaults to true there: the text starts with `<at>Patchops</at> ` and entities[] carries the
 * mention whose `text` matches that part of the message text.
 */
export function message(
  ctx: TeamsContext,
  opts: { text: string; mentionBot?: boolean; replyToId?: string },
): TeamsActivity {
  const mention = opts.mentionBot ?? typeOf(ctx) !== 'personal';
  const at = `<at>${botName(ctx)}</at>`;
  const text = mention ? `${at} ${opts.text}` : opts.text;
  const span = `<span itemscope="" itemtype="http://schema.skype.com/Mention" itemid="0">${escapeHtml(botName(ctx))}</span>`;
  const html = `<p>${mention ? `${span} ` : ''}${escapeHtml(opts.text)}</p>`;
  const activity = common(ctx, 'message');
  activity.id = messageId();
  activity.text = text;
  activity.textFormat = 'plain';
  activity.attachments = [{ contentType: 'text/html', content: html }];
  if (mention) {
    activity.entities = [
      { type: 'mention', text: at, mentioned: { id: `28:${ctx.botAppId}`, name: botName(ctx) } },
      ...(activity.entities ?? []),
    ];
  }
  if (opts.replyToId !== undefined) activity.replyToId = opts.replyToId;
  return activity;
}

/**
 * An Action.Submit pressed on a card the bot posted (`replyToId` is the card's activity id):
 * a message activity with `value` = the action's data merged with the card's inputs, no text.
 */
export function submitMessage(
  ctx: TeamsContext,
  opts: { value: Record<string, unknown>; replyToId?: string },
): TeamsActivity {
  const activity = common(ctx, 'message');
  activity.value = opts.value;
  if (opts.replyToId !== undefined) activity.replyToId = opts.replyToId;
  return activity;
}

/** An Action.Execute pressed on a card: the Universal Actions `adaptiveCard/action` invoke. */
export function actionInvoke(
  ctx: TeamsContext,
  opts: {
    verb: string;
    data?: Record<string, unknown>;
    /** The card's activity id (Teams puts it in replyToId). */
    activityId: string;
    trigger?: 'manual' | 'automatic';
  },
): TeamsActivity {
  const activity = common(ctx, 'invoke');
  activity.name = 'adaptiveCard/action';
  activity.replyToId = opts.activityId;
  activity.value = {
    action: { type: 'Action.Execute', verb: opts.verb, data: opts.data ?? {} },
    trigger: opts.trigger ?? 'manual',
  };
  return activity;
}

/**
 * The conversationUpdate Teams sends when the app is installed. In a team it names only the bot
 * in membersAdded and carries channelData.eventType 'teamMemberAdded' and team; in a personal
 * chat membersAdded holds the bot and the user and channelData only the tenant.
 */
export function conversationUpdateInstall(
  ctx: TeamsContext,
  opts: { conversationType?: TeamsConversationType } = {},
): TeamsActivity {
  const c: TeamsContext = { ...ctx, conversationType: opts.conversationType ?? typeOf(ctx) };
  const activity = common(c, 'conversationUpdate');
  // Teams sends membersAdded without names; botbuilder's type insists on one.
  const bot = { id: `28:${c.botAppId}` } as ChannelAccount;
  if (c.conversationType === 'personal') {
    const user = { id: c.user.id, aadObjectId: c.user.aadObjectId } as ChannelAccount;
    activity.membersAdded = [bot, user];
    activity.channelData = { tenant: { id: c.tenantId } };
  } else {
    activity.membersAdded = [bot];
    activity.channelData = channelData(c, { eventType: 'teamMemberAdded' });
  }
  return activity;
}

/**
 * The conversationUpdate Teams sends when people join a team or chat the bot is in: membersAdded
 * holds their Teams user ids (MRIs) and AAD object ids, without names; in a team channelData
 * carries eventType 'teamMemberAdded'. `from` is whoever added them.
 */
export function membersAdded(
  ctx: TeamsContext,
  members: ReadonlyArray<{ id: string; aadObjectId: string }>,
): TeamsActivity {
  const activity = common(ctx, 'conversationUpdate');
  activity.membersAdded = members.map(
    (m) => ({ id: m.id, aadObjectId: m.aadObjectId }) as ChannelAccount,
  );
  if (typeOf(ctx) === 'channel')
    activity.channelData = channelData(ctx, { eventType: 'teamMemberAdded' });
  return activity;
}

/** installationUpdate with action 'add' (or 'remove'), sent alongside the conversationUpdate. */
export function installationUpdate(
  ctx: TeamsContext,
  opts: { action?: 'add' | 'remove' } = {},
): TeamsActivity {
  const activity = common(ctx, 'installationUpdate');
  activity.action = opts.action ?? 'add';
  if (typeOf(ctx) === 'channel') {
    activity.channelData = channelData(ctx, {
      settings: { selectedChannel: { id: channelOf(ctx) } },
    });
  }
  return activity;
}
