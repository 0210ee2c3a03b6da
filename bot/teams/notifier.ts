import {
  CardFactory,
  MessageFactory,
  TurnContext,
  type Activity,
  type CloudAdapter,
  type ConversationReference,
} from 'botbuilder';
import type { ConnectorClient } from 'botframework-connector';
import type { Logger } from 'pino';
import type { Notice, Notifier, PostedMessage } from '../../adapters/chat/types.js';
import type { PolicyDocument } from '../../domain/policy/index.js';
import type { Store } from '../../store/index.js';
import type { RolloutCard } from '../cards/model.js';
import { approversFor } from '../commands/access.js';
import { renderAdaptiveCard, type AdaptiveCard, type RenderOptions } from './adaptive.js';
import { statusOf, withConnectorRetry } from './retry.js';
import { TeamsUsers, type MemberLookup } from './users.js';

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

export interface CardRenderOptions extends Pick<RenderOptions, 'notice'> {
  /**
   * Whether approvers patchops has no Teams user id for yet may be asked of the Connector
   * (default true). Invoke responses say false: Teams waits for them, and the clicker is known.
   */
  ask?: boolean;
}

export interface TeamsNotifier extends Notifier {
  readonly platform: 'teams';
  /**
   * The card as everyone in the turn's conversation sees it: refreshed on sight for the
   * client's Teams approvers, listed in refresh.userIds by Teams user id (MRI).
   */
  render(ctx: TurnContext, card: RolloutCard, opts?: CardRenderOptions): Promise<AdaptiveCard>;
  /** Who is who in Teams: the bot feeds it every activity, cards read approvers' MRIs from it. */
  readonly users: TeamsUsers;
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
  /** Shared with the front door that feeds it; default: one of its own. */
  users?: TeamsUsers;
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

  const users = d.users ?? new TeamsUsers({ store: store.chat, log });

  /**
   * Who the Connector answers member questions for: in a channel the team (as botbuilder's
   * TeamsInfo.getMember does), elsewhere the conversation itself.
   */
  async function memberScope(ctx: TurnContext): Promise<string> {
    const live = (ctx.activity.channelData as { team?: { id?: unknown } } | undefined)?.team?.id;
    if (typeof live === 'string' && live) return live;
    const conversation = baseConversationId(ctx.activity.conversation.id);
    if (ctx.activity.conversation.conversationType !== 'channel') return conversation;
    return (await store.chat.conversation('teams', conversation))?.teamId ?? conversation;
  }

  /** GET /v3/conversations/{scope}/members/{aadObjectId} with the turn's connector client. */
  function memberLookup(ctx: TurnContext): MemberLookup {
    let scope: Promise<string> | undefined;
    return async (aadObjectId) => {
      const client = ctx.turnState.get<ConnectorClient | undefined>(ctx.adapter.ConnectorClientKey);
      if (!client) throw new Error('this turn has no connector client');
      scope ??= memberScope(ctx);
      // Teams answers with a TeamsChannelAccount: id is the MRI, aadObjectId the Entra ID one.
      return client.conversations.getConversationMember(await scope, aadObjectId);
    };
  }

  /** MRIs of the client's approvers for a card in the turn's conversation (never AAD ids). */
  async function refreshUserIds(ctx: TurnContext, clientId: string, ask: boolean) {
    const { tenantId, users: aadIds } = approversFor(d.policies, clientId).teams;
    if (!tenantId || !aadIds.length) return [];
    const c = ctx.activity.conversation;
    // Only shared conversations of the approvers' tenant can hold them besides the reader.
    const askHere =
      ask &&
      CARD_CONVERSATION_TYPES.has(c.conversationType) &&
      (!c.tenantId || c.tenantId === tenantId);
    return users.refreshIds(
      tenantId,
      aadIds,
      askHere ? { conversation: baseConversationId(c.id), member: memberLookup(ctx) } : undefined,
    );
  }

  const render = async (ctx: TurnContext, card: RolloutCard, opts: CardRenderOptions = {}) =>
    renderAdaptiveCard(card, {
      notice: opts.notice,
      refreshUserIds: await refreshUserIds(ctx, card.clientId, opts.ask ?? true),
    });
  const content = async (ctx: TurnContext, notice: Notice): Promise<Partial<Activity>> =>
    notice.card
      ? MessageFactory.attachment(CardFactory.adaptiveCard(await render(ctx, notice.card)))
      : { ...MessageFactory.text(notice.text), textFormat: 'markdown' };

  return {
    platform: 'teams',
    render,
    users,

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
      const id = await proactive(
        ref,
        async (ctx) => (await ctx.sendActivity(await content(ctx, notice)))?.id,
      );
      if (!id) throw new Error(`teams returned no activity id for the post to ${conversation}`);
      return { conversation, messageRef: messageRefOf(ref.conversation.id, id) };
    },

    async update(message, notice) {
      const [root, id] = message.messageRef.includes('|')
        ? (message.messageRef.split('|') as [string, string])
        : [undefined, message.messageRef];
      const ref = referenceIn(await stored(message.conversation), root);
      delete ref.activityId;
      await proactive(ref, async (ctx) =>
        ctx.updateActivity({ ...(await content(ctx, notice)), id, type: 'message' }),
      );
    },

    async updateAt(reference, activityId, card) {
      const ref = { ...reference, activityId: undefined } as ConversationReference;
      await proactive(ref, async (ctx) =>
        ctx.updateActivity({
          id: activityId,
          type: 'message',
          attachments: [CardFactory.adaptiveCard(await render(ctx, card))],
        }),
      );
    },

    /** The Connector cannot search a conversation: the publisher posts again and logs a warning. */
    find(): Promise<PostedMessage | undefined> {
      return Promise.resolve(undefined);
    },
  };
}
