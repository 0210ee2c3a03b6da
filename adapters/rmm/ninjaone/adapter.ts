import type { Client, Site } from '../../../domain/model.js';
import type { AdapterDeps } from '../../kit.js';
import { RmmError, type Diagnosis, type RmmAdapter } from '../types.js';
import { NinjaOneApi } from './api.js';
import { toRmmError } from './errors.js';
import {
  clientNumber,
  decodeDeviceCursor,
  decodeJob,
  deviceNumber,
  encodeDeviceCursor,
  patchFamily,
} from './ids.js';
import { deploy, readDeployJob, readRebootJob, reboot } from './jobs.js';
import { toDevice } from './mapping.js';
import { readDevicePatches } from './patches.js';
import { checkPatchPolicy } from './policy.js';
import { readScan, triggerScan } from './scans.js';
import { NinjaOneSession, SCOPE } from './session.js';
import type { NinjaOneSettings } from './settings.js';

const ORG_PAGE = 500;
const MAX_DEVICE_PAGE = 999;

/** The NinjaOne adapter plus the API it drives, for `checkPatchPolicy`. */
export interface NinjaOneAdapter extends RmmAdapter {
  readonly kind: 'ninjaone';
  readonly api: NinjaOneApi;
  /** The patch-policy line of `patchops doctor` (see checkPatchPolicy); never throws. */
  diagnose(): Promise<Diagnosis[]>;
  /**
   * Puts the device in NinjaOne maintenance mode until `end`, silencing its alerts while a
   * deploy reboots it. Patching itself stays enabled (maintenance can disable PATCHING too,
   * which would stop the apply). Repeating it only moves the end. Throws DEVICE_NOT_FOUND.
   */
  startMaintenance(deviceId: string, end: Date): Promise<void>;
  /** Ends (or cancels a pending) maintenance window; harmless when there is none. */
  endMaintenance(deviceId: string): Promise<void>;
}

/**
 * patchops' RMM contract over the NinjaOne Public API v2. Stateless between calls: ids,
 * cursors and job ids carry what later calls need (see ids.ts), so any worker can pick up
 * what another began.
 */
export function createNinjaOne(settings: NinjaOneSettings, deps: AdapterDeps): NinjaOneAdapter {
  const http = deps.http({
    vendor: 'NinjaOne',
    baseURL: settings.baseUrl,
    timeoutMs: settings.timeoutMs,
    ...(settings.retryBaseMs !== undefined ? { retryBaseMs: settings.retryBaseMs } : {}),
    secrets: [settings.clientSecret],
  });
  const session = new NinjaOneSession(http, settings, deps.clock);
  const api = new NinjaOneApi(session, settings.queryPageSize);
  const nowS = () => deps.clock().getTime() / 1000;

  const device = (deviceId: string) => api.device(deviceNumber(deviceId));

  return {
    kind: 'ninjaone',
    api,

    async testConnection() {
      try {
        await session.accessToken();
        const orgs = await api.organizations(1);
        return {
          ok: true,
          detail: `NinjaOne at ${settings.baseUrl}: signed in with scopes "${SCOPE}", ${orgs.length ? 'organizations visible' : 'no organizations visible yet'}`,
        };
      } catch (err) {
        const e = toRmmError(err, 'CLIENT_NOT_FOUND', 'NinjaOne connection check');
        return { ok: false, detail: `${e.code}: ${http.redact(e.message)}` };
      }
    },

    // Doctor's line below the connection. What the API cannot show (install schedule,
    // reboot setting) still needs a person, so "unknown" is a warning too, not an ok.
    async diagnose(): Promise<Diagnosis[]> {
      try {
        const c = await checkPatchPolicy(api);
        return [
          { part: 'patch-policy', state: c.status === 'ok' ? 'ok' : 'warn', detail: c.detail },
        ];
      } catch (err) {
        const e = toRmmError(err, 'CLIENT_NOT_FOUND', 'NinjaOne patch policy check');
        return [
          {
            part: 'patch-policy',
            state: 'down',
            detail: `could not sample pending patches: ${e.code}: ${http.redact(e.message)}`,
          },
        ];
      }
    },

    async listClients(): Promise<Client[]> {
      const out: Client[] = [];
      let after: number | undefined;
      for (;;) {
        const page = await api.organizations(ORG_PAGE, after);
        out.push(
          ...page.map((o) => ({ id: String(o.id), name: o.name || `Organization ${o.id}` })),
        );
        const last = page.at(-1);
        if (!last || page.length < ORG_PAGE) return out;
        after = last.id;
      }
    },

    async listSites(clientId): Promise<Site[]> {
      const locations = await api.locations(clientNumber(clientId));
      return locations
        .map((l) => ({
          id: String(l.id),
          clientId,
          name: l.name || `Location ${l.id}`,
          timezone: settings.timezone,
        }))
        .sort((a, b) => Number(a.id) - Number(b.id));
    },

    async listDevices(clientId, page) {
      const org = clientNumber(clientId);
      if (!Number.isInteger(page.limit) || page.limit < 1) {
        throw new RmmError('INVALID_ARGUMENT', 'page.limit must be a whole number ≥ 1');
      }
      // One request per page, at most 1,000 rows; a larger limit gets fewer, as the contract allows.
      const limit = Math.min(page.limit, MAX_DEVICE_PAGE);
      const after = page.cursor === undefined ? undefined : decodeDeviceCursor(page.cursor);
      // One extra row tells whether another page follows without an empty last request.
      const rows = await api.devices(`org = ${org}`, limit + 1, after);
      if (rows.length === 0 && after === undefined) await api.locations(org); // 404 → CLIENT_NOT_FOUND
      const pageRows = rows.slice(0, limit);
      const devices = pageRows.flatMap((d) => toDevice(d) ?? []);
      const last = pageRows.at(-1);
      return rows.length > limit && last
        ? { devices, nextCursor: encodeDeviceCursor(last.id) }
        : { devices };
    },

    triggerScan: (deviceIds) => triggerScan(api, nowS(), deviceIds),
    readScan: (scanId) => readScan(api, scanId),

    async missingPatches(deviceId) {
      return (await readDevicePatches(api, await device(deviceId))).missing;
    },

    async installedPatches(deviceId) {
      return (await readDevicePatches(api, await device(deviceId))).installed;
    },

    deploy: (deviceId, patchIds, key, hints) => deploy(api, nowS(), deviceId, patchIds, key, hints),

    async readJob(jobId) {
      const job = decodeJob(jobId);
      return job.k === 'deploy' ? readDeployJob(api, job) : readRebootJob(api, job);
    },

    reboot: (deviceId, key, hints) => reboot(api, nowS(), deviceId, key, hints),

    // NinjaOne cannot ask the logged-on user; allowDefer is honoured as a reboot that goes
    // ahead (the answer is always "rebooting"), idempotent per key through the reboot marker.
    async promptReboot(deviceId, key) {
      const { jobId } = await reboot(api, nowS(), deviceId, key);
      return { outcome: 'rebooting', jobId };
    },

    // The executor turns the synchronous throws into a rejection, as a network call would.
    uninstall: (deviceId, patchIds, key) =>
      new Promise<never>(() => {
        if (!key) throw new RmmError('INVALID_ARGUMENT', 'idempotencyKey must not be empty');
        patchIds.forEach(patchFamily);
        deviceNumber(deviceId);
        throw new RmmError(
          'NOT_UNINSTALLABLE',
          `NinjaOne's public API offers no patch rollback; ${patchIds.join(', ')} cannot be removed through patchops`,
        );
      }),

    async startMaintenance(deviceId, end) {
      if (end.getTime() <= deps.clock().getTime()) {
        throw new RmmError(
          'INVALID_ARGUMENT',
          `maintenance end ${end.toISOString()} is not in the future`,
        );
      }
      await api.maintenance(deviceNumber(deviceId), Math.floor(end.getTime() / 1000));
    },

    endMaintenance: (deviceId) => api.maintenance(deviceNumber(deviceId), undefined),

    async isOnline(deviceId) {
      return (await device(deviceId)).offline !== true;
    },
  };
}
