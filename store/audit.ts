import { createHash } from 'node:crypto';
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

  /**
   * Appends many events in one statement (each chained like `append`'s); events whose key
   * was already recorded are skipped. Returns how many were new. Pass a transaction's
   * client to write them with other changes.
   */
  async appendMany(events: AuditEventInput[], q: Pick<Pool, 'query'> = this.pool): Promise<number> {
    if (!events.length) return 0;
    const col = <T>(f: (e: AuditEventInput) => T) => events.map(f);
    const res = await q.query(
      `insert into audit_events (idempotency_key, actor, action, subject_type, subject_id, client_id, rollout_id, data)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[])
       on conflict (idempotency_key) do nothing`,
      [
        col((e) => e.idempotencyKey),
        col((e) => e.actor),
        col((e) => e.action),
        col((e) => e.subjectType),
        col((e) => e.subjectId),
        col((e) => e.clientId ?? null),
        col((e) => e.rolloutId ?? null),
        col((e) => JSON.stringify(e.data ?? {})),
      ],
    );
    return res.rowCount ?? 0;
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

/** Where a chain went wrong: the first row (by id) that does not fit. */
export interface ChainProblem {
  kind: 'edited' | 'missing' | 'reordered';
  /** The row that does not fit, or the chain's last row when rows are missing at its end. */
  rowId: string | null;
  detail: string;
}

/** One client's chain (or the chain of rows without a client), as `audit verify` found it. */
export interface ChainReport {
  /** 'client:<id>' or 'none'. */
  chain: string;
  clientId: string | null;
  rows: number;
  /** The hash of the chain's last row (hex): note it elsewhere to detect a wholesale rewrite. */
  head: string | null;
  problem: ChainProblem | undefined;
}

interface ChainRow {
  id: string;
  chain: string;
  chain_seq: string;
  occurred: string;
  actor: string;
  action: string;
  subject_type: string;
  subject_id: string;
  client_id: string | null;
  rollout_id: string | null;
  data: string;
  idempotency_key: string;
  hash: Buffer;
}

const FORMAT_TAG = 'patchops.audit.v1';
const NULL_FRAME = Buffer.from([0xff, 0xff, 0xff, 0xff]);

function frame(value: string | Buffer | null): Buffer {
  if (value === null) return NULL_FRAME;
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

/**
 * The chain hash, computed here rather than by the database's own function, so that a
 * replaced function cannot vouch for edited rows. The encoding is the one documented in
 * migration 1764600000000_audit-chain.sql.
 */
export function auditRowHash(prev: Buffer | null, r: Omit<ChainRow, 'chain' | 'hash'>): Buffer {
  const parts = [
    FORMAT_TAG,
    prev,
    r.chain_seq,
    r.id,
    r.occurred,
    r.actor,
    r.action,
    r.subject_type,
    r.subject_id,
    r.client_id,
    r.rollout_id,
    r.data,
    r.idempotency_key,
  ];
  return createHash('sha256')
    .update(Buffer.concat(parts.map(frame)))
    .digest();
}

const PAGE = 2_000;

interface ChainState {
  report: ChainReport;
  seq: bigint;
  hash: Buffer | null;
  lastId: string | null;
}

/**
 * Walks every chain (or one client's) in id order, recomputing each link. Reports per
 * chain the first row that was edited, is missing or was moved; a chain stops at its
 * first problem. Reads in pages, so memory does not grow with the trail.
 */
export async function verifyAuditChains(
  pool: Pool,
  opts: { clientId?: string } = {},
): Promise<ChainReport[]> {
  const only = opts.clientId === undefined ? null : `client:${opts.clientId}`;
  const chains = new Map<string, ChainState>();
  const stateOf = (chain: string, clientId: string | null): ChainState => {
    let s = chains.get(chain);
    if (!s) {
      s = {
        report: { chain, clientId, rows: 0, head: null, problem: undefined },
        seq: 0n,
        hash: null,
        lastId: null,
      };
      chains.set(chain, s);
    }
    return s;
  };
  let after = '0';
  for (;;) {
    const page = await pool.query<ChainRow>(
      `select id::text, chain, chain_seq::text,
              pg_catalog.to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as occurred,
              actor, action, subject_type, subject_id, client_id, rollout_id, data::text as data,
              idempotency_key, hash
         from audit_events
        where id > $1::bigint and ($2::text is null or chain = $2)
        order by audit_events.id limit ${PAGE}`,
      [after, only],
    );
    for (const r of page.rows) {
      const s = stateOf(r.chain, r.client_id);
      s.report.rows += 1;
      if (!s.report.problem) s.report.problem = await checkLink(pool, s, r);
      s.seq = BigInt(r.chain_seq);
      s.hash = r.hash;
      s.lastId = r.id;
    }
    const last = page.rows[page.rows.length - 1];
    if (!last || page.rows.length < PAGE) break;
    after = last.id;
  }
  const heads = await pool.query<{
    chain: string;
    chain_seq: string;
    hash: Buffer;
    event_id: string;
  }>(
    `select chain, chain_seq::text, hash, event_id::text from audit_chain_heads
      where $1::text is null or chain = $1`,
    [only],
  );
  for (const h of heads.rows) {
    const s = stateOf(h.chain, h.chain.startsWith('client:') ? h.chain.slice(7) : null);
    s.report.head = h.hash.toString('hex');
    if (s.report.problem) continue;
    const headSeq = BigInt(h.chain_seq);
    if (headSeq > s.seq) {
      const n = headSeq - s.seq;
      s.report.problem = {
        kind: 'missing',
        rowId: h.event_id,
        detail:
          n === 1n
            ? `the last row (row ${h.event_id}, position ${headSeq}) is missing: deleted after the chain ended there`
            : `the last ${n} rows (up to row ${h.event_id}, position ${headSeq}) are missing: deleted after the chain ended there`,
      };
    } else if (headSeq < s.seq || (s.hash && !s.hash.equals(h.hash))) {
      s.report.problem = {
        kind: 'edited',
        rowId: s.lastId,
        detail: `the recorded end of the chain (row ${h.event_id}, position ${headSeq}) does not match its last row ${s.lastId ?? '-'} (position ${s.seq}): the chain's head or its last row was rewritten`,
      };
    }
  }
  for (const s of chains.values()) {
    if (!s.report.problem && !s.report.head && s.report.rows > 0) {
      s.report.problem = {
        kind: 'missing',
        rowId: s.lastId,
        detail: `no recorded end for this chain (its head was deleted)`,
      };
    }
  }
  return [...chains.values()]
    .map((s) => s.report)
    .sort((a, b) => (a.chain < b.chain ? -1 : a.chain > b.chain ? 1 : 0));
}

async function checkLink(
  pool: Pool,
  s: ChainState,
  r: ChainRow,
): Promise<ChainProblem | undefined> {
  const seq = BigInt(r.chain_seq);
  const expected = s.seq + 1n;
  const previous = s.lastId ? `row ${s.lastId}` : 'the start of the chain';
  if (seq < expected) {
    return {
      kind: 'reordered',
      rowId: r.id,
      detail: `row ${r.id} holds position ${seq}, but ${previous} already held position ${s.seq}: rows were moved or duplicated`,
    };
  }
  if (seq > expected) {
    const elsewhere = await pool.query<{ id: string }>(
      `select id::text from audit_events where chain = $1 and chain_seq = $2 order by audit_events.id limit 1`,
      [r.chain, expected.toString()],
    );
    const moved = elsewhere.rows[0];
    return moved
      ? {
          kind: 'reordered',
          rowId: r.id,
          detail: `row ${r.id} holds position ${seq} but position ${expected} comes later, at row ${moved.id}: rows were moved`,
        }
      : {
          kind: 'missing',
          rowId: r.id,
          detail: `position${seq - expected > 1n ? `s ${expected}-${seq - 1n}` : ` ${expected}`} between ${previous} and row ${r.id} ${seq - expected > 1n ? 'are' : 'is'} missing: deleted`,
        };
  }
  if (!auditRowHash(s.hash, r).equals(r.hash)) {
    return {
      kind: 'edited',
      rowId: r.id,
      detail: `row ${r.id} does not match its hash: it was edited after it was written${s.lastId ? ` (or row ${s.lastId} before it was, and given a new hash)` : ''}`,
    };
  }
  return undefined;
}
