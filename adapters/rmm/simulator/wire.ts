import { z } from 'zod';
import { clientSchema, deviceSchema, patchSchema, siteSchema } from '../../../domain/model.js';
import type { RmmErrorCode } from '../types.js';

/**
 * The wire format of the served simulator (server.ts ↔ remote.ts): every call is
 * `POST /v1/<method>` with a JSON object of the arguments by parameter name; a success is
 * `200 { result }`, a failure `4xx/5xx { code, message }` with the RmmError's code. Bulk
 * calls are `POST /v1/bulk/<method>`; the simulator's test hooks are methods like the rest.
 */

/** HTTP status per RmmError code; also the list of codes a failure body may carry. */
export const STATUS_BY_CODE = {
  CLIENT_NOT_FOUND: 404,
  DEVICE_NOT_FOUND: 404,
  PATCH_NOT_FOUND: 404,
  SCAN_NOT_FOUND: 404,
  JOB_NOT_FOUND: 404,
  DEVICE_OFFLINE: 409,
  IDEMPOTENCY_CONFLICT: 409,
  NOT_UNINSTALLABLE: 422,
  INVALID_ARGUMENT: 400,
  AUTH_FAILED: 401,
  RATE_LIMITED: 429,
  CONFIG_INVALID: 500,
  UNKNOWN_ADAPTER: 500,
  UNAVAILABLE: 503,
} as const satisfies Record<RmmErrorCode, number>;

export const rmmErrorCodeSchema = z.enum(
  Object.keys(STATUS_BY_CODE) as [RmmErrorCode, ...RmmErrorCode[]],
);

/** A failure's body. `code` may also be one of the server's own (NOT_FOUND, TOO_LARGE…). */
export const errorBodySchema = z.object({ code: z.string(), message: z.string() });

// Ids are plain strings here: an empty one is the simulator's to refuse, as in process.
const str = z.string();
const strs = z.array(z.string());
// The simulator keeps its own idempotency keys and ignores hints; extra fields are dropped.
const hints = z.object({ recheck: z.boolean(), since: z.string() }).optional();
const none = z.strictObject({});

/** Request bodies by method. Strict, so a misspelt field is named instead of ignored. */
export const requestSchemas = {
  testConnection: none,
  listClients: none,
  listSites: z.strictObject({ clientId: str }),
  listDevices: z.strictObject({
    clientId: str,
    page: z.strictObject({ cursor: str.optional(), limit: z.number() }),
  }),
  triggerScan: z.strictObject({ deviceIds: strs }),
  readScan: z.strictObject({ scanId: str }),
  missingPatches: z.strictObject({ deviceId: str }),
  installedPatches: z.strictObject({ deviceId: str }),
  deploy: z.strictObject({ deviceId: str, patchIds: strs, idempotencyKey: str, hints }),
  readJob: z.strictObject({ jobId: str }),
  reboot: z.strictObject({ deviceId: str, idempotencyKey: str, hints }),
  promptReboot: z.strictObject({
    deviceId: str,
    idempotencyKey: str,
    opts: z.strictObject({ allowDefer: z.boolean() }),
  }),
  uninstall: z.strictObject({ deviceId: str, patchIds: strs, idempotencyKey: str, hints }),
  isOnline: z.strictObject({ deviceId: str }),

  'bulk/isOnline': z.strictObject({ deviceIds: strs }),
  'bulk/deploy': z.strictObject({
    requests: z.array(
      z.strictObject({ deviceId: str, patchIds: strs, idempotencyKey: str, hints }),
    ),
  }),
  'bulk/readJob': z.strictObject({ jobIds: strs }),
  'bulk/promptReboot': z.strictObject({
    requests: z.array(
      z.strictObject({ deviceId: str, idempotencyKey: str, allowDefer: z.boolean() }),
    ),
  }),
  'bulk/patchStates': z.strictObject({ deviceIds: strs }),

  setOnline: z.strictObject({ deviceId: str, online: z.boolean() }),
  /** `null` or absent returns the device to the seed's decisions. */
  setUserDefers: z.strictObject({ deviceId: str, alwaysDefer: z.boolean().nullable().optional() }),
  pendingReboot: z.strictObject({ deviceId: str }),
  stats: none,
  catalog: none,
} as const;

export type SimulatorMethod = keyof typeof requestSchemas;
export type RequestOf<M extends SimulatorMethod> = z.input<(typeof requestSchemas)[M]>;

const jobId = z.strictObject({ jobId: z.string().min(1) });
const jobStatus = z.strictObject({
  state: z.enum(['queued', 'running', 'succeeded', 'failed']),
  results: z.array(
    z.strictObject({
      patchId: z.string(),
      outcome: z.enum(['installed', 'failed', 'pending_reboot', 'uninstalled']),
      error: z.string().optional(),
    }),
  ),
});
const promptResult = z.discriminatedUnion('outcome', [
  z.strictObject({ outcome: z.literal('rebooting'), jobId: z.string().min(1) }),
  z.strictObject({ outcome: z.literal('deferred') }),
]);
const bulk = <T extends z.ZodType>(value: T) =>
  z.array(
    z.discriminatedUnion('ok', [
      z.strictObject({ ok: z.literal(true), value }),
      z.strictObject({ ok: z.literal(false), code: rmmErrorCodeSchema, message: z.string() }),
    ]),
  );
/** A call that returns nothing answers `{ "result": null }`. */
const nothing = z.null().transform((): void => undefined);
const counts = z.array(z.tuple([z.string(), z.number().int().min(0)]));

/** The `result` of a success, by method. */
export const resultSchemas = {
  testConnection: z.discriminatedUnion('ok', [
    z.strictObject({ ok: z.literal(true), detail: z.string() }),
    z.strictObject({ ok: z.literal(false), detail: z.string() }),
  ]),
  listClients: z.array(clientSchema),
  listSites: z.array(siteSchema),
  listDevices: z.object({ devices: z.array(deviceSchema), nextCursor: z.string().optional() }),
  triggerScan: z.strictObject({ scanId: z.string().min(1) }),
  readScan: z.strictObject({ done: z.boolean() }),
  missingPatches: z.array(patchSchema),
  installedPatches: strs,
  deploy: jobId,
  readJob: jobStatus,
  reboot: jobId,
  promptReboot: promptResult,
  uninstall: jobId,
  isOnline: z.boolean(),

  'bulk/isOnline': bulk(z.boolean()),
  'bulk/deploy': bulk(jobId),
  'bulk/readJob': bulk(jobStatus),
  'bulk/promptReboot': bulk(promptResult),
  'bulk/patchStates': bulk(z.strictObject({ installed: strs, missing: strs })),

  setOnline: nothing,
  setUserDefers: nothing,
  pendingReboot: strs,
  /** SimulatorStats with each Map sent as its array of entries. */
  stats: z.strictObject({
    deployCalls: counts,
    installsPerDevicePatch: counts,
    rebootsPerDevice: counts,
    deployJobsPerPatch: counts,
  }),
  catalog: z.array(patchSchema),
} as const satisfies Record<SimulatorMethod, z.ZodType>;

export type ResultOf<M extends SimulatorMethod> = z.output<(typeof resultSchemas)[M]>;
