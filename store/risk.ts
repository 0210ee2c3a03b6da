import type { RiskTier } from '../domain/risk.js';
import type { RiskInputs } from '../domain/risk-order.js';
import type { Pool } from './pool.js';

/** One device × patch pair's tier and due date, as planning assessed it. */
export interface PairRisk {
  deviceId: string;
  patchId: string;
  tier: RiskTier;
  dueAt: Date;
}

/** A rollout patch's place in the deployment order and the inputs behind it. */
export interface RolloutPatchRisk {
  patchId: string;
  /** 1 = deployed first. */
  rank: number;
  risk: RiskInputs;
}

/** A row of "View details": the patch, its decision and why it sits where it does. */
export interface RiskPatchRow {
  patchId: string;
  title: string;
  severity: string;
  cves: string[];
  kev: boolean;
  decision: string;
  devices: number;
  rank: number | null;
  risk: RiskInputs | null;
}

/** Risk tiers, SLA due dates and deployment order: per device × patch and per rollout. */
export class RiskRepository {
  constructor(private readonly pool: Pool) {}

  /** When each still-open pair of these devices was first seen (device_patches.detected_at). */
  async firstSeen(deviceIds: readonly string[]): Promise<Map<string, Date>> {
    const res = await this.pool.query<{ device_id: string; patch_id: string; detected_at: Date }>(
      `select device_id, patch_id, detected_at from device_patches
       where device_id = any($1::text[]) and state not in ('installed', 'pending_reboot')`,
      [deviceIds],
    );
    return new Map(res.rows.map((r) => [pairKey(r.device_id, r.patch_id), r.detected_at]));
  }

  /** Writes each pair's tier and due date (rows that already hold them are not rewritten). */
  async savePairs(pairs: readonly PairRisk[]): Promise<void> {
    if (!pairs.length) return;
    await this.pool.query(
      `update device_patches dp set risk_tier = t.tier, due_at = t.due
       from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) as t(d, p, tier, due)
       where dp.device_id = t.d and dp.patch_id = t.p
         and (dp.risk_tier, dp.due_at) is distinct from (t.tier, t.due)`,
      [
        pairs.map((p) => p.deviceId),
        pairs.map((p) => p.patchId),
        pairs.map((p) => p.tier),
        pairs.map((p) => p.dueAt.toISOString()),
      ],
    );
  }

  /** Sets the order and risk inputs of a rollout's planned patches (after savePlan). */
  async saveRolloutOrder(rolloutId: string, rows: readonly RolloutPatchRisk[]): Promise<void> {
    if (!rows.length) return;
    await this.pool.query(
      `update rollout_patches rp set rank = (r->>'rank')::int, risk = r->'risk'
       from jsonb_array_elements($2::jsonb) as r
       where rp.rollout_id = $1 and rp.patch_id = r->>'patchId'`,
      [rolloutId, JSON.stringify(rows)],
    );
  }

  /** A rollout's patches in deployment order. */
  async rolloutOrder(rolloutId: string): Promise<RolloutPatchRisk[]> {
    const res = await this.pool.query<{ patch_id: string; rank: number; risk: RiskInputs }>(
      `select patch_id, rank, risk from rollout_patches
       where rollout_id = $1 and rank is not null order by rank`,
      [rolloutId],
    );
    return res.rows.map((r) => ({ patchId: r.patch_id, rank: r.rank, risk: r.risk }));
  }

  /** Tier and due date of pairs of these devices (null where planning has not assessed one). */
  async pairs(deviceIds: readonly string[]): Promise<PairRisk[]> {
    const res = await this.pool.query<{
      device_id: string;
      patch_id: string;
      risk_tier: RiskTier;
      due_at: Date;
    }>(
      `select device_id, patch_id, risk_tier, due_at from device_patches
       where device_id = any($1::text[]) and risk_tier is not null order by device_id, patch_id`,
      [deviceIds],
    );
    return res.rows.map((r) => ({
      deviceId: r.device_id,
      patchId: r.patch_id,
      tier: r.risk_tier,
      dueAt: r.due_at,
    }));
  }

  /**
   * One page of "View details": deployed patches in deployment order, then the rejected and
   * deferred ones; each with the inputs behind its place. Plans made before tiers (no rank)
   * keep the old order: KEV first, then highest CVSS.
   */
  async patchPage(
    rolloutId: string,
    page: number,
    size: number,
  ): Promise<{ total: number; patches: RiskPatchRow[] }> {
    const res = await this.pool.query<{
      id: string;
      title: string;
      severity: string;
      cve_ids: string[];
      kev: boolean;
      decision: string;
      devices: string;
      rank: number | null;
      risk: RiskInputs | null;
      total: string;
    }>(
      `select p.id, p.title, p.vendor_severity as severity, p.cve_ids, p.kev, rp.decision,
              (select count(*) from rollout_devices d where d.rollout_id = rp.rollout_id
                 and p.id = any(d.patch_ids)) as devices,
              rp.rank, rp.risk, count(*) over () as total
       from rollout_patches rp join patches p on p.id = rp.patch_id
       where rp.rollout_id = $1
       order by (rp.decision in ('reject', 'defer')), rp.rank nulls last, p.kev desc, p.cvss desc nulls last, p.id
       limit $2 offset $3`,
      [rolloutId, size, page * size],
    );
    return {
      total: Number(res.rows[0]?.total ?? 0),
      patches: res.rows.map((r) => ({
        patchId: r.id,
        title: r.title,
        severity: r.severity,
        cves: r.cve_ids,
        // Intel may know a KEV listing the RMM's catalog does not.
        kev: r.kev || r.risk?.kev === true,
        decision: r.decision,
        devices: Number(r.devices),
        rank: r.rank,
        risk: r.risk,
      })),
    };
  }

  /** The most urgent tier and earliest due date among a rollout's deployed patches. */
  async urgency(rolloutId: string): Promise<{ tier: RiskTier; dueAt: Date } | null> {
    const res = await this.pool.query<{ risk_tier: RiskTier; due_at: Date }>(
      `select risk_tier, due_at from rollout_patches
       where rollout_id = $1 and decision in ('auto', 'needs_approval') and rank is not null
       order by rank limit 1`,
      [rolloutId],
    );
    const first = res.rows[0];
    if (!first) return null;
    const due = await this.pool.query<{ due_at: Date | null }>(
      `select min(due_at) as due_at from rollout_patches
       where rollout_id = $1 and decision in ('auto', 'needs_approval')`,
      [rolloutId],
    );
    return { tier: first.risk_tier, dueAt: due.rows[0]?.due_at ?? first.due_at };
  }
}

export const pairKey = (deviceId: string, patchId: string): string => `${deviceId}\u0000${patchId}`;
