import type { Logger } from 'pino';
import type { Notice, NoticeKind, Notifier, PostedMessage } from '../../adapters/chat/types.js';
import type { Store } from '../../store/index.js';
import type { Progress } from '../../workflows/messages.js';
import { buildRolloutCard } from './build.js';
import type { CardKind, RolloutCard } from './model.js';
import { alertHeadline, cardSummary } from './text.js';

/** Messages that are cards and are re-rendered as the rollout moves; purpose → card kind. */
const CARD_PURPOSES: Record<string, CardKind> = {
  card: 'rollout',
  promotion_request: 'promotion',
  failure_alert: 'alert',
  halted: 'alert',
};

export interface PublisherOptions {
  store: Store;
  notifiers: readonly Notifier[];
  log: Logger;
  /** Least time between two updates of one rollout's cards (chat rate limits). */
  updateIntervalMs?: number;
}

interface RefreshState {
  last: number;
  dirty: boolean;
  timer?: NodeJS.Timeout | undefined;
  running?: Promise<void> | undefined;
}

/**
 * Posts rollout cards and notices to every configured chat platform, once per key, and
 * keeps posted cards current. Card updates are coalesced per rollout: at most one round of
 * updates every `updateIntervalMs`, always ending with the latest state.
 */
export class CardPublisher {
  private readonly refreshes = new Map<string, RefreshState>();
  private readonly interval: number;

  constructor(private readonly o: PublisherOptions) {
    this.interval = o.updateIntervalMs ?? 3_000;
  }

  /** Posts what the workflow asked for; `key` makes it once-only across retries. */
  async notify(a: {
    rolloutId: string;
    kind: NoticeKind;
    key: string;
    text: string;
    promoteRing?: string | null;
    progress?: Progress;
  }): Promise<void> {
    const { store } = this.o;
    const base = await buildRolloutCard(
      store,
      a.rolloutId,
      a.progress ? { progress: a.progress } : {},
    );
    if (!base) throw new Error(`rollout ${a.rolloutId} is not in the store`);
    const clientId = base.clientId;
    for (const n of this.o.notifiers) {
      for (const conv of await n.targets(clientId)) {
        const k = `${a.key}:${n.platform}:${conv}`;
        const main = await this.mainCard(n, conv, base, a.kind === 'approval_request');
        const textNotice: Notice = { rolloutId: a.rolloutId, clientId, kind: a.kind, text: a.text };
        switch (a.kind) {
          case 'approval_request':
            // The first round posted the card above; later rounds (after a defer) say so in its thread.
            if (base.round > 0) await this.once(n, conv, textNotice, a.kind, k, main);
            break;
          case 'promotion_request':
          case 'failure_alert':
          case 'halted': {
            const kind: CardKind = a.kind === 'promotion_request' ? 'promotion' : 'alert';
            const card = await this.card(a.rolloutId, kind, a.kind, a.promoteRing ?? null, a.text);
            await this.once(n, conv, { ...textNotice, card }, a.kind, k, main);
            break;
          }
          default:
            await this.once(n, conv, textNotice, a.kind, k, main);
        }
      }
    }
    this.refresh(a.rolloutId);
  }

  /** The rollout's main card in one conversation: posted once, the first time it is needed. */
  private async mainCard(
    n: Notifier,
    conv: string,
    card: RolloutCard,
    create: boolean,
  ): Promise<PostedMessage | undefined> {
    const key = `${card.rolloutId}:card:${n.platform}:${conv}`;
    const existing = (await this.o.store.chat.messages(card.rolloutId, ['card'], n.platform)).find(
      (m) => m.conversation === conv,
    );
    if (existing?.messageRef) return { conversation: conv, messageRef: existing.messageRef };
    if (!create) return undefined;
    const notice: Notice = {
      rolloutId: card.rolloutId,
      clientId: card.clientId,
      kind: 'approval_request',
      text: cardSummary(card),
      card,
    };
    return this.once(n, conv, notice, 'card', key, undefined);
  }

  private async card(
    rolloutId: string,
    kind: CardKind,
    purpose: string,
    promoteRing: string | null,
    text?: string,
  ): Promise<RolloutCard | undefined> {
    return buildRolloutCard(this.o.store, rolloutId, {
      kind,
      promoteRing,
      ...(purpose === 'halted' || purpose === 'failure_alert'
        ? { headline: text ?? 'Failures' }
        : {}),
    });
  }

  /** Claim → post → record. A claim left by a crashed attempt is looked up before re-posting. */
  private async once(
    n: Notifier,
    conv: string,
    notice: Notice,
    purpose: string,
    key: string,
    thread: PostedMessage | undefined,
  ): Promise<PostedMessage> {
    const { chat } = this.o.store;
    const claim = await chat.claimMessage({
      platform: n.platform,
      conversation: conv,
      rolloutId: notice.rolloutId,
      purpose,
      key,
      threadRef: thread?.messageRef ?? null,
    });
    if (!claim.claimed) {
      if (claim.existing.messageRef)
        return { conversation: conv, messageRef: claim.existing.messageRef };
      const found = await n.find?.(conv, key);
      if (found) {
        await chat.completeMessage(key, found.messageRef);
        return found;
      }
      this.o.log.warn({ key }, 'an earlier attempt may have posted this message; posting again');
    }
    const posted = await n.post(conv, notice, { key, thread });
    await chat.completeMessage(key, posted.messageRef);
    return posted;
  }

  /** Posts the rollout's main card where it is not yet (rollouts that needed no approval). */
  async ensureCard(rolloutId: string): Promise<void> {
    const card = await buildRolloutCard(this.o.store, rolloutId);
    if (!card) return;
    for (const n of this.o.notifiers)
      for (const conv of await n.targets(card.clientId)) await this.mainCard(n, conv, card, true);
  }

  /** Asks for the rollout's cards to be re-rendered soon (coalesced, never throws). */
  refresh(rolloutId: string): void {
    if (!this.o.notifiers.some((n) => n.platform !== 'cli')) return;
    const s = this.refreshes.get(rolloutId) ?? { last: 0, dirty: false };
    this.refreshes.set(rolloutId, s);
    s.dirty = true;
    if (s.timer || s.running) return;
    const wait = Math.max(0, s.last + this.interval - Date.now());
    s.timer = setTimeout(() => this.runRefresh(rolloutId, s), wait);
  }

  private runRefresh(rolloutId: string, s: RefreshState): void {
    s.timer = undefined;
    s.dirty = false;
    s.last = Date.now();
    s.running = this.refreshNow(rolloutId)
      .then(() => undefined)
      .catch((err: unknown) => this.o.log.warn({ err, rolloutId }, 'card update failed'))
      .finally(() => {
        s.running = undefined;
        if (s.dirty) this.refresh(rolloutId);
        // Keep `last` for one more interval so the next refresh is spaced from this one.
        else setTimeout(() => this.forget(rolloutId, s), this.interval).unref();
      });
  }

  private forget(rolloutId: string, s: RefreshState): void {
    if (!s.timer && !s.running && !s.dirty && this.refreshes.get(rolloutId) === s)
      this.refreshes.delete(rolloutId);
  }

  /** Re-renders every posted card of the rollout now. */
  async refreshNow(rolloutId: string, progress?: Progress): Promise<number> {
    const { store } = this.o;
    const msgs = await store.chat.messages(rolloutId, Object.keys(CARD_PURPOSES));
    let updated = 0;
    const cards = new Map<string, RolloutCard | undefined>();
    for (const m of msgs) {
      const n = this.o.notifiers.find((x) => x.platform === m.platform);
      if (!n || !m.messageRef || n.platform === 'cli') continue;
      const kind = CARD_PURPOSES[m.purpose]!;
      if (!cards.has(m.purpose)) {
        const c = await buildRolloutCard(store, rolloutId, {
          kind,
          ...(progress ? { progress } : {}),
        });
        if (c && kind === 'alert') c.headline = alertHeadline(c);
        cards.set(m.purpose, c);
      }
      const card = cards.get(m.purpose);
      if (!card) continue;
      await n.update(
        { conversation: m.conversation, messageRef: m.messageRef },
        { rolloutId, clientId: card.clientId, kind: 'progress', text: cardSummary(card), card },
      );
      updated++;
    }
    return updated;
  }

  /** Runs every pending refresh now and waits for them (shutdown, tests). */
  async flush(): Promise<void> {
    // A refresh that went stale while running schedules a follow-up: loop until none is left.
    for (;;) {
      const pending = [...this.refreshes].filter(
        ([, s]) => s.timer !== undefined || s.running !== undefined,
      );
      if (pending.length === 0) return;
      for (const [id, s] of pending) {
        if (s.timer) {
          clearTimeout(s.timer);
          this.runRefresh(id, s);
        }
      }
      await Promise.all(pending.map(([, s]) => s.running ?? Promise.resolve()));
    }
  }
}
