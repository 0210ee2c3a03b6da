import { postSlackImage } from './upload.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebClient, type ChatPostMessageArguments } from '@slack/web-api';
import type { Logger } from 'pino';
import type { Notifier, PostedMessage } from '../../adapters/chat/types.js';
import type { SlackConfig } from '../../cli/config-chat.js';
import { renderBlocks, renderFallbackText } from '../cards/block-kit.js';
import { withRateLimit } from './retry.js';

const EVENT_TYPE = 'patchops_message';

/** A Web API client for posting: our own 429 handling, never a paused queue. */
export function slackWebClient(config: SlackConfig, log?: Logger): WebClient {
  return new WebClient(config.botToken, {
    ...(config.apiUrl ? { slackApiUrl: config.apiUrl } : {}),
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 3, factor: 2, minTimeout: 200, maxTimeout: 2_000 },
    ...(log ? { logger: pinoToSlack(log) } : {}),
  });
}

/**
 * chat.update is Tier 3: about 50 a minute for the whole workspace, whatever the message.
 * Updates from this process are spaced so that together they stay under it.
 */
export const UPDATE_GAP_MS = 1_250;

function spacing(gapMs: number): () => Promise<void> {
  let next = 0;
  return async () => {
    const now = Date.now();
    const at = Math.max(now, next);
    next = at + gapMs;
    if (at > now) await sleep(at - now);
  };
}

/** Posts cards to the channel configured for each client; the idempotency key rides in message metadata. */
export function createSlackNotifier(
  config: SlackConfig,
  client: WebClient,
  opts: { updateGapMs?: number } = {},
): Notifier {
  const updateTurn = spacing(opts.updateGapMs ?? UPDATE_GAP_MS);
  return {
    platform: 'slack',
    targets(clientId) {
      const ch = config.channels[clientId] ?? config.channels['*'];
      return Promise.resolve(ch ? [ch] : []);
    },
    async post(conversation, notice, { key, thread }) {
      const args: ChatPostMessageArguments = {
        channel: conversation,
        text: notice.card ? renderFallbackText(notice.card) : notice.text,
        ...(notice.card ? { blocks: renderBlocks(notice.card) } : {}),
        ...(thread ? { thread_ts: thread.messageRef } : {}),
        metadata: { event_type: EVENT_TYPE, event_payload: { key } },
        unfurl_links: false,
      };
      const r = await withRateLimit(() => client.chat.postMessage(args));
      if (!r.ts) throw new Error(`chat.postMessage to ${conversation} returned no ts`);
      return { conversation: r.channel ?? conversation, messageRef: r.ts };
    },
    postImage: (conversation, image, notice, opts) =>
      postSlackImage(client, conversation, image, notice.text, opts),
    async update(message, notice) {
      await updateTurn();
      await withRateLimit(() =>
        client.chat.update({
          channel: message.conversation,
          ts: message.messageRef,
          text: notice.card ? renderFallbackText(notice.card) : notice.text,
          ...(notice.card ? { blocks: renderBlocks(notice.card) } : {}),
        }),
      );
    },
    async find(conversation, key): Promise<PostedMessage | undefined> {
      const r = await withRateLimit(() =>
        client.conversations.history({
          channel: conversation,
          limit: 100,
          include_all_metadata: true,
        }),
      );
      const hit = r.messages?.find(
        (m) =>
          m.metadata?.event_type === EVENT_TYPE && payloadKey(m.metadata.event_payload) === key,
      );
      return hit?.ts ? { conversation, messageRef: hit.ts } : undefined;
    },
  };
}

const payloadKey = (p: unknown): unknown =>
  p && typeof p === 'object' && 'key' in p ? p.key : undefined;

/** Routes the Web API client's own logging into pino (it never logs tokens). */
function pinoToSlack(log: Logger) {
  const l = log.child({ name: 'slack-web-api' });
  return {
    debug: (...m: unknown[]) => l.debug(m.map(String).join(' ')),
    info: (...m: unknown[]) => l.debug(m.map(String).join(' ')),
    warn: (...m: unknown[]) => l.warn(m.map(String).join(' ')),
    error: (...m: unknown[]) => l.error(m.map(String).join(' ')),
    setLevel: () => undefined,
    getLevel: () => 'info' as never,
    setName: () => undefined,
  };
}
