import type { Pool } from './pool.js';

export interface AuditEventInput {
  /** Derived from workflow id + step (+ device): the same key is written once, ever. */
  idempotencyKey: string;
  actor: string;
  action: string;
  subjectType: string;
  subjectId: string;
  clientId?: string | undefined;
  rolloutId?: string | undefined;
  data?: Record<string, unknown>;
}

export interface AuditEvent extends Required<Omit<AuditEventInput, 'clientId' | 'rolloutId'>> {
  id: string;
  occurredAt: Date;
  clientId: string | null;
  rolloutId: string | null;
}

interface AuditRow {
  id: string;
  occurred_at: Date;
  actor: string;
  action: string;
  subject_type: string;
  subject_id: string;
  client_id: string | null;
  rollout_id: string | null;
  data: Record<string, unknown>;
  idempotency_key: string;
}

const toEvent = (r: AuditRow): AuditEvent => ({
  id: r.id,
  occurredAt: r.occurred_at,
  actor: r.actor,
  action: r.action,
  subjectType: r.subject_type,
  subjectId: r.subject_id,
  clientId: r.client_id,
  rolloutId: r.rollout_id,
  data: r.data,
  idempotencyKey: r.idempotency_key,
});

/** The append-only audit trail (the database refuses UPDATE, DELETE and TRUNCATE). */
export class AuditRepository {
  constructor(private readonly pool: Pool) {}

  /** Appends an event; returns false when an event with this key was already recorded. */
  async append(e: AuditEventInput): Promise<boolean> {
    const res = await this.pool.query(
      `insert into audit_events (idempotency_key, actor, action, subject_type, subject_id, client_id, rollout_id, data)
       values ($1, $2, $3, $4, $5, $6, $7, $8)
       on conflict (idempotency_key) do nothing`,
      [
        e.idempotencyKey,
        e.actor,
        e.action,
        e.subjectType,
        e.subjectId,
        e.clientId ?? null,
        e.rolloutId ?? null,
        e.data ?? {},
      ],
    );
    return res.rowCount === 1;
  }

  async listBySubject(subjectType: string, subjectId: string): Promise<AuditEvent[]> {
    const res = await this.pool.query<AuditRow>(
      `select * from audit_events where subject_type = $1 and subject_id = $2 order by occurred_at, id`,
      [subjectType, subjectId],
    );
    return res.rows.map(toEvent);
  }

  async listByKeyPrefix(prefix: string): Promise<AuditEvent[]> {
    const res = await this.pool.query<AuditRow>(
      `select * from audit_events where idempotency_key like $1 || '%' order by id`,
      [prefix],
    );
    return res.rows.map(toEvent);
  }
}
