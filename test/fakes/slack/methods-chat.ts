/**
 * chat.postMessage, chat.update and chat.postEphemeral as documented on
 * https://api.slack.com/methods/chat.postMessage (and .update, .postEphemeral).
 */
import { checkMessageBlocks, problemMessages } from './block-kit.js';
import {
  fail,
  str,
  type ApiResult,
  type Body,
  type CallContext,
  type FakeMessage,
  type MethodSpec,
} from './state.js';
import { FAKE_WORKSPACE } from './workspace.js';

/**
 * https://api.slack.com/changelog/2018-04-truncating-really-long-messages and the
 * chat.postMessage page: text over 40,000 characters is truncated and the call still
 * succeeds with a `message_truncated` warning (unless the fake is told to reject it).
 */
export const MAX_MESSAGE_TEXT = 40_000;

export interface ChatOptions {
  /** Answer `msg_too_long` instead of truncating text over 40,000 characters. */
  rejectLongText: boolean;
}

interface Content {
  text: string;
  blocks?: unknown[];
  attachments?: unknown[];
  warnings: string[];
}

/** The text/blocks of a chat.* call, checked like Slack checks them. */
function readContent(body: Body, opts: ChatOptions): Content | ApiResult {
  let text = str(body.text) ?? '';
  const { blocks, attachments } = body;
  if (text === '' && blocks === undefined && attachments === undefined) return fail('no_text');
  if (blocks !== undefined) {
    const problems = checkMessageBlocks(blocks);
    if (problems.length > 0) {
      const messages = problemMessages(problems);
      return fail('invalid_blocks', {
        errors: messages.map((m) => m.replace(/^\[ERROR\] /, '')),
        response_metadata: { messages },
      });
    }
  }
  const warnings: string[] = [];
  if ([...text].length > MAX_MESSAGE_TEXT) {
    if (opts.rejectLongText) return fail('msg_too_long');
    text = [...text].slice(0, MAX_MESSAGE_TEXT).join('');
    warnings.push('message_truncated');
  }
  return {
    text,
    ...(Array.isArray(blocks) ? { blocks } : {}),
    ...(Array.isArray(attachments) ? { attachments } : {}),
    warnings,
  };
}

const isResult = (value: Content | ApiResult): value is ApiResult => 'ok' in value;

function withWarnings(result: ApiResult, warnings: string[]): ApiResult {
  if (warnings.length === 0) return result;
  return {
    ...result,
    warning: warnings.join(','),
    response_metadata: {
      warnings,
      messages: warnings.map(
        () =>
          `[WARN] Your message was truncated but still posted. The \`text\` field accepts up to ${MAX_MESSAGE_TEXT.toLocaleString('en-US')} characters.`,
      ),
    },
  };
}

/** The conversation a chat.* call targets, or Slack's error for it. */
function target(body: Body, ctx: CallContext): { id: string } | ApiResult {
  const requested = str(body.channel);
  if (!requested) return fail('channel_not_found');
  const conversation = ctx.state.resolveConversation(requested);
  if (!conversation) return fail('channel_not_found');
  const { channel } = conversation;
  if (channel && channel.botIsMember === false) {
    const canPostPublic = !channel.isPrivate && ctx.scopes.includes('chat:write.public');
    if (!canPostPublic) return fail(channel.isPrivate ? 'channel_not_found' : 'not_in_channel');
  }
  return { id: conversation.id };
}

/** The chat.* methods; `options` decides how over-long text is treated. */
export function chatMethods(options: ChatOptions): Record<string, MethodSpec> {
  const postMessage: MethodSpec = {
    scopes: ['chat:write'],
    handle(body, ctx) {
      const to = target(body, ctx);
      if ('ok' in to) return to;
      const content = readContent(body, options);
      if (isResult(content)) return content;
      const { warnings, ...shown } = content;
      const threadTs = str(body.thread_ts);
      const message: FakeMessage = {
        type: 'message',
        channel: to.id,
        ts: ctx.state.nextTs(),
        ...shown,
        ...(threadTs ? { thread_ts: threadTs } : {}),
        ...(body.metadata !== undefined ? { metadata: body.metadata } : {}),
        user: FAKE_WORKSPACE.botUserId,
        bot_id: FAKE_WORKSPACE.botId,
        app_id: FAKE_WORKSPACE.appId,
        team: FAKE_WORKSPACE.teamId,
      };
      const history = ctx.state.messages.get(to.id) ?? [];
      history.push(message);
      ctx.state.messages.set(to.id, history);
      return withWarnings(
        { ok: true, channel: to.id, ts: message.ts, message: onWire(message) },
        warnings,
      );
    },
  };

  const update: MethodSpec = {
    scopes: ['chat:write'],
    handle(body, ctx) {
      const to = target(body, ctx);
      if ('ok' in to) return to;
      const ts = str(body.ts);
      const message = ctx.state.messages.get(to.id)?.find((m) => m.ts === ts);
      if (!ts || !message) return fail('message_not_found');
      const content = readContent(body, options);
      if (isResult(content)) return content;
      const textGiven = str(body.text) !== undefined;
      // "If you don't include blocks, the message's previous blocks will only be retained if
      // the text argument is not provided" — and only edits without blocks show "edited".
      if (content.blocks) message.blocks = content.blocks;
      else if (textGiven) delete message.blocks;
      if (textGiven) message.text = content.text;
      if (content.attachments) message.attachments = content.attachments;
      if (!content.blocks) {
        message.edited = { user: FAKE_WORKSPACE.botUserId, ts: ctx.state.nextTs() };
      }
      return withWarnings(
        { ok: true, channel: to.id, ts, text: message.text, message: onWire(message) },
        content.warnings,
      );
    },
  };

  const postEphemeral: MethodSpec = {
    scopes: ['chat:write'],
    handle(body, ctx) {
      const to = target(body, ctx);
      if ('ok' in to) return to;
      const user = str(body.user);
      if (!user) return fail('user_not_found');
      const channel = ctx.state.findChannel(to.id);
      if (channel && !ctx.state.membersOf(channel).includes(user)) {
        return fail('user_not_in_channel');
      }
      const content = readContent(body, options);
      if (isResult(content)) return content;
      const messageTs = ctx.state.nextTs();
      ctx.state.ephemerals.push({
        channel: to.id,
        user,
        message_ts: messageTs,
        text: content.text,
        ...(content.blocks ? { blocks: content.blocks } : {}),
      });
      return withWarnings({ ok: true, message_ts: messageTs }, content.warnings);
    },
  };

  return {
    'chat.postMessage': postMessage,
    'chat.update': update,
    'chat.postEphemeral': postEphemeral,
  };
}

/** A stored message as the API returns it (without the fake's own `channel` key). */
function onWire(message: FakeMessage): Record<string, unknown> {
  const wire: Record<string, unknown> = { ...message };
  delete wire.channel;
  return wire;
}
