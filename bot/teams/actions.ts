import { TurnContext, type Activity, type AdaptiveCardInvokeResponse } from 'botbuilder';
import type { Logger } from 'pino';
import type { PolicyDocument } from '../../domain/policy/index.js';
import type { Store } from '../../store/index.js';
import { buildPatchPage, buildRolloutCard } from '../cards/build.js';
import {
  decodeAction,
  type ActionPayload,
  type CardKind,
  type RolloutCard,
} from '../cards/model.js';
import { alertHeadline } from '../cards/text.js';
import type { CardPublisher } from '../cards/publisher.js';
import { mayDecide, teamsPlace, type ChatPlace, type ChatUser } from '../commands/access.js';
import { CHAT_LIMITS, payloadOverLimit } from '../commands/parse.js';
import { RepeatFilter } from '../commands/repeats.js';
import type { CommandRunner, Reply } from '../commands/runner.js';
import {
  renderAdaptiveCard,
  renderDetailsCard,
  type AdaptiveCard,
  type RefreshData,
  type RenderOptions,
} from './adaptive.js';
import {
  CARD_CONVERSATION_TYPES,
  baseConversationId,
  messageRefOf,
  type TeamsNotifier,
} from './notifier.js';

export interface CardActionDeps {
  runner: CommandRunner;
  publisher: CardPublisher;
  store: Store;
  policies: readonly PolicyDocument[];
  notifier: TeamsNotifier;
  log: Logger;
  /** Keeps work that outlives the turn (card updates after the invoke response) observable. */
  track(work: Promise<unknown>): void;
}

/** The person behind an activity: AAD object id and tenant, never a display name. */
export function userOf(a: Partial<Activity>): ChatUser {
  const channelData = a.channelData as { tenant?: { id?: string } } | undefined;
  return {
    platform: 'teams',
    // Without an AAD id nobody can be authorised; the id still names the caller in the audit.
    id: a.from?.aadObjectId ?? `unknown:${a.from?.id ?? '?'}`,
    tenant: a.conversation?.tenantId ?? channelData?.tenant?.id,
    name: a.from?.name,
  };
}

/** Where a Teams activity was sent from: a card conversation of the approvers' tenant, or not. */
export const placeOf = (policies: readonly PolicyDocument[], a: Partial<Activity>): ChatPlace =>
  teamsPlace(
    policies,
    {
      conversationType: a.conversation?.conversationType,
      tenantId: a.conversation?.tenantId ?? userOf(a).tenant,
    },
    CARD_CONVERSATION_TYPES,
  );

/** The same words whether the rollout does not exist or is not this person's to see. */
export const NOT_VISIBLE = 'Nothing to show: no rollout by that id that you can see here.';

const KINDS = new Set<CardKind>(['rollout', 'promotion', 'alert']);
const ID = new RegExp(`^[\\w.:-]{1,${CHAT_LIMITS.rolloutId}}$`);

/** The refresh (and "Back") data of a card; undefined for anything we did not send. */
export function parseRefresh(raw: unknown): RefreshData | undefined {
  if (!raw || typeof raw !== 'object') return undefined;
  const o = raw as Record<string, unknown>;
  if (typeof o.rolloutId !== 'string' || !ID.test(o.rolloutId)) return undefined;
  const kind = KINDS.has(o.kind as CardKind) ? (o.kind as CardKind) : 'rollout';
  const ring = typeof o.ring === 'string' && o.ring.length <= CHAT_LIMITS.ring ? o.ring : undefined;
  return { rolloutId: o.rolloutId, kind, ...(ring ? { ring } : {}) };
}

/** An invoke error Teams shows the clicker (Universal Actions' error response). */
export const badRequest = (message: string): AdaptiveCardInvokeResponse => ({
  statusCode: 400,
  type: 'application/vnd.microsoft.error',
  value: { code: 'BadRequest', message },
});

const cardResponse = (card: AdaptiveCard): AdaptiveCardInvokeResponse => ({
  statusCode: 200,
  type: 'application/vnd.microsoft.card.adaptive',
  value: card,
});
/** A message instead of a card: Teams shows it to the clicker and leaves the card as it is. */
export const messageResponse = (text: string): AdaptiveCardInvokeResponse => ({
  statusCode: 200,
  type: 'application/vnd.microsoft.activity.message',
  value: text as unknown as Record<string, unknown>,
});

/**
 * What a card button does, for both ways Teams delivers a click: the Universal Actions invoke
 * (answered with a card that replaces the clicked one for the clicker) and the Action.Submit
 * fallback (a message; the reply is a new message). Either way every posted copy of the card is
 * then updated for everyone.
 */
export class TeamsCardActions {
  constructor(private readonly d: CardActionDeps) {}

  /** The card a message of this kind shows now. */
  async current(
    rolloutId: string,
    kind: CardKind,
    ring?: string,
  ): Promise<RolloutCard | undefined> {
    const progress = await this.d.runner.progress(rolloutId);
    const card = await buildRolloutCard(this.d.store, rolloutId, {
      kind,
      ...(progress ? { progress } : {}),
      ...(ring ? { promoteRing: ring } : {}),
    });
    if (card && kind === 'alert') card.headline = alertHeadline(card);
    return card;
  }

  /** A card as everyone in the turn's conversation sees it (auto-refreshed for approvers). */
  render(ctx: TurnContext, card: RolloutCard): Promise<AdaptiveCard> {
    return this.d.notifier.render(ctx, card);
  }

  /** Re-renders every posted copy of a rollout's cards after the turn (a command changed it). */
  refreshLater(rolloutId: string): void {
    this.d.track(
      this.d.publisher
        .refreshNow(rolloutId)
        .catch((err: unknown) => this.d.log.warn({ err, rolloutId }, 'teams card update failed')),
    );
  }

  /** The user's own view: people who may not decide see the facts and "View details" only. */
  private viewFor(user: ChatUser, card: RolloutCard): RenderOptions['notice'] {
    if (mayDecide(this.d.policies, card.clientId, user)) return undefined;
    card.actions = card.actions.filter((a) => a === 'details');
    return {
      tone: 'info',
      text: `View only: you are not an approver for client ${card.clientId}.`,
    };
  }

  /** `adaptiveCard/action`: refresh, details paging, and the decisions. */
  async invoke(ctx: TurnContext, verb: string, data: unknown): Promise<AdaptiveCardInvokeResponse> {
    const user = userOf(ctx.activity);
    const place = placeOf(this.d.policies, ctx.activity);
    // Too long: say which field and change nothing (a decoder would drop it silently).
    const long = payloadOverLimit(data);
    if (long) return messageResponse(long);
    if (verb === 'refresh') {
      const r = parseRefresh(data);
      const card = r && (await this.current(r.rolloutId, r.kind, r.ring));
      if (!card || !this.d.runner.mayRead(user, card.clientId, place))
        return messageResponse(NOT_VISIBLE);
      const notice = this.viewFor(user, card);
      // The refreshed card keeps its refresh, so approvers' views stay current. Teams waits for
      // this answer: approvers' ids come from what is stored, without asking the Connector.
      return cardResponse(await this.d.notifier.render(ctx, card, { notice, ask: false }));
    }
    const p = decodeAction(data);
    if (!p) return badRequest('This button was not sent by patchops.');
    const kind = parseRefresh(data)?.kind ?? 'rollout';
    const visible = await this.d.runner.mayReadRollout(user, p.rolloutId, place);
    if (p.action === 'details') {
      if (!visible) return messageResponse(NOT_VISIBLE);
      return cardResponse(
        renderDetailsCard(await buildPatchPage(this.d.store, p.rolloutId, p.page ?? 0), { kind }),
      );
    }
    // Someone who may not see the rollout is still refused (and audited) by the runner, in
    // words that do not say whether it exists.
    const acted = await this.act(user, p, reasonOf(data), `teams:${ctx.activity.id}`);
    const reply = visible || acted.ok ? acted : { ok: false, text: NOT_VISIBLE };
    const card = visible ? await this.current(p.rolloutId, kind, p.ring) : undefined;
    if (!card) return messageResponse(reply.text);
    if (reply.ok) this.afterTurn(ctx.activity, user, p, kind);
    // No refresh on the clicker's copy: an immediate auto-refresh would hide the notice.
    return cardResponse(
      renderAdaptiveCard(card, {
        notice: { tone: reply.ok ? 'good' : 'attention', text: reply.text },
      }),
    );
  }

  /** Action.Submit fallback: the same click as a message; answers with text and the card. */
  async submit(ctx: TurnContext, value: unknown): Promise<void> {
    const long = payloadOverLimit(value);
    if (long) {
      await ctx.sendActivity(long);
      return;
    }
    const user = userOf(ctx.activity);
    const place = placeOf(this.d.policies, ctx.activity);
    const p = decodeAction(value);
    const kind = parseRefresh(value)?.kind ?? 'rollout';
    if (p?.action === 'details') {
      if (!(await this.d.runner.mayReadRollout(user, p.rolloutId, place))) {
        await ctx.sendActivity(NOT_VISIBLE);
        return;
      }
      const page = await buildPatchPage(this.d.store, p.rolloutId, p.page ?? 0);
      await ctx.sendActivity(attachment(renderDetailsCard(page, { kind })));
      return;
    }
    if (!p) {
      const r = parseRefresh(value);
      const card = r && (await this.current(r.rolloutId, r.kind, r.ring));
      await ctx.sendActivity(
        card && this.d.runner.mayRead(user, card.clientId, place)
          ? attachment(await this.render(ctx, card))
          : NOT_VISIBLE,
      );
      return;
    }
    const reply = await this.d.runner.concealed(
      user,
      p.rolloutId,
      place,
      await this.act(user, p, reasonOf(value), `teams:${ctx.activity.id}`),
    );
    await ctx.sendActivity({ type: 'message', text: reply.text, textFormat: 'markdown' });
    if (reply.ok) this.afterTurn(ctx.activity, user, p, kind);
  }

  /** Each person's last successful click per rollout (action, round, ring, days). */
  private readonly repeats = new RepeatFilter();

  /** One click → one runner call; the runner authorises, audits and keeps it exactly-once. */
  async act(user: ChatUser, p: ActionPayload, reason: string, key: string): Promise<Reply> {
    const { runner } = this.d;
    const base = { rolloutId: p.rolloutId, ...(p.round !== undefined ? { round: p.round } : {}) };
    switch (p.action) {
      case 'approve':
        return runner.decide(user, { ...base, decision: 'approve' }, key);
      case 'reject':
        if (!reason)
          return { ok: false, text: 'Rejecting needs a reason: open Reject and say why.' };
        return runner.decide(user, { ...base, decision: 'reject', reason }, key);
      case 'defer':
        return runner.decide(
          user,
          { ...base, decision: 'defer', deferMs: (p.days ?? 1) * 86_400_000 },
          key,
        );
      case 'promote':
        if (!p.ring) return { ok: false, text: 'This promote button names no ring.' };
        return runner.promote(user, p.rolloutId, p.ring, key);
      case 'pause':
      case 'resume':
      case 'cancel':
        return runner.control(user, p.rolloutId, p.action, key);
      case 'details':
        return { ok: true, text: '' };
    }
  }

  /**
   * After the response: the clicked message for everyone, then every posted copy. A card we
   * posted is updated by the publisher from its stored reference; one sent as a command reply
   * (not recorded) is updated here through the reference of the click. The TurnContext is gone
   * by then (botbuilder revokes it), so this works from plain data.
   *
   * Only the first success of a click does that. Its repeats (a redelivered invoke, a double
   * click: the runner hands them the first outcome) changed nothing to show, and their clickers
   * got the card in the invoke response; 20 of them must not mean 20 rounds of updates.
   */
  private afterTurn(a: Partial<Activity>, user: ChatUser, p: ActionPayload, kind: CardKind): void {
    const { rolloutId, ring } = p;
    if (!this.repeats.first(user.id, rolloutId, [p.action, p.round, ring, p.days])) return;
    const reference = TurnContext.getConversationReference(a);
    const clicked = a.replyToId;
    const conversation = a.conversation?.id ?? '';
    const work = async () => {
      if (clicked) {
        const ref = messageRefOf(conversation, clicked);
        const known = await this.d.store.chat.messageByRef(
          'teams',
          baseConversationId(conversation),
          ref,
        );
        const card = known ? undefined : await this.current(rolloutId, kind, ring);
        if (card) await this.d.notifier.updateAt(reference, clicked, card);
      }
      await this.d.publisher.refreshNow(rolloutId);
    };
    this.d.track(
      work().catch((err: unknown) =>
        this.d.log.warn({ err, rolloutId }, 'teams card update failed'),
      ),
    );
  }
}

/** payloadOverLimit has refused a reason over CHAT_LIMITS.reason before this is read. */
const reasonOf = (data: unknown): string => {
  const r = (data as { reason?: unknown } | null)?.reason;
  return typeof r === 'string' ? r.trim() : '';
};

export const attachment = (card: AdaptiveCard): Partial<Activity> => ({
  type: 'message',
  attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: card }],
});
