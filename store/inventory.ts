import type { Client, Device, DevicePatchState, Patch, Site } from '../domain/model.js';
import type { Pool } from './pool.js';

/** Clients, sites, devices, the patch catalog and device × patch state. */
export class InventoryRepository {
  constructor(private readonly pool: Pool) {}

  async upsertClients(clients: Client[]): Promise<void> {
    if (!clients.length) return;
    await this.pool.query(
      `insert into clients (id, name) select * from unnest($1::text[], $2::text[])
       on conflict (id) do update set name = excluded.name`,
      [clients.map((c) => c.id), clients.map((c) => c.name)],
    );
  }

  async upsertSites(sites: Site[]): Promise<void> {
    if (!sites.length) return;
    await this.pool.query(
      `insert into sites (id, client_id, name, timezone)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::text[])
       on conflict (id) do update set name = excluded.name, timezone = excluded.timezone`,
      [
        sites.map((s) => s.id),
        sites.map((s) => s.clientId),
        sites.map((s) => s.name),
        sites.map((s) => s.timezone),
      ],
    );
  }

  async upsertDevices(devices: Device[]): Promise<void> {
    if (!devices.length) return;
    await this.pool.query(
      `insert into devices (id, client_id, site_id, hostname, os_family, os_version, tags, criticality,
                            internet_exposed, timezone, online, rmm_kind, rmm_ref, last_seen_at)
       select d->>'id', d->>'clientId', d->>'siteId', d->>'hostname', d->>'osFamily', d->>'osVersion',
              array(select jsonb_array_elements_text(d->'tags')), d->>'criticality',
              (d->>'internetExposed')::boolean, d->>'timezone', (d->>'online')::boolean,
              d->>'rmmKind', d->>'rmmRef', now()
       from jsonb_array_elements($1::jsonb) as d
       on conflict (id) do update set hostname = excluded.hostname, os_version = excluded.os_version,
         tags = excluded.tags, criticality = excluded.criticality, internet_exposed = excluded.internet_exposed,
         timezone = excluded.timezone, online = excluded.online, last_seen_at = now(), updated_at = now()`,
      [JSON.stringify(devices)],
    );
  }

  async upsertPatches(list: readonly Patch[]): Promise<void> {
    // One row per id: a page's devices share most of their patches, and ON CONFLICT
    // refuses to touch the same row twice in one statement.
    const patches = [...new Map(list.map((p) => [p.id, p])).values()];
    if (!patches.length) return;
    await this.pool.query(
      `insert into patches (id, vendor_ref, title, product, kind, category, vendor_severity, cvss, epss, kev,
                            cve_ids, release_date, reboot_required, uninstallable)
       select p->>'id', p->>'vendorRef', p->>'title', p->>'product', p->>'kind', p->>'category',
              p->>'vendorSeverity', (p->>'cvss')::numeric, (p->>'epss')::numeric, (p->>'kev')::boolean,
              array(select jsonb_array_elements_text(p->'cveIds')), (p->>'releaseDate')::date,
              (p->>'rebootRequired')::boolean, (p->>'uninstallable')::boolean
       from jsonb_array_elements($1::jsonb) as p
       on conflict (id) do update set title = excluded.title, vendor_severity = excluded.vendor_severity,
         cvss = excluded.cvss, epss = excluded.epss, kev = excluded.kev, cve_ids = excluded.cve_ids
       where (patches.title, patches.vendor_severity, patches.cvss, patches.epss, patches.kev, patches.cve_ids)
         is distinct from (excluded.title, excluded.vendor_severity, excluded.cvss, excluded.epss, excluded.kev, excluded.cve_ids)`,
      [JSON.stringify(patches)],
    );
  }

  /**
   * Records what a scan found on one device: missing patches become `missing` unless a
   * rollout already moved them on; patches the scan reports installed become `installed`.
   */
  async recordScan(deviceId: string, missing: string[], installed: string[]): Promise<void> {
    await this.recordScans([{ deviceId, missing, installed }]);
  }

  /**
   * Records what a scan found on many devices in two statements (a scan page holds up to a
   * few hundred devices × tens of patches). A pair already `missing` or moved on by a
   * rollout is not rewritten, so a rescan of an unchanged fleet writes nothing.
   */
  async recordScans(results: readonly ScanResult[]): Promise<void> {
    const missing = pairs(results, (r) => r.missing);
    const installed = pairs(results, (r) => r.installed);
    if (missing.devices.length)
      await this.pool.query(
        `insert into device_patches (device_id, patch_id, state)
         select d, p, 'missing' from unnest($1::text[], $2::text[]) as t(d, p)
         on conflict (device_id, patch_id) do update set state = 'missing', state_changed_at = now()
           where device_patches.state in ('installed', 'rolled_back')`,
        [missing.devices, missing.patches],
      );
    if (installed.devices.length)
      await this.pool.query(
        `update device_patches dp set state = 'installed', installed_at = coalesce(dp.installed_at, now()),
           state_changed_at = now()
         from unnest($1::text[], $2::text[]) as t(d, p)
         where dp.device_id = t.d and dp.patch_id = t.p and dp.state <> 'installed'`,
        [installed.devices, installed.patches],
      );
  }

  /**
   * Where a CVE is still open: per client, the devices missing (or failed on) a patch that
   * fixes it and those patches. The emergency path starts one rollout per client from this.
   */
  async openByCve(
    cve: string,
  ): Promise<Array<{ clientId: string; devices: number; patches: string[] }>> {
    const res = await this.pool.query<{ client_id: string; devices: number; patches: string[] }>(
      `select d.client_id, count(distinct dp.device_id)::int as devices,
              array_agg(distinct dp.patch_id order by dp.patch_id) as patches
       from device_patches dp
       join patches p on p.id = dp.patch_id
       join devices d on d.id = dp.device_id
       where $1 = any(p.cve_ids) and dp.state not in ('installed', 'pending_reboot')
       group by d.client_id order by d.client_id`,
      [cve],
    );
    return res.rows.map((r) => ({ clientId: r.client_id, devices: r.devices, patches: r.patches }));
  }

  async setPatchState(
    deviceId: string,
    patchIds: string[],
    state: DevicePatchState,
    rolloutId: string,
    error?: string,
  ): Promise<void> {
    await this.pool.query(
      `update device_patches set state = $3, rollout_id = $4, last_error = $5, state_changed_at = now(),
         installed_at = case when $3 = 'installed' then now() else installed_at end
       where device_id = $1 and patch_id = any($2::text[])`,
      [deviceId, patchIds, state, rolloutId, error ?? null],
    );
  }

  /**
   * One page of a client's devices in id order (keyset pagination). With `seenSince`, only
   * devices the RMM listed since then: a device gone from the RMM is not planned again.
   */
  async devicePage(
    clientId: string,
    after: string | null,
    limit: number,
    seenSince?: Date,
  ): Promise<Device[]> {
    const res = await this.pool.query<DeviceRow>(
      `select * from devices where client_id = $1 and ($2::text is null or id > $2)
         and ($4::timestamptz is null or last_seen_at >= $4)
       order by id limit $3`,
      [clientId, after, limit, seenSince ?? null],
    );
    return res.rows.map(toDevice);
  }

  async device(id: string): Promise<Device | undefined> {
    const res = await this.pool.query<DeviceRow>(`select * from devices where id = $1`, [id]);
    return res.rows[0] ? toDevice(res.rows[0]) : undefined;
  }

  async siteTimezone(siteId: string): Promise<string> {
    const res = await this.pool.query<{ timezone: string }>(
      `select timezone from sites where id = $1`,
      [siteId],
    );
    return res.rows[0]?.timezone ?? 'UTC';
  }

  /**
   * Patches not on each device of a page: missing, failed, rolled back, or excluded (the
   * policy decides again each time, so a lifted block takes effect).
   */
  async missingFor(deviceIds: string[]): Promise<Map<string, string[]>> {
    const res = await this.pool.query<{ device_id: string; ids: string[] }>(
      `select device_id, array_agg(patch_id order by patch_id) as ids from device_patches
       where device_id = any($1::text[]) and state not in ('installed', 'pending_reboot')
       group by device_id`,
      [deviceIds],
    );
    return new Map(res.rows.map((r) => [r.device_id, r.ids]));
  }

  async patches(ids: string[]): Promise<Patch[]> {
    const res = await this.pool.query<PatchRow>(
      `select * from patches where id = any($1::text[]) order by id`,
      [ids],
    );
    return res.rows.map(toPatch);
  }
}

/** What one device's scan found: patch ids missing and patch ids installed. */
export interface ScanResult {
  deviceId: string;
  missing: readonly string[];
  installed: readonly string[];
}

/** Parallel (device, patch) arrays for unnest, each pair once. */
function pairs(
  results: readonly ScanResult[],
  pick: (r: ScanResult) => readonly string[],
): { devices: string[]; patches: string[] } {
  const devices: string[] = [];
  const patches: string[] = [];
  const seen = new Set<string>();
  for (const r of results)
    for (const patch of pick(r)) {
      const key = `${r.deviceId}\u0000${patch}`;
      if (seen.has(key)) continue;
      seen.add(key);
      devices.push(r.deviceId);
      patches.push(patch);
    }
  return { devices, patches };
}

interface DeviceRow {
  id: string;
  client_id: string;
  site_id: string;
  hostname: string;
  os_family: Device['osFamily'];
  os_version: string;
  tags: string[];
  criticality: Device['criticality'];
  internet_exposed: boolean;
  timezone: string | null;
  online: boolean;
  rmm_kind: string;
  rmm_ref: string;
}

const toDevice = (r: DeviceRow): Device => ({
  id: r.id,
  clientId: r.client_id,
  siteId: r.site_id,
  hostname: r.hostname,
  osFamily: r.os_family,
  osVersion: r.os_version,
  tags: r.tags,
  criticality: r.criticality,
  internetExposed: r.internet_exposed,
  timezone: r.timezone,
  online: r.online,
  rmmKind: r.rmm_kind,
  rmmRef: r.rmm_ref,
});

interface PatchRow {
  id: string;
  vendor_ref: string;
  title: string;
  product: string;
  kind: Patch['kind'];
  category: Patch['category'];
  vendor_severity: Patch['vendorSeverity'];
  cvss: string | null;
  epss: string | null;
  kev: boolean;
  cve_ids: string[];
  release_date: Date | null;
  reboot_required: boolean;
  uninstallable: boolean;
}

const toPatch = (r: PatchRow): Patch => ({
  id: r.id,
  vendorRef: r.vendor_ref,
  title: r.title,
  product: r.product,
  kind: r.kind,
  category: r.category,
  vendorSeverity: r.vendor_severity,
  cvss: r.cvss === null ? null : Number(r.cvss),
  epss: r.epss === null ? null : Number(r.epss),
  kev: r.kev,
  cveIds: r.cve_ids,
  releaseDate: r.release_date ? r.release_date.toISOString().slice(0, 10) : null,
  rebootRequired: r.reboot_required,
  uninstallable: r.uninstallable,
});
