import type { Pool } from './pool.js';

/** Tickets and approval decisions: each row keyed by its idempotency key. */
export class RecordsRepository {
  constructor(private readonly pool: Pool) {}

  async ticketByKey(key: string): Promise<{ externalId: string; url: string | null } | undefined> {
    const res = await this.pool.query<{ external_id: string; url: string | null }>(
      `select external_id, url from tickets where idempotency_key = $1`,
      [key],
    );
    const r = res.rows[0];
    return r ? { externalId: r.external_id, url: r.url } : undefined;
  }

  async saveTicket(t: {
    rolloutId: string;
    kind: string;
    externalId: string;
    url: string | null;
    key: string;
  }): Promise<void> {
    await this.pool.query(
      `insert into tickets (rollout_id, itsm_kind, external_id, url, status, idempotency_key)
       values ($1, $2, $3, $4, 'open', $5) on conflict (idempotency_key) do nothing`,
      [t.rolloutId, t.kind, t.externalId, t.url, t.key],
    );
  }

  async setTicketStatus(externalId: string, status: string): Promise<void> {
    await this.pool.query(
      `update tickets set status = $2, updated_at = now() where external_id = $1`,
      [externalId, status],
    );
  }

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
}
