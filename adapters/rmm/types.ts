import type { Client, Device, Patch, Site } from '../../domain/model.js';

/**
 * The contract every RMM (remote monitoring and management tool) fulfils for patchops.
 * Activities call it; workflows only ever see its results. Adapters never write to the
 * database: they report what the RMM says and activities record it.
 *
 * Ids: `deviceId` is always `Device.id` as returned by `listDevices`, and patch ids are
 * `Patch.id`. Mapping them to the vendor's own ids is the adapter's job.
 */
export interface RmmAdapter {
  /** The registry key this adapter was built from, e.g. "simulator" or "ninjaone". */
  readonly kind: string;

  /**
   * Checks credentials and reachability with one cheap call, so a wrong key shows up at
   * set-up time. Never throws for an expected failure: it returns `ok: false` and says why.
   */
  testConnection(): Promise<ConnectionCheck>;

  /**
   * Optional further checks for `patchops doctor` once the connection works: per host
   * reachability and host keys (SSH), whether the vendor's own patch policy would approve
   * or install on its own (NinjaOne, Tactical RMM). One line per finding.
   */
  diagnose?(): Promise<Diagnosis[]>;

  /** Every client (organisation) the configured credentials can see, in a stable order. */
  listClients(): Promise<Client[]>;

  /** The sites (locations) of one client. Throws `CLIENT_NOT_FOUND` for an unknown client. */
  listSites(clientId: string): Promise<Site[]>;

  /**
   * One page of a client's devices in a stable order; pass `nextCursor` back to get the
   * next page. A missing `nextCursor` means this was the last page. Cursors are opaque.
   * Throws `CLIENT_NOT_FOUND`, or `INVALID_ARGUMENT` for a bad cursor or limit.
   */
  listDevices(clientId: string, page: DevicePage): Promise<DevicePageResult>;

  /**
   * Asks the RMM to rescan the given devices for missing patches. Returns at once; poll
   * `readScan` until `done`. Throws `DEVICE_NOT_FOUND` if any id is unknown.
   */
  triggerScan(deviceIds: string[]): Promise<{ scanId: string }>;

  /** Whether a scan started by `triggerScan` has finished. Throws `SCAN_NOT_FOUND`. */
  readScan(scanId: string): Promise<{ done: boolean }>;

  /**
   * The patches the device's most recent scan found missing. Patches installed but waiting
   * for a reboot are neither missing nor installed. Throws `DEVICE_NOT_FOUND`.
   */
  missingPatches(deviceId: string): Promise<Patch[]>;

  /** Ids of the patches the RMM reports as installed (reboot completed). */
  installedPatches(deviceId: string): Promise<string[]>;

  /**
   * Queues installation of `patchIds` on one device. Idempotent: a second call with the
   * same `idempotencyKey` returns the first call's job and installs nothing again; the same
   * key with different arguments throws `IDEMPOTENCY_CONFLICT`. Throws `DEVICE_OFFLINE`
   * when the device cannot receive the job now (retry later or skip it).
   */
  deploy(
    deviceId: string,
    patchIds: string[],
    idempotencyKey: string,
    hints?: RetryHints,
  ): Promise<{ jobId: string }>;

  /**
   * Progress and per-patch results of a job started by `deploy`, `reboot`, `uninstall` or a
   * `promptReboot` that answered `rebooting`.
   * `results` is filled once the job has finished. Throws `JOB_NOT_FOUND`.
   */
  readJob(jobId: string): Promise<JobStatus>;

  /**
   * Restarts a device, completing installs that were `pending_reboot`; the finished job
   * lists those patches as `installed`. Idempotent per key, like `deploy`.
   */
  reboot(deviceId: string, idempotencyKey: string, hints?: RetryHints): Promise<{ jobId: string }>;

  /**
   * Asks the device's logged-on user to reboot now. With `allowDefer: false` the reboot is
   * forced: the answer is always `rebooting`, exactly as `reboot` would. With
   * `allowDefer: true` the user may postpone, and the answer is `deferred`; nothing is
   * queued then, and asking again later takes a new key. A `rebooting` answer carries a
   * reboot job to poll with `readJob`, which completes `pending_reboot` installs like the
   * one `reboot` starts.
   *
   * Idempotent per key: a second call with the same `idempotencyKey` returns the first
   * call's answer and, for `rebooting`, the same job, so a retry never reboots twice or
   * asks the user again. The same key with a different device or `allowDefer`, or a key
   * already used by `deploy`, `reboot` or `uninstall`, throws `IDEMPOTENCY_CONFLICT`.
   * Throws `DEVICE_NOT_FOUND`, or `DEVICE_OFFLINE` when the device cannot be reached now.
   */
  promptReboot(
    deviceId: string,
    idempotencyKey: string,
    opts: { allowDefer: boolean },
  ): Promise<RebootPromptResult>;

  /**
   * Rolls patches back. Throws `NOT_UNINSTALLABLE` before queuing anything when one of
   * them cannot be removed. Idempotent per key, like `deploy`.
   */
  uninstall(
    deviceId: string,
    patchIds: string[],
    idempotencyKey: string,
    hints?: RetryHints,
  ): Promise<{ jobId: string }>;

  /** Whether the device's agent is reachable now. Throws `DEVICE_NOT_FOUND`. */
  isOnline(deviceId: string): Promise<boolean>;

  /**
   * Optional calls over many devices at once, which a rollout batch uses when present
   * (`bulkOf` in adapters/rmm/bulk.ts builds them from the single calls otherwise). Each
   * entry behaves exactly as the single call with the same arguments would, idempotency
   * included; one entry's failure is that entry's result, never the whole call's.
   */
  readonly bulk?: RmmBulk;
}

/** One entry of a bulk call: the single call's value, or the RmmError it would throw. */
export type BulkResult<T> =
  { ok: true; value: T } | { ok: false; code: RmmErrorCode; message: string };

/**
 * Bulk forms of the calls a rollout makes per device. Results come in request order, one
 * per request. A call as a whole only rejects for what would fail every entry alike (the
 * RMM unreachable, credentials revoked), with the RmmError the single call would throw.
 */
export interface RmmBulk {
  /** `isOnline` per device. */
  isOnline(deviceIds: string[]): Promise<BulkResult<boolean>[]>;
  /** `deploy` per request. */
  deploy(
    requests: Array<{
      deviceId: string;
      patchIds: string[];
      idempotencyKey: string;
      hints?: RetryHints;
    }>,
  ): Promise<BulkResult<{ jobId: string }>[]>;
  /** `readJob` per job id. */
  readJob(jobIds: string[]): Promise<BulkResult<JobStatus>[]>;
  /** `promptReboot` per request. */
  promptReboot(
    requests: Array<{ deviceId: string; idempotencyKey: string; allowDefer: boolean }>,
  ): Promise<BulkResult<RebootPromptResult>[]>;
  /** `installedPatches` and the ids of `missingPatches` per device, read together. */
  patchStates(
    deviceIds: string[],
  ): Promise<BulkResult<{ installed: string[]; missing: string[] }>[]>;
}

/**
 * What the caller knows about earlier attempts with the same idempotency key. Vendors
 * without an idempotency key of their own (NinjaOne, Tactical RMM) use it to look at the
 * device's activities or update states before acting again, so a write whose outcome was
 * unknown (a timeout, a crashed worker) is never blindly repeated. Adapters that keep the
 * key themselves (simulator, SSH job records on the host) may ignore it.
 */
export interface RetryHints {
  /** An earlier attempt with this key may have reached the RMM. */
  recheck: boolean;
  /** When the first attempt with this key started (ISO 8601): look for its traces since then. */
  since: string;
}

/** One line of `patchops doctor` below an adapter's own line. */
export interface Diagnosis {
  /** What the line is about, e.g. a host name or "patch-policy". */
  part: string;
  state: 'ok' | 'warn' | 'down';
  detail: string;
}

export type ConnectionCheck = { ok: true; detail: string } | { ok: false; detail: string };

export interface DevicePage {
  /** `nextCursor` from the previous page; omit for the first page. */
  cursor?: string;
  /** Most devices to return; adapters may return fewer. */
  limit: number;
}

export interface DevicePageResult {
  devices: Device[];
  nextCursor?: string;
}

/** The user's answer to `promptReboot`; `jobId` is the reboot job when it goes ahead. */
export type RebootPromptResult = { outcome: 'rebooting'; jobId: string } | { outcome: 'deferred' };

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed';

/**
 * What happened to one patch in a job. `uninstalled` is only reported by uninstall jobs,
 * which is why it is here alongside the outcomes a deploy can have.
 */
export type PatchOutcome = 'installed' | 'failed' | 'pending_reboot' | 'uninstalled';

export interface PatchResult {
  patchId: string;
  outcome: PatchOutcome;
  /** The RMM's own words for a failure, e.g. a Windows Update HRESULT. */
  error?: string;
}

export interface JobStatus {
  /** `failed` when at least one patch failed; `results` says which. */
  state: JobState;
  results: PatchResult[];
}

export type RmmErrorCode =
  | 'CLIENT_NOT_FOUND'
  | 'DEVICE_NOT_FOUND'
  | 'DEVICE_OFFLINE'
  | 'PATCH_NOT_FOUND'
  | 'NOT_UNINSTALLABLE'
  | 'SCAN_NOT_FOUND'
  | 'JOB_NOT_FOUND'
  | 'IDEMPOTENCY_CONFLICT'
  | 'INVALID_ARGUMENT'
  | 'CONFIG_INVALID'
  | 'UNKNOWN_ADAPTER'
  | 'AUTH_FAILED'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE';

/** Codes that describe a passing condition on the RMM's side, worth retrying later. */
const RETRYABLE: ReadonlySet<RmmErrorCode> = new Set(['RATE_LIMITED', 'UNAVAILABLE']);

/**
 * Every failure an adapter reports on purpose. Callers branch on `code`, never on the
 * message; `retryable` lets activities choose between a Temporal retry and a
 * non-retryable ApplicationFailure.
 */
export class RmmError extends Error {
  override readonly name = 'RmmError';
  readonly retryable: boolean;

  constructor(
    readonly code: RmmErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.retryable = RETRYABLE.has(code);
  }
}
