import {
  CardFactory,
  MessageFactory,
  TurnContext,
  type Activity,
  type CloudAdapter,
  type ConversationReference,
} from 'botbuilder';
import type { Logger } from 'pino';
import type { Notice, Notifier, PostedMessage } from '../../adapters/chat/types.js';
import type { PolicyDocument } from '../../domain/policy/index.js';
import type { Store } from '../../store/index.js';
import type { RolloutCard } from '../cards/model.js';
import { approversFor } from '../commands/access.js';
import { renderAdaptiveCard, type AdaptiveCard, type RenderOptions } from './adaptive.js';
import { statusOf, withConnectorRetry } from './retry.js';

/**
 * Conversations that get rollout cards. Personal chats do not: a card there would reach one
 * person who may not approve for the client, and every approver would get a copy besides the
 * channel's. Personal chats still answer commands (`status`, `approve …`) and show cards in
 * replies.
 */
export const CARD_CONVERSATION_TYPES: ReadonlySet<string> = new Set(['channel', 'groupChat']);

/** `19:…@thread.tacv2;messageid=123` (a thread in a channel) → `19:…@thread.tacv2` (the channel). */
export const baseConversationId = (id: string): string => id.split(';messageid=')[0] ?? id;

/** A thread root's id from a channel thread conversation id, if it is one. */
export const threadRootOf = (id: string): string | undefined => id.split(';messageid=')[1];

/**
 * messageRef of a posted message: its activity id, or `root|id` for a reply inside a channel
 * thread (updates must address the thread's conversation id, `channel;messageid=root`).
 */
export function messageRefOf(conversationId: string, activityId: string): string {
  const root = threadRootOf(conversationId);
  return root && root !== activityId ? `${root}|${activityId}` : activityId;
}

/** What we store of an activity's reference: where to post, not who spoke or which message. */
export function storedReference(activity: Partial<Activity>): Record<string, unknown> {
  const ref = TurnContext.getConversationReference(activity);
  delete ref.activityId;
  delete ref.user;
  if (ref.conversation)
    ref.conversation = { ...ref.conversation, id: baseConversationId(ref.conversation.id) };
  return ref;
}

/** The reference of a conversation, addressing a channel thread when `threadRoot` is given. */
export function referenceIn(
  stored: Record<string, unknown>,
  threadRoot?: string,
): ConversationReference {
  const ref = structuredClone(stored) as unknown as ConversationReference;
  delete ref.activityId;
  if (threadRoot && ref.conversation.conversationType === 'channel') {
    ref.conversation.id = `${baseConversationId(ref.conversation.id)};messageid=${threadRoot}`;
    ref.activityId = threadRoot; // a reply: POST …/activities/{root}
  }
  return ref;
}

export interface TeamsNotifier extends Notifier {
  readonly platform: 'teams';
  /** The card as everyone sees it: refreshed on sight for the client's Teams approvers. */
  render(card: RolloutCard, opts?: Pick<RenderOptions, 'notice'>): AdaptiveCard;
  /** AAD object ids of the client's Teams approvers (refresh.userIds; at most 60 are used). */
  approverIds(clientId: string): string[];
  /** Replaces an activity we have a live reference for (a card sent as a command reply). */
  updateAt(
    reference: Partial<ConversationReference>,
    activityId: string,
    card: RolloutCard,
  ): Promise<void>;
}

export interface TeamsNotifierDeps {
  adapter: CloudAdapter;
  appId: string;
  store: Store;
  policies: readonly PolicyDocument[];
  log: Logger;
  /** Retries of one Connector call after 429 / 5xx (default 4). */
  maxRetries?: number;
}

/**
 * Posts and updates messages proactively through the CloudAdapter with the conversation
 * references saved at install time (PostgreSQL), so any process — the worker, a restarted
 * bot — can update a card another one posted.
 */
export function createTeamsNotifier(d: TeamsNotifierDeps): TeamsNotifier {
  const { adapter, appId, store, log } = d;

  /** Runs one proactive turn; errors inside it are rethrown here (onTurnError must not eat them). */
  async function proactive<T>(ref: ConversationReference, fn: (ctx: TurnContext) => Promise<T>) {
    return withConnectorRetry(
      async () => {
        const box: { result?: { ok: true; value: T } | { ok: false; err: unknown } } = {};
        await adapter.continueConversationAsync(appId, ref, async (ctx) => {
          try {
            box.result = { ok: true, value: await fn(ctx) };
          } catch (err) {
            box.result = { ok: false, err };
          }
        });
        if (!box.result) throw new Error('the proactive turn did not run');
        if (!box.result.ok) throw box.result.err;
        return box.result.value;
      },
      {
        maxRetries: d.maxRetries ?? 4,
        onRetry: (err, waitMs) =>
          log.warn(
            { status: statusOf(err), waitMs, conversation: ref.conversation.id },
            'teams connector busy; retrying this call',
          ),
      },
    );
  }

  async function stored(conversation: string): Promise<Record<string, unknown>> {
    const c = await store.chat.conversation('teams', conversation);
    if (!c)
      throw new Error(`teams conversation ${conversation} is not installed (no reference stored)`);
    return c.reference;
  }

  const approverIds = (clientId: string): string[] => {
    const teams = approversFor(d.policies, clientId).teams;
    return teams.tenantId ? teams.users : [];
  };
  const render = (card: RolloutCard, opts: Pick<RenderOptions, 'notice'> = {}) =>
    renderAdaptiveCard(card, { ...opts, refreshUserIds: approverIds(card.clientId) });
  const content = (notice: Notice): Partial<Activity> =>
    notice.card
      ? MessageFactory.attachment(CardFactory.adaptiveCard(render(notice.card)))
      : { ...MessageFactory.text(notice.text), textFormat: 'markdown' };

  return {
    platform: 'teams',
    render,
    approverIds,

    /** Channels and group chats in the tenant the client's Teams approvers belong to. */
    async targets(clientId) {
      const tenant = approversFor(d.policies, clientId).teams.tenantId;
      if (!tenant) return [];
      return (await store.chat.conversations('teams'))
        .filter((c) => CARD_CONVERSATION_TYPES.has(c.conversationType) && c.tenantId === tenant)
        .map((c) => c.conversationId);
    },

    /** Threads: channel replies go under the card (`channel;messageid=root`); group chats have none. */
    async post(conversation, notice, { thread }) {
      const root = thread ? (thread.messageRef.split('|')[0] ?? thread.messageRef) : undefined;
      const ref = referenceIn(await stored(conversation), root);
      const id = await proactive(ref, async (ctx) => (await ctx.sendActivity(content(notice)))?.id);
      if (!id) throw new Error(`teams returned no activity id for the post to ${conversation}`);
      return { conversation, messageRef: messageRefOf(ref.conversation.id, id) };
    },

    async update(message, notice) {
      const [root, id] = message.messageRef.includes('|')
        ? (message.messageRef.split('|') as [string, string])
        : [undefined, message.messageRef];
      const ref = referenceIn(await stored(message.conversation), root);
      delete ref.activityId;
      await proactive(ref, (ctx) =>
        ctx.updateActivity({ ...content(notice), id, type: 'message' }),
      );
    },

    async updateAt(reference, activityId, card) {
      const ref = { ...reference, activityId: undefined } as ConversationReference;
      await proactive(ref, (ctx) =>
        ctx.updateActivity({
          id: activityId,
          type: 'message',
          attachments: [CardFactory.adaptiveCard(render(card))],
        }),
      );
    },

    /** The Connector cannot search a conversation: the publisher posts again and logs a warning. */
    find(): Promise<PostedMessage | undefined> {
      return Promise.resolve(undefined);
    },
  };
}
