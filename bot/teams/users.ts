import type { Activity, ChannelAccount, TeamsChannelAccount } from 'botbuilder';
import type { Logger } from 'pino';
import type { ChatRepository } from '../../store/index.js';
import { TEAMS_LIMITS } from './adaptive.js';
import { statusOf } from './retry.js';

/** A Teams user as activities and the Bot Connector name them. */
export interface TeamsUser {
  tenantId: string;
  /** Entra ID (AAD) object id: what policy lists approvers by. */
  aadObjectId: string;
  /** Teams user id (MRI, `29:…`), issued per bot: what refresh.userIds takes. */
  mri: string;
  name?: string | undefined;
}

/** People are `29:…` in Teams; bots are `28:…`. */
export const isUserMri = (id: unknown): id is string =>
  typeof id === 'string' && /^29:\S+$/.test(id);

/** The people an activity names with both ids: its sender and any members added. */
export function usersIn(a: Partial<Activity>): TeamsUser[] {
  const channelData = a.channelData as { tenant?: { id?: unknown } } | undefined;
  const tenantId = a.conversation?.tenantId ?? channelData?.tenant?.id;
  if (typeof tenantId !== 'string' || !tenantId) return [];
  const out = new Map<string, TeamsUser>();
  for (const m of [a.from, ...(a.membersAdded ?? [])] as Array<ChannelAccount | undefined>) {
    if (!m || !isUserMri(m.id) || typeof m.aadObjectId !== 'string' || !m.aadObjectId) continue;
    const name = m.name || out.get(m.aadObjectId)?.name; // membersAdded come without names
    out.set(m.aadObjectId, {
      tenantId,
      aadObjectId: m.aadObjectId,
      mri: m.id,
      ...(name ? { name } : {}),
    });
  }
  return [...out.values()];
}

/** Asks the Bot Connector for one member of a conversation; rejects with the Connector's error. */
export type MemberLookup = (aadObjectId: string) => Promise<Partial<TeamsChannelAccount>>;

export interface TeamsUsersOptions {
  store: Pick<ChatRepository, 'saveUser' | 'userRefs'>;
  log: Logger;
  /** How long "not a member of this conversation" (404) is believed. Default 1 h. */
  notMemberTtlMs?: number;
  /** How long after another failed lookup (throttled, down) the same question waits. Default 1 min. */
  failedTtlMs?: number;
  /** A user seen again within this time is not written again. Default 1 h (then seen_at moves). */
  seenTtlMs?: number;
  now?: () => number;
}

/** Entries kept per in-process cache; the oldest go first. */
const MAX_ENTRIES = 10_000;
/** Connector questions in flight at once for one card. */
const LOOKUP_CONCURRENCY = 4;

function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key); // re-inserted last: insertion order is age order
  map.set(key, value);
  if (map.size > MAX_ENTRIES) map.delete(map.keys().next().value as K);
}

const isNotMember = (err: unknown) =>
  statusOf(err) === 404 || (err as { code?: unknown })?.code === 'MemberNotFoundInConversation';

/**
 * Who is who in Teams. Policy names approvers by AAD object id; Adaptive Card refresh.userIds
 * must be Teams user ids (MRIs), at most 60. MRIs are learned from every activity (sender,
 * members added) and, for approvers who never spoke, asked of the Bot Connector in the card's
 * conversation. Both land in PostgreSQL, so every process (bot, workers) shares them.
 */
export class TeamsUsers {
  private readonly seen = new Map<string, { mri: string; name?: string | undefined; at: number }>();
  /** `conversation|aad` → until when not to ask again. */
  private readonly unanswered = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<string | undefined>>();
  private readonly now: () => number;

  constructor(private readonly o: TeamsUsersOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Stores the users an activity names; a burst of activities from one user writes once. */
  async learn(a: Partial<Activity>): Promise<number> {
    let written = 0;
    for (const u of usersIn(a)) if (await this.save(u)) written++;
    return written;
  }

  /** Stores one user unless this process stored the same recently. Returns whether it wrote. */
  async save(u: TeamsUser): Promise<boolean> {
    const key = `${u.tenantId}|${u.aadObjectId}`;
    const was = this.seen.get(key);
    const now = this.now();
    const same =
      was?.mri === u.mri &&
      (u.name === undefined || u.name === was.name) &&
      now - was.at < (this.o.seenTtlMs ?? 3_600_000);
    if (same) return false;
    // Marked before the write, so concurrent activities of one user write once.
    remember(this.seen, key, { mri: u.mri, name: u.name ?? was?.name, at: now });
    try {
      await this.o.store.saveUser({
        platform: 'teams',
        tenantId: u.tenantId,
        aadObjectId: u.aadObjectId,
        userRef: u.mri,
        name: u.name ?? null,
      });
    } catch (err) {
      this.seen.delete(key);
      throw err;
    }
    return true;
  }

  /**
   * refresh.userIds for these approvers: their MRIs in policy order, at most 60. Stored ones
   * first; with `ask`, unknown ones are asked of the Connector in that conversation and the
   * answer stored. Anyone still unknown is left out: an AAD id there refreshes nobody.
   */
  async refreshIds(
    tenantId: string,
    aadObjectIds: readonly string[],
    ask?: { conversation: string; member: MemberLookup },
  ): Promise<string[]> {
    const ids = [...new Set(aadObjectIds)];
    const known = await this.o.store.userRefs('teams', tenantId, ids);
    const limit = TEAMS_LIMITS.refreshUsers;
    if (ask && known.size < limit) {
      const unknown = ids.filter((id) => !known.has(id));
      for (let i = 0; i < unknown.length && known.size < limit; i += LOOKUP_CONCURRENCY) {
        const batch = unknown.slice(i, i + LOOKUP_CONCURRENCY);
        const found = await Promise.all(batch.map((id) => this.lookupOnce(tenantId, id, ask)));
        batch.forEach((id, j) => {
          const mri = found[j];
          if (mri) known.set(id, mri);
        });
      }
    }
    return ids
      .map((id) => known.get(id))
      .filter(isUserMri)
      .slice(0, limit);
  }

  /**
   * One Connector question per conversation and user at a time, however many renders want it.
   * Checked at the moment of asking, not when the render read the table: a concurrent render
   * may have had its answer (or its 404) since.
   */
  private lookupOnce(
    tenantId: string,
    aadObjectId: string,
    ask: { conversation: string; member: MemberLookup },
  ): Promise<string | undefined> {
    const learned = this.seen.get(`${tenantId}|${aadObjectId}`);
    if (learned) return Promise.resolve(learned.mri);
    const key = `${ask.conversation}|${aadObjectId}`;
    if ((this.unanswered.get(key) ?? 0) > this.now()) return Promise.resolve(undefined);
    let p = this.inFlight.get(key);
    if (!p) {
      p = this.lookup(tenantId, aadObjectId, ask, key).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, p);
    }
    return p;
  }

  private async lookup(
    tenantId: string,
    aadObjectId: string,
    ask: { member: MemberLookup },
    key: string,
  ): Promise<string | undefined> {
    const { log } = this.o;
    let m: Partial<TeamsChannelAccount>;
    try {
      m = await ask.member(aadObjectId);
    } catch (err) {
      const notMember = isNotMember(err);
      const ttl = notMember ? (this.o.notMemberTtlMs ?? 3_600_000) : (this.o.failedTtlMs ?? 60_000);
      remember(this.unanswered, key, this.now() + ttl);
      if (notMember)
        log.info(
          { aadObjectId, key },
          'teams approver is not in this conversation; no auto-refresh',
        );
      else log.warn({ err, aadObjectId, key }, 'teams member lookup failed; asking again later');
      return undefined;
    }
    const other = m.aadObjectId && m.aadObjectId.toLowerCase() !== aadObjectId.toLowerCase();
    if (!isUserMri(m.id) || other) {
      remember(this.unanswered, key, this.now() + (this.o.failedTtlMs ?? 60_000));
      log.warn({ aadObjectId, got: m.id, key }, 'teams member lookup answered someone else');
      return undefined;
    }
    await this.save({ tenantId, aadObjectId, mri: m.id, name: m.name });
    return m.id;
  }
}
