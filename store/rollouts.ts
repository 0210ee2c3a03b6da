import type { RolloutStatus } from '../domain/rollout-state.js';
import type { DeviceOverrides } from '../domain/rollout-settings.js';
import type { Pool } from './pool.js';

export type { RolloutStatus } from '../domain/rollout-state.js';

export type RolloutDeviceStatus =
  | 'pending'
  | 'waiting_window'
  | 'offline'
  | 'deploying'
  | 'rebooting'
  | 'succeeded'
  | 'failed'
  | 'skipped'
  | 'cancelled';

export interface PlannedPatch {
  patchId: string;
  decision: 'auto' | 'needs_approval' | 'reject' | 'defer';
  reason: string;
  riskTier: string;
  dueAt: Date | null;
}

export interface PlannedDevice {
  deviceId: string;
  ringIndex: number;
  ring: string;
  patchIds: string[];
  /** Where the device's site or group policy differs from the client's. */
  settings?: DeviceOverrides;
}

/** Patches a device's policy chain rejects (matrix or blocklist): excluded from compliance. */
export interface ExcludedPatches {
  deviceId: string;
  patchIds: string[];
}

export interface RingCounts {
  ringIndex: number;
  ring: string;
  counts: Partial<Record<RolloutDeviceStatus, number>>;
  total: number;
}

export interface RolloutRow {
  id: string;
  clientId: string;
  status: RolloutStatus;
  summary: Record<string, unknown>;
  createdAt: Date;
}

/** Rollouts and their plans: which patches were decided how, which device is in which ring. */
export class RolloutRepository {
  constructor(private readonly pool: Pool) {}

  /** Creates the rollout row once; a retried activity finds it already there. */
  async create(r: {
    id: string;
    clientId: string;
    startedBy: string;
    policy: unknown;
  }): Promise<void> {
    await this.pool.query(
      `insert into rollouts (id, client_id, status, policy, started_by) values ($1, $2, 'planning', $3, $4)
       on conflict (id) do nothing`,
      [r.id, r.clientId, JSON.stringify(r.policy ?? {}), r.startedBy],
    );
  }

  async setStatus(
    id: string,
    status: RolloutStatus,
    summary?: Record<string, unknown>,
  ): Promise<void> {
    const final = ['completed', 'rejected', 'halted', 'cancelled', 'failed'].includes(status);
    await this.pool.query(
      `update rollouts set status = $2, summary = coalesce($3::jsonb, summary), updated_at = now(),
         finished_at = case when $4 then coalesce(finished_at, now()) else finished_at end
       where id = $1`,
      [id, status, summary ? JSON.stringify(summary) : null, final],
    );
  }

  /**
   * A rollout whose workflow ended without recording its end (failed, terminated, timed out)
   * is failed, with the reason; one that recorded its end keeps it. True when it changed.
   */
  async markFailed(id: string, note: string): Promise<boolean> {
    const res = await this.pool.query(
      `update rollouts set status = 'failed', phase = 'failed', updated_at = now(),
         summary = coalesce(summary, '{}'::jsonb) || jsonb_build_object('outcome', 'failed', 'note', $2::text),
         finished_at = coalesce(finished_at, now())
       where id = $1 and status not in ('completed', 'rejected', 'halted', 'cancelled', 'failed')`,
      [id, note],
    );
    return res.rowCount === 1;
  }

  async get(id: string): Promise<RolloutRow | undefined> {
    const res = await this.pool.query<{
      id: string;
      client_id: string;
      status: RolloutStatus;
      summary: Record<string, unknown>;
      created_at: Date;
    }>(`select id, client_id, status, summary, created_at from rollouts where id = $1`, [id]);
    const r = res.rows[0];
    return r
      ? {
          id: r.id,
          clientId: r.client_id,
          status: r.status,
          summary: r.summary,
          createdAt: r.created_at,
        }
      : undefined;
  }

  /**
   * Replaces the plan in one transaction, so a retried planning step never leaves half a
   * plan; marks the device × patch pairs the policy rejects as excluded.
   */
  async savePlan(
    rolloutId: string,
    patches: PlannedPatch[],
    devices: PlannedDevice[],
    excluded: ExcludedPatches[] = [],
  ): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      await client.query('delete from rollout_devices where rollout_id = $1', [rolloutId]);
      await client.query('delete from rollout_patches where rollout_id = $1', [rolloutId]);
      await client.query(
        `insert into rollout_patches (rollout_id, patch_id, decision, reason, risk_tier, due_at)
         select $1, p->>'patchId', p->>'decision', p->>'reason', p->>'riskTier', (p->>'dueAt')::timestamptz
         from jsonb_array_elements($2::jsonb) as p`,
        [rolloutId, JSON.stringify(patches)],
      );
      await client.query(
        `insert into rollout_devices (rollout_id, device_id, ring_index, ring, patch_ids, settings)
         select $1, d->>'deviceId', (d->>'ringIndex')::int, d->>'ring', array(select jsonb_array_elements_text(d->'patchIds')), d->'settings'
         from jsonb_array_elements($2::jsonb) as d`,
        [rolloutId, JSON.stringify(devices)],
      );
      await client.query(
        `update device_patches dp set state = 'excluded', rollout_id = $1, state_changed_at = now()
         from jsonb_array_elements($2::jsonb) as e, jsonb_array_elements_text(e->'patchIds') as p(id)
         where dp.device_id = e->>'deviceId' and dp.patch_id = p.id
           and dp.state not in ('installed', 'pending_reboot', 'excluded')`,
        [rolloutId, JSON.stringify(excluded)],
      );
      await client.query('commit');
    } catch (err) {
      await client.query('rollback');
      throw err;
    } finally {
      client.release();
    }
  }

  /** A page of one ring's device ids, keyset-paginated by device id. */
  async ringPage(
    rolloutId: string,
    ringIndex: number,
    after: string | null,
    limit: number,
  ): Promise<string[]> {
    const res = await this.pool.query<{ device_id: string }>(
      `select device_id from rollout_devices where rollout_id = $1 and ring_index = $2
         and ($3::text is null or device_id > $3) order by device_id limit $4`,
      [rolloutId, ringIndex, after, limit],
    );
    return res.rows.map((r) => r.device_id);
  }

  async devicePlan(rolloutId: string, deviceId: string): Promise<PlannedDevice | undefined> {
    const res = await this.pool.query<{
      device_id: string;
      ring_index: number;
      ring: string;
      patch_ids: string[];
      settings: DeviceOverrides | null;
    }>(
      `select device_id, ring_index, ring, patch_ids, settings from rollout_devices where rollout_id = $1 and device_id = $2`,
      [rolloutId, deviceId],
    );
    const r = res.rows[0];
    return r
      ? {
          deviceId: r.device_id,
          ringIndex: r.ring_index,
          ring: r.ring,
          patchIds: r.patch_ids,
          ...(r.settings ? { settings: r.settings } : {}),
        }
      : undefined;
  }

  /**
   * Moves the planned, not yet settled device × patch pairs of a rollout (all devices, or
   * one) to `state`: approved when the rollout is approved, scheduled while a device waits
   * for its window, installing while its job runs.
   */
  async setPlannedPatchState(
    rolloutId: string,
    state: 'approved' | 'scheduled' | 'installing',
    deviceId?: string,
  ): Promise<void> {
    await this.pool.query(
      `update device_patches dp set state = $2, rollout_id = $1, state_changed_at = now()
       from rollout_devices rd
       where rd.rollout_id = $1 and ($3::text is null or rd.device_id = $3)
         and dp.device_id = rd.device_id and dp.patch_id = any(rd.patch_ids)
         and dp.state not in ('installed', 'pending_reboot', 'rolled_back') and dp.state <> $2`,
      [rolloutId, state, deviceId ?? null],
    );
  }

  /** A page of this rollout's devices with patches installed but waiting for a reboot. */
  async pendingRebootPage(
    rolloutId: string,
    after: string | null,
    limit: number,
  ): Promise<Array<{ deviceId: string; patchIds: string[] }>> {
    const res = await this.pool.query<{ device_id: string; patch_ids: string[] }>(
      `select device_id, array_agg(patch_id order by patch_id) as patch_ids from device_patches
       where rollout_id = $1 and state = 'pending_reboot' and ($2::text is null or device_id > $2)
       group by device_id order by device_id limit $3`,
      [rolloutId, after, limit],
    );
    return res.rows.map((r) => ({ deviceId: r.device_id, patchIds: r.patch_ids }));
  }

  /**
   * Pairs this rollout approved, scheduled or was installing but never settled (device
   * cancelled, skipped offline, rollout halted) are missing again.
   */
  async releaseUnsettledPatches(rolloutId: string, deviceId?: string): Promise<void> {
    await this.pool.query(
      `update device_patches set state = 'missing', state_changed_at = now()
       where rollout_id = $1 and ($2::text is null or device_id = $2)
         and state in ('approved', 'scheduled', 'installing')`,
      [rolloutId, deviceId ?? null],
    );
  }

  async setDeviceStatus(
    rolloutId: string,
    deviceId: string,
    status: RolloutDeviceStatus,
    outcome?: Record<string, unknown>,
  ): Promise<void> {
    await this.pool.query(
      `update rollout_devices set status = $3, outcome = coalesce($4::jsonb, outcome), updated_at = now()
       where rollout_id = $1 and device_id = $2`,
      [rolloutId, deviceId, status, outcome ? JSON.stringify(outcome) : null],
    );
  }

  async ringCounts(rolloutId: string): Promise<RingCounts[]> {
    const res = await this.pool.query<{
      ring_index: number;
      ring: string;
      status: RolloutDeviceStatus;
      n: string;
    }>(
      `select ring_index, ring, status, count(*) as n from rollout_devices where rollout_id = $1
       group by ring_index, ring, status order by ring_index`,
      [rolloutId],
    );
    const rings = new Map<number, RingCounts>();
    for (const row of res.rows) {
      const ring = rings.get(row.ring_index) ?? {
        ringIndex: row.ring_index,
        ring: row.ring,
        counts: {},
        total: 0,
      };
      ring.counts[row.status] = Number(row.n);
      ring.total += Number(row.n);
      rings.set(row.ring_index, ring);
    }
    return [...rings.values()];
  }

  async plannedPatches(rolloutId: string): Promise<PlannedPatch[]> {
    const res = await this.pool.query<{
      patch_id: string;
      decision: PlannedPatch['decision'];
      reason: string;
      risk_tier: string;
      due_at: Date | null;
    }>(
      `select patch_id, decision, reason, risk_tier, due_at from rollout_patches where rollout_id = $1 order by patch_id`,
      [rolloutId],
    );
    return res.rows.map((r) => ({
      patchId: r.patch_id,
      decision: r.decision,
      reason: r.reason,
      riskTier: r.risk_tier,
      dueAt: r.due_at,
    }));
  }
}
