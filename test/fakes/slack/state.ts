/**
 * What the fake Slack workspace remembers between calls (messages, views, user groups,
 * channels) and the small vocabulary the method handlers share.
 */
import { DEFAULT_CHANNELS, FAKE_WORKSPACE, type FakeChannel } from './workspace.js';

/** A request body after parsing: form fields are strings, JSON fields keep their types. */
export type Body = Record<string, unknown>;

/** A Web API answer: always HTTP 200, `ok` says whether it worked. */
export type ApiResult = { ok: boolean } & Record<string, unknown>;

export interface CallContext {
  state: FakeSlackState;
  /** Scopes granted to the calling token (the fake's mutable `scopes`). */
  scopes: readonly string[];
}

export interface MethodSpec {
  /** Scopes the method needs (all of them), checked before the handler runs. */
  scopes: readonly string[];
  /** What `x-accepted-oauth-scopes` lists when it differs from `scopes`. */
  accepted?: readonly string[];
  /**
   * The token the method takes: a bot token (default) or an app-level token (xapp-…); the
   * other kind gets `not_allowed_token_type`.
   */
  tokenType?: 'bot' | 'app';
  handle(body: Body, ctx: CallContext): ApiResult;
}

export const fail = (error: string, extra: Record<string, unknown> = {}): ApiResult => ({
  ok: false,
  error,
  ...extra,
});

/** Slack's answer to a request whose arguments do not fit the method. */
export const invalidArguments = (...messages: string[]): ApiResult =>
  fail('invalid_arguments', {
    response_metadata: { messages: messages.map((m) => `[ERROR] ${m}`) },
  });

/** A string argument, whether it came form-encoded or as JSON. */
export function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

export function missingScope(ctx: CallContext, needed: string): ApiResult | undefined {
  if (ctx.scopes.includes(needed)) return undefined;
  return fail('missing_scope', { needed, provided: ctx.scopes.join(',') });
}

/** A message as the channel shows it now (after any chat.update). */
export interface FakeMessage {
  type: 'message';
  channel: string;
  ts: string;
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
  /** A file share (files.completeUploadExternal): the shared files, `upload: true`. */
  files?: unknown[];
  upload?: boolean;
  thread_ts?: string;
  metadata?: unknown;
  user: string;
  bot_id: string;
  app_id: string;
  team: string;
  edited?: { user: string; ts: string };
}

export interface FakeEphemeral {
  channel: string;
  user: string;
  message_ts: string;
  text: string;
  blocks?: unknown[];
}

/** A modal or Home tab view as views.* return it. */
export type FakeView = Record<string, unknown> & { id: string; type: string; hash: string };

export class FakeSlackState {
  readonly messages = new Map<string, FakeMessage[]>();
  readonly ephemerals: FakeEphemeral[] = [];
  /** Modals by view id. */
  readonly views = new Map<string, FakeView>();
  /** The published Home tab per user id. */
  readonly homeViews = new Map<string, FakeView>();
  readonly usergroups = new Map<string, string[]>();
  readonly channels: FakeChannel[];
  private tsCounter = 0;
  private viewCounter = 0;

  constructor(channels: readonly FakeChannel[] = DEFAULT_CHANNELS) {
    this.channels = channels.map((c) => ({ ...c, members: [...(c.members ?? [])] }));
  }

  /** Unique, increasing message timestamps: 1700000000.000100, 1700000000.000200, … */
  nextTs(): string {
    this.tsCounter += 1;
    const micros = this.tsCounter * 100;
    const seconds = 1_700_000_000 + Math.floor(micros / 1_000_000);
    return `${seconds}.${String(micros % 1_000_000).padStart(6, '0')}`;
  }

  nextViewId(): string {
    this.viewCounter += 1;
    return `V${String(this.viewCounter).padStart(8, '0')}`;
  }

  nextHash(): string {
    return `${Math.floor(Date.now() / 1000)}.${String(this.viewCounter).padStart(8, '0')}`;
  }

  findChannel(idOrName: string): FakeChannel | undefined {
    const name = idOrName.replace(/^#/, '');
    return this.channels.find((c) => c.id === idOrName || c.name === name);
  }

  /**
   * Where a chat.* call lands: a known channel, or the app's DM with a user when given a
   * user id (Slack opens the DM itself), or an existing DM id.
   */
  resolveConversation(idOrName: string): { id: string; channel?: FakeChannel } | undefined {
    const channel = this.findChannel(idOrName);
    if (channel) return { id: channel.id, channel };
    if (/^[UW][A-Z0-9]+$/.test(idOrName)) return { id: `D${idOrName.slice(1)}` };
    if (/^D[A-Z0-9]+$/.test(idOrName)) return { id: idOrName };
    return undefined;
  }

  membersOf(channel: FakeChannel): string[] {
    const members = [...(channel.members ?? [])];
    if (channel.botIsMember !== false) members.push(FAKE_WORKSPACE.botUserId);
    return members;
  }

  /** Slack's channel object, trimmed to the fields apps read. */
  channelObject(channel: FakeChannel): Record<string, unknown> {
    const isPrivate = channel.isPrivate === true;
    return {
      id: channel.id,
      name: channel.name,
      name_normalized: channel.name,
      is_channel: !isPrivate,
      is_group: false,
      is_im: false,
      is_mpim: false,
      is_private: isPrivate,
      is_archived: false,
      is_general: false,
      is_shared: false,
      is_ext_shared: false,
      is_org_shared: false,
      is_member: channel.botIsMember !== false,
      created: 1_690_000_000,
      creator: 'U0001',
      context_team_id: FAKE_WORKSPACE.teamId,
      num_members: this.membersOf(channel).length,
      topic: { value: '', creator: '', last_set: 0 },
      purpose: { value: '', creator: '', last_set: 0 },
    };
  }
}

/**
 * Cursor pagination as Slack does it: `limit` (default 100, at most 1000), an opaque
 * `cursor`, and `response_metadata.next_cursor` that is '' on the last page.
 */
export function paginate<T>(
  items: readonly T[],
  body: Body,
): { page: T[]; nextCursor: string } | ApiResult {
  const limitArg = str(body.limit);
  const limit = limitArg === undefined || limitArg === '' ? 100 : Number(limitArg);
  if (!Number.isInteger(limit) || limit < 0 || limit > 1000) return fail('invalid_limit');
  const effective = limit === 0 ? 100 : limit;
  const cursor = str(body.cursor);
  let offset = 0;
  if (cursor) {
    const match = /^offset:(\d+)$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
    if (!match?.[1]) return fail('invalid_cursor');
    offset = Number(match[1]);
  }
  const page = items.slice(offset, offset + effective);
  const next = offset + effective;
  const nextCursor = next < items.length ? Buffer.from(`offset:${next}`).toString('base64') : '';
  return { page, nextCursor };
}
