/**
 * Who-am-I and directory look-ups: auth.test, usergroups.users.list, conversations.list,
 * conversations.info and conversations.members (https://api.slack.com/methods/<method>).
 */
import {
  fail,
  missingScope,
  paginate,
  str,
  type ApiResult,
  type CallContext,
  type MethodSpec,
} from './state.js';
import { FAKE_WORKSPACE, type FakeChannel } from './workspace.js';

/** conversations.* need channels:read for public channels and groups:read for private ones. */
const readScope = (channel: FakeChannel): string =>
  channel.isPrivate ? 'groups:read' : 'channels:read';

const CONVERSATION_SCOPES = ['channels:read', 'groups:read', 'im:read', 'mpim:read'];

const TYPE_SCOPES: Readonly<Record<string, string>> = {
  public_channel: 'channels:read',
  private_channel: 'groups:read',
  im: 'im:read',
  mpim: 'mpim:read',
};

function readableChannel(
  ctx: CallContext,
  id: string | undefined,
): { channel: FakeChannel } | ApiResult {
  const channel = id ? ctx.state.channels.find((c) => c.id === id) : undefined;
  if (!channel) return fail('channel_not_found');
  return missingScope(ctx, readScope(channel)) ?? { channel };
}

const authTest: MethodSpec = {
  scopes: [],
  handle: () => ({
    ok: true,
    url: `https://${FAKE_WORKSPACE.teamDomain}.slack.com/`,
    team: FAKE_WORKSPACE.teamName,
    user: FAKE_WORKSPACE.botUserName,
    team_id: FAKE_WORKSPACE.teamId,
    user_id: FAKE_WORKSPACE.botUserId,
    bot_id: FAKE_WORKSPACE.botId,
    app_id: FAKE_WORKSPACE.appId,
    is_enterprise_install: false,
  }),
};

const usergroupUsers: MethodSpec = {
  scopes: ['usergroups:read'],
  handle(body, ctx) {
    const id = str(body.usergroup);
    if (!id) return fail('invalid_arguments');
    const users = ctx.state.usergroups.get(id);
    if (!users) return fail('no_such_subteam');
    return { ok: true, users: [...users] };
  },
};

const conversationsList: MethodSpec = {
  scopes: [],
  accepted: CONVERSATION_SCOPES,
  handle(body, ctx) {
    const types = (str(body.types) || 'public_channel').split(',').map((t) => t.trim());
    for (const type of types) {
      const needed = TYPE_SCOPES[type];
      if (!needed) return fail('invalid_types');
      const missing = missingScope(ctx, needed);
      if (missing) return missing;
    }
    const wanted = ctx.state.channels.filter((c) =>
      types.includes(c.isPrivate ? 'private_channel' : 'public_channel'),
    );
    const paged = paginate(wanted, body);
    if ('ok' in paged) return paged;
    return {
      ok: true,
      channels: paged.page.map((c) => ctx.state.channelObject(c)),
      response_metadata: { next_cursor: paged.nextCursor },
    };
  },
};

const conversationsInfo: MethodSpec = {
  scopes: [],
  accepted: CONVERSATION_SCOPES,
  handle(body, ctx) {
    const found = readableChannel(ctx, str(body.channel));
    if ('ok' in found) return found;
    return { ok: true, channel: ctx.state.channelObject(found.channel) };
  },
};

const conversationsMembers: MethodSpec = {
  scopes: [],
  accepted: CONVERSATION_SCOPES,
  handle(body, ctx) {
    const found = readableChannel(ctx, str(body.channel));
    if ('ok' in found) return found;
    const paged = paginate(ctx.state.membersOf(found.channel), body);
    if ('ok' in paged) return paged;
    return {
      ok: true,
      members: paged.page,
      response_metadata: { next_cursor: paged.nextCursor },
    };
  },
};

/**
 * conversations.history (https://api.slack.com/methods/conversations.history): newest first,
 * `limit` (default 100), `include_all_metadata` adds each message's metadata; needs
 * channels:history / groups:history.
 */
const conversationsHistory: MethodSpec = {
  scopes: [],
  handle(body, ctx) {
    const channel = ctx.state.channels.find((c) => c.id === str(body.channel));
    if (!channel) return fail('channel_not_found');
    const denied = missingScope(ctx, channel.isPrivate ? 'groups:history' : 'channels:history');
    if (denied) return denied;
    const limit = Math.min(999, Number(str(body.limit) ?? body.limit ?? 100) || 100);
    const withMeta = String(body.include_all_metadata) === 'true';
    const messages = [...(ctx.state.messages.get(channel.id) ?? [])]
      .filter((m) => !m.thread_ts)
      .reverse()
      .slice(0, limit)
      .map(({ metadata, channel: _c, ...m }) => ({
        ...m,
        ...(withMeta && metadata ? { metadata } : {}),
      }));
    return { ok: true, messages, has_more: false, pin_count: 0 };
  },
};

export const DIRECTORY_METHODS: Readonly<Record<string, MethodSpec>> = {
  'conversations.history': conversationsHistory,
  'auth.test': authTest,
  'usergroups.users.list': usergroupUsers,
  'conversations.list': conversationsList,
  'conversations.info': conversationsInfo,
  'conversations.members': conversationsMembers,
};
