import type { Pool } from './pool.js';

export interface ComplianceRow {
  clientId: string;
  siteId: string;
  devices: number;
  /** Device × patch pairs that apply (missing, failed, pending or installed). */
  applicable: number;
  installed: number;
  failed: number;
  pendingReboot: number;
  /** Installed share of applicable pairs (0..1). */
  complianceRate: number;
  /** Critical/emergency-tier pairs installed, share of all such pairs (0..1); null when none. */
  criticalAddressed: number | null;
  /** Not installed and past their SLA due date. */
  slaBreaches: number;
  /** Mean hours from detection to installation; null when nothing was installed. */
  meanHoursToPatch: number | null;
}

/** The numbers compliance reports are made of, per client and site, as of now. */
export class ComplianceRepository {
  constructor(private readonly pool: Pool) {}

  async snapshot(clientId?: string): Promise<ComplianceRow[]> {
    const res = await this.pool.query<{
      client_id: string;
      site_id: string;
      devices: string;
      applicable: string;
      installed: string;
      failed: string;
      pending: string;
      critical: string;
      critical_done: string;
      breaches: string;
      mttp_hours: string | null;
    }>(
      `with tiers as (
         select distinct on (rp.patch_id) rp.patch_id, rp.risk_tier, rp.due_at
         from rollout_patches rp order by rp.patch_id, rp.due_at)
       select d.client_id, d.site_id,
         count(distinct d.id) as devices,
         count(dp.patch_id) filter (where dp.state <> 'excluded') as applicable,
         count(dp.patch_id) filter (where dp.state = 'installed') as installed,
         count(dp.patch_id) filter (where dp.state = 'failed') as failed,
         count(dp.patch_id) filter (where dp.state = 'pending_reboot') as pending,
         count(dp.patch_id) filter (where t.risk_tier in ('critical', 'emergency')) as critical,
         count(dp.patch_id) filter (where t.risk_tier in ('critical', 'emergency') and dp.state = 'installed') as critical_done,
         count(dp.patch_id) filter (where dp.state not in ('installed', 'excluded') and t.due_at < now()) as breaches,
         avg(extract(epoch from dp.installed_at - dp.detected_at) / 3600) filter (where dp.state = 'installed') as mttp_hours
       from devices d
       left join device_patches dp on dp.device_id = d.id
       left join tiers t on t.patch_id = dp.patch_id
       where ($1::text is null or d.client_id = $1)
       group by d.client_id, d.site_id
       order by d.client_id, d.site_id`,
      [clientId ?? null],
    );
    return res.rows.map((r) => {
      const applicable = Number(r.applicable);
      const critical = Number(r.critical);
      return {
        clientId: r.client_id,
        siteId: r.site_id,
        devices: Number(r.devices),
        applicable,
        installed: Number(r.installed),
        failed: Number(r.failed),
        pendingReboot: Number(r.pending),
        complianceRate: applicable ? Number(r.installed) / applicable : 1,
        criticalAddressed: critical ? Number(r.critical_done) / critical : null,
        slaBreaches: Number(r.breaches),
        meanHoursToPatch: r.mttp_hours === null ? null : Number(r.mttp_hours),
      };
    });
  }

  async recentRollouts(
    limit = 20,
  ): Promise<
    Array<{ id: string; clientId: string; status: string; createdAt: Date; ticket: string | null }>
  > {
    const res = await this.pool.query<{
      id: string;
      client_id: string;
      status: string;
      created_at: Date;
      ticket: string | null;
    }>(
      `select r.id, r.client_id, r.status, r.created_at,
              (select coalesce(t.number, t.external_id) from tickets t
               where t.rollout_id = r.id and t.role = 'change' order by t.id limit 1) as ticket
       from rollouts r order by r.created_at desc limit $1`,
      [limit],
    );
    return res.rows.map((r) => ({
      id: r.id,
      clientId: r.client_id,
      status: r.status,
      createdAt: r.created_at,
      ticket: r.ticket,
    }));
  }
}
