import { pino } from 'pino';
import { z } from 'zod';
import type { Patch } from '../../../domain/model.js';
import { createHttpClient, type HttpClient } from '../../http/client.js';
import { HttpFailure } from '../../http/errors.js';
import type { AdapterDeps } from '../../kit.js';
import { RmmError, type RmmAdapter, type RmmBulk } from '../types.js';
import type { SimulatorStats } from './simulator.js';
import {
  errorBodySchema,
  resultSchemas,
  rmmErrorCodeSchema,
  type RequestOf,
  type ResultOf,
  type SimulatorMethod,
} from './wire.js';

const VENDOR = 'patchops simulator';

/** The served simulator's test hooks, as `Simulator` has them but over the network. */
export interface RemoteSimulatorHooks {
  setOnline(deviceId: string, online: boolean): Promise<void>;
  setUserDefers(deviceId: string, alwaysDefer: boolean | undefined): Promise<void>;
  pendingReboot(deviceId: string): Promise<string[]>;
  stats(): Promise<SimulatorStats>;
  catalog(): Promise<Patch[]>;
}

/** An RmmAdapter for a simulator served by `patchops simulator` (or `serveSimulator`). */
export interface RemoteSimulator extends RmmAdapter {
  readonly kind: 'simulator';
  readonly url: string;
  readonly bulk: RmmBulk;
  readonly hooks: RemoteSimulatorHooks;
}

/** The RmmError a failed call stands for: the server's own code when it sent one. */
function toRmmError(err: unknown, url: string): RmmError {
  if (err instanceof RmmError) return err;
  if (!(err instanceof HttpFailure)) {
    return new RmmError('UNAVAILABLE', `${VENDOR} at ${url}: ${String(err)}`, { cause: err });
  }
  const body = errorBodySchema.safeParse(err.details.body);
  const code = body.success ? rmmErrorCodeSchema.safeParse(body.data.code) : undefined;
  if (body.success && code?.success) {
    return new RmmError(code.data, body.data.message, { cause: err });
  }
  switch (err.kind) {
    case 'rate_limited':
      return new RmmError('RATE_LIMITED', err.message, { cause: err });
    case 'unavailable':
    case 'outcome_unknown':
      return new RmmError(
        'UNAVAILABLE',
        `${err.message} — is \`patchops simulator\` running at ${url}?`,
        { cause: err },
      );
    case 'wire_format':
    case 'not_found':
      return new RmmError(
        'CONFIG_INVALID',
        `${err.message} — is ${url} (PATCHOPS_RMM_CONFIG.url) a served patchops simulator?`,
        { cause: err },
      );
    default:
      return new RmmError('INVALID_ARGUMENT', err.message, { cause: err });
  }
}

const statsOf = (s: ResultOf<'stats'>): SimulatorStats => ({
  deployCalls: new Map(s.deployCalls),
  installsPerDevicePatch: new Map(s.installsPerDevicePatch),
  rebootsPerDevice: new Map(s.rebootsPerDevice),
  deployJobsPerPatch: new Map(s.deployJobsPerPatch),
});

/**
 * The adapter the registry builds for `PATCHOPS_RMM_CONFIG={"url":…}`. Every call is safe
 * to repeat (the simulator keeps idempotency keys), so all of them are retried on a lost
 * answer; the server's RmmError comes back with its own code.
 */
export function createRemoteSimulator(
  url: string,
  deps: Pick<AdapterDeps, 'http'> = {
    http: (o) => createHttpClient({ ...o, log: pino({ level: 'silent' }) }),
  },
): RemoteSimulator {
  const http: HttpClient = deps.http({
    vendor: VENDOR,
    baseURL: url,
    timeoutMs: 30_000,
    retries: 3,
    retryBaseMs: 200,
    headers: { 'Content-Type': 'application/json' },
  });
  const call = async <M extends SimulatorMethod>(
    method: M,
    args: RequestOf<M>,
  ): Promise<ResultOf<M>> => {
    const schema = z.object({ result: resultSchemas[method] as unknown as z.ZodType<ResultOf<M>> });
    try {
      const res = await http.request({
        method: 'POST',
        url: `/v1/${method}`,
        data: args,
        schema,
        idempotent: true,
      });
      return res.data.result;
    } catch (err) {
      throw toRmmError(err, url);
    }
  };

  return {
    kind: 'simulator',
    url,
    async testConnection() {
      try {
        const r = await call('testConnection', {});
        return r.ok ? { ok: true, detail: `${r.detail}, served at ${url}` } : r;
      } catch (err) {
        return { ok: false, detail: (err as Error).message };
      }
    },
    listClients: () => call('listClients', {}),
    listSites: (clientId) => call('listSites', { clientId }),
    listDevices: (clientId, page) => call('listDevices', { clientId, page }),
    triggerScan: (deviceIds) => call('triggerScan', { deviceIds }),
    readScan: (scanId) => call('readScan', { scanId }),
    missingPatches: (deviceId) => call('missingPatches', { deviceId }),
    installedPatches: (deviceId) => call('installedPatches', { deviceId }),
    deploy: (deviceId, patchIds, idempotencyKey, hints) =>
      call('deploy', { deviceId, patchIds, idempotencyKey, hints }),
    readJob: (jobId) => call('readJob', { jobId }),
    reboot: (deviceId, idempotencyKey, hints) =>
      call('reboot', { deviceId, idempotencyKey, hints }),
    promptReboot: (deviceId, idempotencyKey, opts) =>
      call('promptReboot', { deviceId, idempotencyKey, opts: { allowDefer: opts.allowDefer } }),
    uninstall: (deviceId, patchIds, idempotencyKey, hints) =>
      call('uninstall', { deviceId, patchIds, idempotencyKey, hints }),
    isOnline: (deviceId) => call('isOnline', { deviceId }),
    bulk: {
      isOnline: (deviceIds) => call('bulk/isOnline', { deviceIds }),
      // Only the contract's fields: the server refuses unknown ones.
      deploy: (requests) =>
        call('bulk/deploy', {
          requests: requests.map((r) => ({
            deviceId: r.deviceId,
            patchIds: r.patchIds,
            idempotencyKey: r.idempotencyKey,
            hints: r.hints,
          })),
        }),
      readJob: (jobIds) => call('bulk/readJob', { jobIds }),
      promptReboot: (requests) =>
        call('bulk/promptReboot', {
          requests: requests.map((r) => ({
            deviceId: r.deviceId,
            idempotencyKey: r.idempotencyKey,
            allowDefer: r.allowDefer,
          })),
        }),
      patchStates: (deviceIds) => call('bulk/patchStates', { deviceIds }),
    },
    hooks: {
      setOnline: (deviceId, online) => call('setOnline', { deviceId, online }),
      setUserDefers: (deviceId, alwaysDefer) =>
        call('setUserDefers', { deviceId, alwaysDefer: alwaysDefer ?? null }),
      pendingReboot: (deviceId) => call('pendingReboot', { deviceId }),
      stats: async () => statsOf(await call('stats', {})),
      catalog: () => call('catalog', {}),
    },
  };
}
