import type { AdapterDeps } from '../../kit.js';
import { RmmError, type ConnectionCheck, type Diagnosis, type RmmAdapter } from '../types.js';
import { TacticalClient, VENDOR } from './client.js';
import type { TacticalContext } from './context.js';
import { deploy } from './deploy.js';
import { diagnoseTactical } from './diagnose.js';
import { decodeJob, deployStatus, rebootStatus, waitsForReboot } from './jobs.js';
import { KeyLedger } from './ledger.js';
import { listDevices } from './list-devices.js';
import { KIND, isWindows, patchIdOf, toClient, toPatch, toSite, withKb } from './mapping.js';
import { checkPatchPolicy, type PolicyFinding, type PolicyTarget } from './policy-check.js';
import { promptReboot, reboot } from './reboot.js';
import { readScan, triggerScan } from './scan.js';
import type { TacticalSettings } from './settings.js';

/** Runs `fn` so that a throw becomes a rejection, as a network call's would. */
const later = <T>(fn: () => T): Promise<T> => new Promise<T>((resolve) => resolve(fn()));

/** The Tactical RMM adapter plus the policy check `patchops doctor` runs. */
export interface TacticalRmm extends RmmAdapter {
  readonly kind: 'tacticalrmm';
  /**
   * Whether Tactical would approve, install or reboot on its own for an agent, site or
   * client; each finding's `review.problems` says what to change (empty when fine).
   */
  checkPatchPolicy(target: PolicyTarget): Promise<PolicyFinding[]>;
  /** Doctor's lines: patch policy of every client, site and agent, and the time zone; never throws. */
  diagnose(): Promise<Diagnosis[]>;
}

/** Builds the adapter; nothing is called until a method is. */
export function createTacticalRmm(settings: TacticalSettings, deps: AdapterDeps): TacticalRmm {
  const api = new TacticalClient(settings, deps);
  let zone: Promise<string> | undefined;
  const ctx: TacticalContext = {
    api,
    now: () => deps.clock().getTime(),
    log: deps.log.child({ rmm: KIND }),
    ledger: new KeyLedger(),
    timeZone: () => {
      if (settings.timeZone) return Promise.resolve(settings.timeZone);
      zone ??= api.defaultTimeZone().catch((err: unknown) => {
        zone = undefined;
        if (err instanceof RmmError && err.code === 'AUTH_FAILED') {
          throw new RmmError(
            'CONFIG_INVALID',
            "Set TACTICAL_TIME_ZONE to Tactical's default time zone (Global Settings > General), or give the API key's user the View Core Settings permission",
            { cause: err },
          );
        }
        throw err;
      });
      return zone;
    },
  };
  const scanWaitMs = settings.scanWaitMs ?? 5 * 60_000;

  const clientById = async (clientId: string) => {
    const c = (await api.clients()).find((x) => String(x.id) === clientId);
    if (!c) throw new RmmError('CLIENT_NOT_FOUND', `No Tactical RMM client "${clientId}"`);
    return c;
  };

  return {
    kind: 'tacticalrmm',

    async testConnection(): Promise<ConnectionCheck> {
      try {
        const clients = await api.clients();
        return {
          ok: true,
          detail: `${VENDOR} at ${settings.apiUrl}: the API key sees ${clients.length} client(s)`,
        };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        return { ok: false, detail: message };
      }
    },

    // Doctor's lines below the connection: Tactical's own patch policy and the time zone.
    diagnose: () => diagnoseTactical(api, settings.timeZone),

    listClients: async () => (await api.clients()).map(toClient),

    async listSites(clientId) {
      const c = await clientById(clientId);
      const tz = await ctx.timeZone();
      return c.sites.map((s) => toSite(c, s, tz));
    },

    listDevices: (clientId, page) => listDevices(ctx, clientId, page),

    triggerScan: (deviceIds) => triggerScan(ctx, deviceIds),

    readScan: (scanId) => later(() => readScan(scanId, ctx.now(), scanWaitMs)),

    async missingPatches(deviceId) {
      const rows = withKb(await api.updates(deviceId));
      const installed = new Set(rows.filter((u) => u.installed).map((u) => u.kb.toUpperCase()));
      const seen = new Set<string>();
      // Newest row first (Tactical's order), so a KB listed twice is described by its latest.
      return rows
        .filter((u) => !installed.has(u.kb.toUpperCase()))
        .filter((u) => !seen.has(u.kb.toUpperCase()) && !!seen.add(u.kb.toUpperCase()))
        .map(toPatch)
        .sort((a, b) => a.id.localeCompare(b.id));
    },

    async installedPatches(deviceId) {
      const [agent, rows] = await Promise.all([api.agent(deviceId), api.updates(deviceId)]);
      const tz = agent.needs_reboot ? await ctx.timeZone() : undefined;
      const ids = withKb(rows)
        .filter((u) => u.installed && !waitsForReboot(u, agent, tz))
        .map((u) => patchIdOf(u.kb));
      return [...new Set(ids)].sort();
    },

    deploy: (deviceId, patchIds, key, hints) => deploy(ctx, deviceId, patchIds, key, hints),

    async readJob(jobId) {
      const ref = decodeJob(jobId);
      const agent = await api.agent(ref.a).catch((err: unknown) => {
        if (err instanceof RmmError && err.code === 'DEVICE_NOT_FOUND') {
          throw new RmmError('JOB_NOT_FOUND', `The agent of job "${jobId}" is gone`, {
            cause: err,
          });
        }
        throw err;
      });
      if (ref.k === 'reboot') return rebootStatus(ref, agent, ctx.now());
      const rows = await api.updates(ref.a);
      const tz = agent.needs_reboot ? await ctx.timeZone() : undefined;
      return deployStatus(ref, rows, agent, tz, ctx.now());
    },

    reboot: (deviceId, key, hints) => reboot(ctx, deviceId, key, hints),

    promptReboot: (deviceId, key, opts) => promptReboot(ctx, deviceId, key, opts.allowDefer),

    uninstall(_deviceId, patchIds, key) {
      // Tactical offers no way to remove a Windows update, so nothing is ever queued.
      return Promise.reject(
        !key
          ? new RmmError('INVALID_ARGUMENT', 'idempotencyKey must not be empty')
          : patchIds.length === 0
            ? new RmmError('INVALID_ARGUMENT', 'uninstall needs at least one patch id')
            : new RmmError(
                'NOT_UNINSTALLABLE',
                `Tactical RMM cannot uninstall Windows updates (${patchIds.join(', ')})`,
              ),
      );
    },

    async isOnline(deviceId) {
      const agent = await api.agent(deviceId);
      if (!isWindows(agent)) {
        throw new RmmError('DEVICE_NOT_FOUND', `Agent "${deviceId}" is not a Windows agent`);
      }
      return agent.status === 'online';
    },

    checkPatchPolicy: (target) => checkPatchPolicy(api, target),
  };
}
