import type { Pool } from './pool.js';

/** Alerts one run sends per client at most; the rest wait for the next run. */
export const UNSENT_BATCH = 50_000;

export type AlertKind = 'sla_due' | 'patch_failed' | 'not_seen';

/** Something wrong with one device (and patch) that people are told about once. */
export interface ComplianceAlert {
  id: string;
  kind: AlertKind;
  clientId: string;
  deviceId: string;
  hostname: string;
  /** null for device-level alerts (not seen). */
  patchId: string | null;
  patchTitle: string | null;
  kev: boolean;
  /** The due date (sla_due), the failure (patch_failed) or the last sighting (not_seen). */
  occurrence: Date;
  rolloutId: string | null;
  /** The RMM's error for a failed patch; '' otherwise. */
  detail: string;
}

export interface AlertCheck {
  asOf: Date;
  /** Open pairs due before asOf + this many hours (overdue ones included). */
  dueWithinHours: number;
  /** Devices no scan has seen for this many days. */
  notSeenDays: number;
  clientId?: string | undefined;
}

interface AlertRow {
  id: string;
  kind: AlertKind;
  client_id: string;
  device_id: string;
  hostname: string;
  patch_id: string;
  title: string | null;
  kev: boolean | null;
  occurrence: Date;
  rollout_id: string | null;
  detail: string;
}

/**
 * Compliance alerts, once per device × patch × occurrence (the unique key): a check that
 * runs again finds the same rows and raises nothing new. Alerts stay unsent until the post
 * that carries them is recorded, so a crash between the two repeats the same post key.
 */
export class AlertRepository {
  constructor(private readonly pool: Pool) {}

  /** Records what is wrong as of `asOf`; returns how many alerts are new. */
  async raise(c: AlertCheck): Promise<number> {
    const res = await this.pool.query(
      `insert into compliance_alerts (kind, client_id, device_id, patch_id, occurrence, rollout_id, detail)
       select 'sla_due', d.client_id, d.id, dp.patch_id, coalesce(dp.due_at, rp.due_at), dp.rollout_id, ''
       from device_patches dp join devices d on d.id = dp.device_id
       left join rollout_patches rp on rp.rollout_id = dp.rollout_id and rp.patch_id = dp.patch_id
       where ($4::text is null or d.client_id = $4) and dp.state not in ('installed', 'excluded')
         and coalesce(dp.due_at, rp.due_at) <= $1::timestamptz + make_interval(hours => $2)
       union all
       select 'patch_failed', d.client_id, d.id, dp.patch_id, dp.state_changed_at, dp.rollout_id, coalesce(dp.last_error, '')
       from device_patches dp join devices d on d.id = dp.device_id
       where ($4::text is null or d.client_id = $4) and dp.state = 'failed'
       union all
       select 'not_seen', d.client_id, d.id, '', coalesce(d.last_seen_at, d.created_at), null, ''
       from devices d
       where ($4::text is null or d.client_id = $4)
         and coalesce(d.last_seen_at, d.created_at) < $1::timestamptz - make_interval(days => $3)
       on conflict (kind, device_id, patch_id, occurrence) do nothing`,
      [c.asOf, c.dueWithinHours, c.notSeenDays, c.clientId ?? null],
    );
    return res.rowCount ?? 0;
  }

  /** A client's alerts not yet sent, oldest first (a first run on a big fleet has many). */
  async unsent(clientId: string, limit = UNSENT_BATCH): Promise<ComplianceAlert[]> {
    const res = await this.pool.query<AlertRow>(
      `select a.id::text, a.kind, a.client_id, a.device_id, d.hostname, a.patch_id, p.title, p.kev,
              a.occurrence, a.rollout_id, a.detail
       from compliance_alerts a join devices d on d.id = a.device_id
       left join patches p on p.id = a.patch_id
       where a.client_id = $1 and a.notified_at is null order by a.id limit $2`,
      [clientId, limit],
    );
    return res.rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      clientId: r.client_id,
      deviceId: r.device_id,
      hostname: r.hostname,
      patchId: r.patch_id === '' ? null : r.patch_id,
      patchTitle: r.title,
      kev: r.kev ?? false,
      occurrence: r.occurrence,
      rolloutId: r.rollout_id,
      detail: r.detail,
    }));
  }

  async markSent(ids: readonly string[]): Promise<void> {
    if (!ids.length) return;
    await this.pool.query(
      `update compliance_alerts set notified_at = now() where id = any($1::bigint[]) and notified_at is null`,
      [ids],
    );
  }

  /**
   * Claims a chat post that belongs to no rollout (alerts, reports) under `key`. Returns
   * the earlier post's reference when it was recorded, `undefined` when it is this call's
   * to make; `retry` says an earlier claim was never completed (it may have posted).
   */
  async claimPost(m: {
    platform: string;
    conversation: string;
    purpose: string;
    key: string;
  }): Promise<{ state: 'new' } | { state: 'retry' } | { state: 'done'; messageRef: string }> {
    const res = await this.pool.query(
      `insert into chat_messages (platform, conversation, message_ref, rollout_id, purpose, idempotency_key)
       values ($1, $2, null, null, $3, $4) on conflict (idempotency_key) do nothing`,
      [m.platform, m.conversation, m.purpose, m.key],
    );
    if ((res.rowCount ?? 0) > 0) return { state: 'new' };
    const row = await this.pool.query<{ message_ref: string | null }>(
      `select message_ref from chat_messages where idempotency_key = $1`,
      [m.key],
    );
    const ref = row.rows[0]?.message_ref;
    return ref ? { state: 'done', messageRef: ref } : { state: 'retry' };
  }

  async completePost(key: string, messageRef: string): Promise<void> {
    await this.pool.query(
      `update chat_messages set message_ref = $2, updated_at = now() where idempotency_key = $1`,
      [key, messageRef],
    );
  }

  /** How many posts were recorded under keys starting with `prefix` (tests, doctor). */
  async postsLike(prefix: string): Promise<number> {
    const res = await this.pool.query<{ n: number }>(
      `select count(*)::int as n from chat_messages where idempotency_key like $1 || '%' and message_ref is not null`,
      [prefix],
    );
    return res.rows[0]?.n ?? 0;
  }
}
