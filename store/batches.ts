import type { DeviceProgress } from '../domain/batch.js';
import type { DeviceOverrides } from '../domain/rollout-settings.js';
import type { DeviceRolloutResult } from '../workflows/device-rollout.js';
import type { AuditRepository } from './audit.js';
import type { Pool } from './pool.js';
import type { RolloutDeviceStatus } from './rollouts.js';

/** A device of a batch with everything the batch activity needs to move it on. */
export interface BatchDevice {
  deviceId: string;
  status: RolloutDeviceStatus;
  patchIds: string[];
  /** Where the device's site or group policy differs from the client's. */
  settings?: DeviceOverrides;
  /** The device's own zone, else its site's. */
  timezone: string;
  siteTimezone: string;
  progress: DeviceProgress;
}

/** A step to write back: the device's new progress and, when it changed, its status. */
export interface BatchStepUpdate {
  deviceId: string;
  progress: DeviceProgress;
  status?: RolloutDeviceStatus;
}

export type BatchCounts = Record<'succeeded' | 'failed' | 'skipped' | 'cancelled' | 'open', number>;

const FINAL: ReadonlySet<string> = new Set(['succeeded', 'failed', 'skipped', 'cancelled']);
/** The planned pairs' state while a device is at this status. */
const PATCH_STATE: Partial<Record<RolloutDeviceStatus, 'scheduled' | 'installing'>> = {
  waiting_window: 'scheduled',
  deploying: 'installing',
};

/**
 * The batched rollout engine's rows: batches of a ring's devices (in device id order),
 * each device's step inside its batch, and the outcomes, written a batch at a time.
 */
export class BatchRepository {
  constructor(
    private readonly pool: Pool,
    private readonly audit: AuditRepository,
  ) {}

  /**
   * Hands the next `limit` devices of a ring after `after` to batch `batch`. The same
   * arguments give the same batch, so a retried call changes nothing.
   */
  async form(a: {
    rolloutId: string;
    ringIndex: number;
    after: string | null;
    limit: number;
    batch: number;
  }): Promise<{ size: number; lastDeviceId: string | null }> {
    const res = await this.pool.query<{ n: string; last: string | null }>(
      `with picked as (
         select device_id from rollout_devices where rollout_id = $1 and ring_index = $2
           and ($3::text is null or device_id > $3) order by device_id limit $4),
       marked as (
         update rollout_devices rd set batch = $5 from picked
         where rd.rollout_id = $1 and rd.device_id = picked.device_id returning rd.device_id)
       select count(*) as n, max(device_id) as last from marked`,
      [a.rolloutId, a.ringIndex, a.after, a.limit, a.batch],
    );
    const row = res.rows[0]!;
    return { size: Number(row.n), lastDeviceId: row.last };
  }

  /** The batch's devices in id order, with their zones, plans and progress. */
  async devices(rolloutId: string, batch: number): Promise<BatchDevice[]> {
    const res = await this.pool.query<{
      device_id: string;
      status: RolloutDeviceStatus;
      patch_ids: string[];
      settings: DeviceOverrides | null;
      progress: DeviceProgress;
      timezone: string;
      site_timezone: string;
    }>(
      `select rd.device_id, rd.status, rd.patch_ids, rd.settings, rd.progress,
              coalesce(d.timezone, s.timezone, 'UTC') as timezone, coalesce(s.timezone, 'UTC') as site_timezone
       from rollout_devices rd join devices d on d.id = rd.device_id left join sites s on s.id = d.site_id
       where rd.rollout_id = $1 and rd.batch = $2 order by rd.device_id`,
      [rolloutId, batch],
    );
    return res.rows.map((r) => ({
      deviceId: r.device_id,
      status: r.status,
      patchIds: r.patch_ids,
      ...(r.settings ? { settings: r.settings } : {}),
      timezone: r.timezone,
      siteTimezone: r.site_timezone,
      progress: r.progress,
    }));
  }

  /**
   * Writes steps back in one transaction: progress, changed statuses, the planned pairs'
   * states that go with them (scheduled, installing) and an audit event per status change
   * (keyed by `auditKey` so a retried step writes each once). A device that already ended
   * (cancelled while its batch ran) keeps its outcome.
   */
  async saveSteps(
    rolloutId: string,
    updates: BatchStepUpdate[],
    auditKey: (u: BatchStepUpdate) => string,
  ): Promise<void> {
    if (!updates.length) return;
    await this.transaction(async (q) => {
      const res = await q.query<{ device_id: string }>(
        `update rollout_devices rd set progress = u.progress, status = coalesce(u.status, rd.status),
           updated_at = now()
         from unnest($2::text[], $3::jsonb[], $4::text[]) as u(device_id, progress, status)
         where rd.rollout_id = $1 and rd.device_id = u.device_id and rd.status <> all($5::text[])
         returning rd.device_id`,
        [
          rolloutId,
          updates.map((u) => u.deviceId),
          updates.map((u) => JSON.stringify(u.progress)),
          updates.map((u) => u.status ?? null),
          [...FINAL],
        ],
      );
      const saved = new Set(res.rows.map((r) => r.device_id));
      const changed = updates.filter((u) => u.status && saved.has(u.deviceId));
      for (const [status, state] of Object.entries(PATCH_STATE)) {
        const ids = changed.filter((u) => u.status === status).map((u) => u.deviceId);
        if (!ids.length) continue;
        await q.query(
          `update device_patches dp set state = $3, rollout_id = $1, state_changed_at = now()
           from rollout_devices rd
           where rd.rollout_id = $1 and rd.device_id = any($2::text[])
             and dp.device_id = rd.device_id and dp.patch_id = any(rd.patch_ids)
             and dp.state not in ('installed', 'pending_reboot', 'rolled_back') and dp.state <> $3`,
          [rolloutId, ids, state],
        );
      }
      await this.audit.appendMany(
        changed.map((u) => ({
          idempotencyKey: auditKey(u),
          actor: 'patchops',
          action: `device.${u.status}`,
          subjectType: 'device',
          subjectId: u.deviceId,
          rolloutId,
          data: {},
        })),
        q,
      );
    });
  }

  /**
   * Records final outcomes in one transaction, as `recordDeviceOutcome` does one by one:
   * the device's row, its pairs' states, the pairs it did not settle back to missing, and
   * an audit event per device (written once per device and outcome). The first outcome
   * stays: a device already ended (cancelled while its batch ran) is left as it is.
   * Returns the devices recorded now.
   */
  async recordOutcomes(rolloutId: string, all: DeviceRolloutResult[]): Promise<string[]> {
    if (!all.length) return [];
    let recorded: string[] = [];
    await this.transaction(async (q) => {
      const res = await q.query<{ device_id: string }>(
        `update rollout_devices rd set status = u.status, outcome = u.outcome, updated_at = now()
         from unnest($2::text[], $3::text[], $4::jsonb[]) as u(device_id, status, outcome)
         where rd.rollout_id = $1 and rd.device_id = u.device_id and rd.status <> all($5::text[])
         returning rd.device_id`,
        [
          rolloutId,
          all.map((r) => r.deviceId),
          all.map((r) => r.outcome),
          all.map((r) => JSON.stringify(r)),
          [...FINAL],
        ],
      );
      const now = new Set(res.rows.map((r) => r.device_id));
      const results = all.filter((r) => now.has(r.deviceId));
      recorded = results.map((r) => r.deviceId);
      if (!results.length) return;
      const pairs = pairsOf(results);
      if (pairs.length) {
        await q.query(
          `update device_patches dp set state = u.state, rollout_id = $1, last_error = u.error,
             state_changed_at = now(),
             installed_at = case when u.state = 'installed' then now() else dp.installed_at end
           from unnest($2::text[], $3::text[], $4::text[], $5::text[]) as u(device_id, patch_id, state, error)
           where dp.device_id = u.device_id and dp.patch_id = u.patch_id`,
          [rolloutId, ...[0, 1, 2, 3].map((i) => pairs.map((p) => p[i]))],
        );
      }
      await q.query(
        `update device_patches set state = 'missing', state_changed_at = now()
         where rollout_id = $1 and device_id = any($2::text[])
           and state in ('approved', 'scheduled', 'installing')`,
        [rolloutId, recorded],
      );
      await this.audit.appendMany(
        results.map((r) => ({
          idempotencyKey: `${rolloutId}:device:${r.deviceId}:${r.outcome}`,
          actor: 'patchops',
          action: `device.${r.outcome}`,
          subjectType: 'device',
          subjectId: r.deviceId,
          rolloutId,
          data: {
            installed: r.installed,
            failed: r.failed,
            pendingReboot: r.pendingReboot,
            rolledBack: r.rolledBack ?? [],
            reason: r.reason ?? null,
          },
        })),
        q,
      );
    });
    return recorded;
  }

  /** How many of the batch's devices ended how, and how many are still open. */
  async counts(rolloutId: string, batch: number): Promise<BatchCounts> {
    const res = await this.pool.query<{ status: string; n: string }>(
      `select status, count(*) as n from rollout_devices where rollout_id = $1 and batch = $2
       group by status`,
      [rolloutId, batch],
    );
    const counts: BatchCounts = { succeeded: 0, failed: 0, skipped: 0, cancelled: 0, open: 0 };
    for (const r of res.rows) {
      const key = FINAL.has(r.status) ? (r.status as keyof BatchCounts) : 'open';
      counts[key] += Number(r.n);
    }
    return counts;
  }

  /** A ring's devices (of one batch, or of all) handed to a batch that have not ended. */
  async openDevices(
    rolloutId: string,
    ringIndex: number,
    batch?: number,
  ): Promise<Array<{ deviceId: string; patchIds: string[] }>> {
    const res = await this.pool.query<{ device_id: string; patch_ids: string[] }>(
      `select device_id, patch_ids from rollout_devices where rollout_id = $1 and ring_index = $2
         and batch is not null and ($3::int is null or batch = $3) and status <> all($4::text[])
       order by device_id`,
      [rolloutId, ringIndex, batch ?? null, [...FINAL]],
    );
    return res.rows.map((r) => ({ deviceId: r.device_id, patchIds: r.patch_ids }));
  }

  private async transaction(body: (q: Pick<Pool, 'query'>) => Promise<void>): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      await body(client);
      await client.query('commit');
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}

/** The device × patch states an outcome sets: [device, patch, state, error]. */
function pairsOf(results: DeviceRolloutResult[]): Array<[string, string, string, string | null]> {
  const pairs: Array<[string, string, string, string | null]> = [];
  for (const r of results) {
    const states = [
      ['installed', r.installed],
      ['pending_reboot', r.pendingReboot],
      ['failed', r.failed],
      ['rolled_back', r.rolledBack ?? []],
    ] as const;
    for (const [state, ids] of states)
      for (const p of ids)
        pairs.push([r.deviceId, p, state, state === 'failed' ? (r.reason ?? null) : null]);
  }
  return pairs;
}
