import type { Pool } from './pool.js';

/** Approval decisions: each row keyed by its idempotency key (tickets are in tickets.ts). */
export class RecordsRepository {
  constructor(private readonly pool: Pool) {}

  async saveApproval(a: {
    rolloutId: string;
    decision: string;
    decidedBy: string;
    via: string;
    reason: string | null;
    /** For a defer: when approval is asked for again. */
    deferUntil?: string | null;
    key: string;
  }): Promise<void> {
    await this.pool.query(
      `insert into approvals (rollout_id, decision, decided_by, decided_via, reason, defer_until, idempotency_key)
       values ($1, $2, $3, $4, $5, $6, $7) on conflict (idempotency_key) do nothing`,
      [a.rolloutId, a.decision, a.decidedBy, a.via, a.reason, a.deferUntil ?? null, a.key],
    );
  }

  async approvals(
    rolloutId: string,
  ): Promise<Array<{ decision: string; decidedBy: string; via: string }>> {
    const res = await this.pool.query<{
      decision: string;
      decided_by: string;
      decided_via: string;
    }>(
      `select decision, decided_by, decided_via from approvals where rollout_id = $1 order by id`,
      [rolloutId],
    );
    return res.rows.map((r) => ({
      decision: r.decision,
      decidedBy: r.decided_by,
      via: r.decided_via,
    }));
  }

  /** Every decision with its id, reason and time: what a ticket's work notes record. */
  async decisions(rolloutId: string): Promise<Decision[]> {
    const res = await this.pool.query<{
      id: string;
      decision: string;
      decided_by: string;
      decided_via: string;
      reason: string | null;
      defer_until: Date | null;
      decided_at: Date;
    }>(
      `select id, decision, decided_by, decided_via, reason, defer_until, decided_at
       from approvals where rollout_id = $1 order by id`,
      [rolloutId],
    );
    return res.rows.map((r) => ({
      id: r.id,
      decision: r.decision,
      decidedBy: r.decided_by,
      via: r.decided_via,
      reason: r.reason,
      deferUntil: r.defer_until,
      decidedAt: r.decided_at,
    }));
  }
}

export interface Decision {
  id: string;
  decision: string;
  decidedBy: string;
  via: string;
  reason: string | null;
  deferUntil: Date | null;
  decidedAt: Date;
}
