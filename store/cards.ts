import { isFinal, type RolloutPhase } from '../domain/rollout-state.js';
import type { Pool } from './pool.js';

export interface CardFacts {
  rolloutId: string;
  clientId: string;
  clientName: string;
  status: string;
  phase: RolloutPhase | null;
  paused: boolean;
  summary: Record<string, unknown>;
  severity: Record<string, number>;
  patchCount: number;
  deviceCount: number;
  kevCount: number;
  cveCount: number;
  highlights: Array<{
    patchId: string;
    title: string;
    cves: string[];
    cvss: number | null;
    kev: boolean;
  }>;
  ticket: { id: string; url: string | null } | null;
  /** Defer decisions so far: the approval round the workflow is in. */
  round: number;
  decision: {
    decision: string;
    by: string;
    via: string;
    at: Date;
    reason: string | null;
    until: Date | null;
  } | null;
}

/** Patches a rollout will deploy: the plan's auto and approved decisions. */
const DEPLOYED = `rp.decision in ('auto', 'needs_approval')`;

/** What a rollout card shows, read in a handful of queries. */
export class CardRepository {
  constructor(private readonly pool: Pool) {}

  async facts(rolloutId: string): Promise<CardFacts | undefined> {
    const head = await this.pool.query<{
      client_id: string;
      client_name: string;
      status: string;
      phase: RolloutPhase | null;
      paused: boolean;
      summary: Record<string, unknown>;
    }>(
      `select r.client_id, c.name as client_name, r.status, r.phase, r.paused, r.summary
       from rollouts r join clients c on c.id = r.client_id where r.id = $1`,
      [rolloutId],
    );
    const h = head.rows[0];
    if (!h) return undefined;
    const [sev, top, devices, ticket, decision] = await Promise.all([
      this.pool.query<{ severity: string; n: string; kev: string; cves: string }>(
        `select p.vendor_severity as severity, count(*) as n, count(*) filter (where p.kev) as kev,
                coalesce(sum(cardinality(p.cve_ids)), 0) as cves
         from rollout_patches rp join patches p on p.id = rp.patch_id
         where rp.rollout_id = $1 and ${DEPLOYED} group by 1`,
        [rolloutId],
      ),
      this.pool.query<{
        id: string;
        title: string;
        cve_ids: string[];
        cvss: string | null;
        kev: boolean;
      }>(
        `select p.id, p.title, p.cve_ids, p.cvss, p.kev
         from rollout_patches rp join patches p on p.id = rp.patch_id
         where rp.rollout_id = $1 and ${DEPLOYED} and cardinality(p.cve_ids) > 0
         order by p.kev desc, p.cvss desc nulls last, p.id limit 5`,
        [rolloutId],
      ),
      this.pool.query<{ n: string }>(
        `select count(*) as n from rollout_devices where rollout_id = $1`,
        [rolloutId],
      ),
      this.pool.query<{ external_id: string; url: string | null }>(
        `select coalesce(number, external_id) as external_id, url from tickets
         where rollout_id = $1 and role = 'change' order by id limit 1`,
        [rolloutId],
      ),
      this.pool.query<{
        decision: string;
        decided_by: string;
        decided_via: string;
        decided_at: Date;
        reason: string | null;
        defer_until: Date | null;
        defers: string;
      }>(
        `select decision, decided_by, decided_via, decided_at, reason, defer_until,
                (select count(*) from approvals a where a.rollout_id = $1 and a.decision = 'defer') as defers
         from approvals where rollout_id = $1 and decision <> 'promote' order by id desc limit 1`,
        [rolloutId],
      ),
    ]);
    const severity: Record<string, number> = {};
    let patchCount = 0;
    let kevCount = 0;
    let cveCount = 0;
    for (const r of sev.rows) {
      severity[r.severity] = Number(r.n);
      patchCount += Number(r.n);
      kevCount += Number(r.kev);
      cveCount += Number(r.cves);
    }
    const t = ticket.rows[0];
    const d = decision.rows[0];
    return {
      rolloutId,
      clientId: h.client_id,
      clientName: h.client_name,
      status: h.status,
      phase: h.phase,
      paused: h.paused,
      summary: h.summary,
      severity,
      patchCount,
      deviceCount: Number(devices.rows[0]?.n ?? 0),
      kevCount,
      cveCount,
      highlights: top.rows.map((r) => ({
        patchId: r.id,
        title: r.title,
        cves: r.cve_ids,
        cvss: r.cvss === null ? null : Number(r.cvss),
        kev: r.kev,
      })),
      ticket: t ? { id: t.external_id, url: t.url } : null,
      round: Number(d?.defers ?? 0),
      decision: d
        ? {
            decision: d.decision,
            by: d.decided_by,
            via: d.decided_via,
            at: d.decided_at,
            reason: d.reason,
            until: d.defer_until,
          }
        : null,
    };
  }

  async setPhase(rolloutId: string, phase: RolloutPhase, paused?: boolean): Promise<void> {
    await this.pool.query(
      `update rollouts set phase = $2, paused = coalesce($3, paused), updated_at = now() where id = $1`,
      [rolloutId, phase, paused ?? null],
    );
  }

  async setPaused(rolloutId: string, paused: boolean): Promise<void> {
    await this.pool.query(`update rollouts set paused = $2, updated_at = now() where id = $1`, [
      rolloutId,
      paused,
    ]);
  }

  /** Every client the inventory knows. */
  async clientIds(): Promise<string[]> {
    const res = await this.pool.query<{ id: string }>(`select id from clients order by id`);
    return res.rows.map((r) => r.id);
  }

  /**
   * The newest rollouts for `patchops status`, each with the word one rollout's status shows:
   * its final status once it is over, else the phase it is in (and whether it is paused).
   */
  async recentRollouts(limit = 20): Promise<
    Array<{
      id: string;
      clientId: string;
      status: string;
      shown: string;
      paused: boolean;
      note: string | null;
      ticket: string | null;
      createdAt: Date;
    }>
  > {
    const res = await this.pool.query<{
      id: string;
      client_id: string;
      status: string;
      phase: string | null;
      paused: boolean;
      note: string | null;
      ticket: string | null;
      created_at: Date;
    }>(
      `select r.id, r.client_id, r.status, r.phase, r.paused, r.summary->>'note' as note, r.created_at,
              (select coalesce(t.number, t.external_id) from tickets t
               where t.rollout_id = r.id and t.role = 'change' order by t.id limit 1) as ticket
       from rollouts r order by r.created_at desc, r.id limit $1`,
      [limit],
    );
    return res.rows.map((r) => ({
      id: r.id,
      clientId: r.client_id,
      status: r.status,
      shown: isFinal(r.status) ? r.status : (r.phase ?? r.status),
      paused: r.paused,
      note: r.note,
      ticket: r.ticket,
      createdAt: r.created_at,
    }));
  }

  /** Rollouts that are not finished, newest first (App Home, `status`). */
  async openRollouts(limit = 20) {
    const res = await this.pool.query<{
      id: string;
      client_id: string;
      status: string;
      phase: string | null;
      paused: boolean;
    }>(
      `select id, client_id, status, phase, paused from rollouts
       where status not in ('completed', 'rejected', 'halted', 'cancelled', 'failed')
       order by created_at desc limit $1`,
      [limit],
    );
    return res.rows.map((r) => ({
      id: r.id,
      clientId: r.client_id,
      status: r.status,
      phase: r.phase ?? r.status,
      paused: r.paused,
    }));
  }
}
