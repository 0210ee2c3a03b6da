import type { Pool } from './pool.js';

export interface TicketRow {
  rolloutId: string;
  kind: string;
  role: 'change' | 'incident';
  externalId: string;
  number: string;
  url: string | null;
  status: string;
  /** How far the change has come: null (opened), approved, implementing. */
  stage: string | null;
}

interface Row {
  rollout_id: string;
  itsm_kind: string;
  role: 'change' | 'incident';
  external_id: string;
  number: string | null;
  url: string | null;
  status: string;
  stage: string | null;
}

const toTicket = (r: Row): TicketRow => ({
  rolloutId: r.rollout_id,
  kind: r.itsm_kind,
  role: r.role,
  externalId: r.external_id,
  number: r.number ?? r.external_id,
  url: r.url,
  status: r.status,
  stage: r.stage,
});

export interface TicketFacts {
  deviceNames: string[];
  deviceCount: number;
  timezone: string;
  patches: Array<{ id: string; title: string; severity: string; tier: string }>;
  tally: { installed: number; failed: number; pendingReboot: number; rolledBack: number };
}

const COLUMNS = 'rollout_id, itsm_kind, role, external_id, number, url, status, stage';

/**
 * The tickets of each rollout (changes and incidents) and what they list. Updates made on
 * them are claimed in claims.ts.
 */
export class TicketRepository {
  constructor(private readonly pool: Pool) {}

  async byKey(key: string): Promise<TicketRow | undefined> {
    const res = await this.pool.query<Row>(
      `select ${COLUMNS} from tickets where idempotency_key = $1`,
      [key],
    );
    return res.rows[0] && toTicket(res.rows[0]);
  }

  /** The rollout's tickets, change first. */
  async ofRollout(rolloutId: string): Promise<TicketRow[]> {
    const res = await this.pool.query<Row>(
      `select ${COLUMNS} from tickets where rollout_id = $1 order by role = 'incident', id`,
      [rolloutId],
    );
    return res.rows.map(toTicket);
  }

  async save(t: Omit<TicketRow, 'status' | 'stage'> & { key: string }): Promise<void> {
    await this.pool.query(
      `insert into tickets (rollout_id, itsm_kind, role, external_id, number, url, status, idempotency_key)
       values ($1, $2, $3, $4, $5, $6, 'open', $7) on conflict (idempotency_key) do nothing`,
      [t.rolloutId, t.kind, t.role, t.externalId, t.number, t.url, t.key],
    );
  }

  async setState(
    kind: string,
    externalId: string,
    change: { status?: string; stage?: string },
  ): Promise<void> {
    await this.pool.query(
      `update tickets set status = coalesce($3, status), stage = coalesce($4, stage), updated_at = now()
       where itsm_kind = $1 and external_id = $2`,
      [kind, externalId, change.status ?? null, change.stage ?? null],
    );
  }

  /**
   * What a ticket lists about a rollout: device names (the first `limit`, ring order),
   * how many there are, the deployed patches with their tier, a site time zone for
   * planned times, and the device × patch outcomes so far.
   */
  async facts(rolloutId: string, limit = 200): Promise<TicketFacts> {
    const [names, total, zone, patches, states] = await Promise.all([
      this.pool.query<{ hostname: string }>(
        `select d.hostname from rollout_devices rd join devices d on d.id = rd.device_id
         where rd.rollout_id = $1 order by rd.ring_index, d.hostname limit $2`,
        [rolloutId, limit],
      ),
      this.pool.query<{ n: string }>(
        `select count(*) as n from rollout_devices where rollout_id = $1`,
        [rolloutId],
      ),
      this.pool.query<{ timezone: string }>(
        `select s.timezone from rollout_devices rd join devices d on d.id = rd.device_id
         join sites s on s.id = d.site_id where rd.rollout_id = $1 limit 1`,
        [rolloutId],
      ),
      this.pool.query<{ id: string; title: string; vendor_severity: string; risk_tier: string }>(
        `select p.id, p.title, p.vendor_severity, rp.risk_tier from rollout_patches rp
         join patches p on p.id = rp.patch_id
         where rp.rollout_id = $1 and rp.decision in ('auto', 'needs_approval')
         order by rp.rank nulls last, p.id`,
        [rolloutId],
      ),
      this.pool.query<{ state: string; n: string }>(
        `select state, count(*) as n from device_patches where rollout_id = $1 group by state`,
        [rolloutId],
      ),
    ]);
    const byState = Object.fromEntries(states.rows.map((r) => [r.state, Number(r.n)]));
    return {
      deviceNames: names.rows.map((r) => r.hostname),
      deviceCount: Number(total.rows[0]?.n ?? 0),
      timezone: zone.rows[0]?.timezone ?? 'UTC',
      patches: patches.rows.map((r) => ({
        id: r.id,
        title: r.title,
        severity: r.vendor_severity,
        tier: r.risk_tier,
      })),
      tally: {
        installed: byState.installed ?? 0,
        failed: byState.failed ?? 0,
        pendingReboot: byState.pending_reboot ?? 0,
        rolledBack: byState.rolled_back ?? 0,
      },
    };
  }
}
