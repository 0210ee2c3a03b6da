import type { Pool } from './pool.js';

/** Where a write stands: first try, a retry that must look first, or done (with its result). */
export type Claim =
  | { state: 'new'; since: Date }
  | { state: 'recheck'; since: Date }
  | { state: 'done'; since: Date; result: string | null };

/**
 * Writes patchops makes in other systems (tickets, RMM jobs), each once per key: claimed
 * before the call, completed after with what it returned. A retry that finds its claim
 * open knows the earlier attempt may have reached the other system and has the adapter
 * look there first (RetryHints, WriteOptions.recheck) instead of writing blindly.
 */
export class ClaimRepository {
  constructor(private readonly pool: Pool) {}

  async claim(key: string, what: string, rolloutId: string | null = null): Promise<Claim> {
    const res = await this.pool.query<{
      done: boolean;
      attempts: number;
      claimed_at: Date;
      result: string | null;
    }>(
      `insert into external_writes (idempotency_key, rollout_id, what) values ($1, $2, $3)
       on conflict (idempotency_key) do update
         set attempts = external_writes.attempts + case when external_writes.done_at is null then 1 else 0 end
       returning done_at is not null as done, attempts, claimed_at, result`,
      [key, rolloutId, what],
    );
    const r = res.rows[0]!;
    if (r.done) return { state: 'done', since: r.claimed_at, result: r.result };
    return { state: r.attempts > 1 ? 'recheck' : 'new', since: r.claimed_at };
  }

  async complete(key: string, result: string | null = null): Promise<void> {
    await this.pool.query(
      `update external_writes set done_at = now(), result = $2 where idempotency_key = $1`,
      [key, result],
    );
  }

  /** `claim` for many keys in one statement; the claims come back keyed by idempotency key. */
  async claimMany(
    writes: Array<{ key: string; what: string }>,
    rolloutId: string | null = null,
  ): Promise<Map<string, Claim>> {
    if (!writes.length) return new Map();
    const res = await this.pool.query<{
      idempotency_key: string;
      done: boolean;
      attempts: number;
      claimed_at: Date;
      result: string | null;
    }>(
      `insert into external_writes (idempotency_key, rollout_id, what)
       select k, $2, w from unnest($1::text[], $3::text[]) as u(k, w)
       on conflict (idempotency_key) do update
         set attempts = external_writes.attempts + case when external_writes.done_at is null then 1 else 0 end
       returning idempotency_key, done_at is not null as done, attempts, claimed_at, result`,
      [writes.map((w) => w.key), rolloutId, writes.map((w) => w.what)],
    );
    return new Map(
      res.rows.map((r): [string, Claim] => [
        r.idempotency_key,
        r.done
          ? { state: 'done', since: r.claimed_at, result: r.result }
          : { state: r.attempts > 1 ? 'recheck' : 'new', since: r.claimed_at },
      ]),
    );
  }

  /** `complete` for many keys in one statement. */
  async completeMany(done: Array<{ key: string; result: string | null }>): Promise<void> {
    if (!done.length) return;
    await this.pool.query(
      `update external_writes e set done_at = now(), result = u.r
       from unnest($1::text[], $2::text[]) as u(k, r) where e.idempotency_key = u.k`,
      [done.map((d) => d.key), done.map((d) => d.result)],
    );
  }
}
