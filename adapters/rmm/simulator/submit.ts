import { RmmError, type RebootPromptResult } from '../types.js';
import { CATALOG_BY_ID } from './catalog.js';
import type { SimDevice } from './fleet.js';
import { chance } from './random.js';
import { nextId, type JobKind, type SimulatorState } from './state.js';

/**
 * How the simulated RMM accepts work. The idempotency check comes first, so a replayed
 * call gets its original job back even if the device has gone offline since; everything
 * else is checked before anything is queued, so a refused call leaves no trace.
 */

export interface JobRequest {
  kind: JobKind;
  deviceId: string;
  patchIds: string[];
  idempotencyKey: string;
}

export function requireDevice(state: SimulatorState, deviceId: string): SimDevice {
  const sim = state.fleet.byId.get(deviceId);
  if (!sim) throw new RmmError('DEVICE_NOT_FOUND', `No device "${deviceId}" in the simulator`);
  return sim;
}

/** Queues a job, or returns the one already queued under the same key; returns its id. */
export function submitJob(state: SimulatorState, now: number, request: JobRequest): string {
  const { kind, deviceId, idempotencyKey: key } = request;
  if (!key) throw new RmmError('INVALID_ARGUMENT', 'idempotencyKey must not be empty');
  const wanted = [...new Set(request.patchIds)].sort();
  if (state.prompts.has(key)) {
    throw new RmmError(
      'IDEMPOTENCY_CONFLICT',
      `Idempotency key "${key}" was already used for a reboot prompt`,
    );
  }
  const existingId = state.idempotency.get(key);
  const existing = existingId === undefined ? undefined : state.jobs.get(existingId);
  if (existing) {
    const same =
      existing.kind === kind &&
      existing.deviceId === deviceId &&
      existing.patchIds.join('\n') === wanted.join('\n');
    if (!same) {
      throw new RmmError(
        'IDEMPOTENCY_CONFLICT',
        `Idempotency key "${key}" was already used for a different ${existing.kind} (job ${existing.id})`,
      );
    }
    return existing.id;
  }
  const sim = requireDevice(state, deviceId);
  if (kind !== 'reboot' && wanted.length === 0) {
    throw new RmmError('INVALID_ARGUMENT', `${kind} needs at least one patch id`);
  }
  for (const patchId of wanted) {
    const entry = CATALOG_BY_ID.get(patchId);
    if (!entry) throw new RmmError('PATCH_NOT_FOUND', `No patch "${patchId}" in the catalog`);
    if (kind === 'uninstall' && !entry.patch.uninstallable) {
      throw new RmmError('NOT_UNINSTALLABLE', `Patch "${patchId}" cannot be uninstalled`);
    }
  }
  if (!state.online.get(deviceId)) {
    throw new RmmError(
      'DEVICE_OFFLINE',
      `Device "${deviceId}" (${sim.device.hostname}) is offline; retry when it is back`,
    );
  }
  const id = nextId(state, 'job');
  state.jobs.set(id, { id, kind, idempotencyKey: key, deviceId, patchIds: wanted, createdAt: now });
  state.idempotency.set(key, id);
  return id;
}

export interface PromptRequest {
  deviceId: string;
  idempotencyKey: string;
  allowDefer: boolean;
}

/**
 * Whether the logged-on user postpones a prompt: the test override for the device if one
 * is set, otherwise fixed by the seed, the device and the key, never by call order.
 */
export function userDefers(state: SimulatorState, deviceId: string, key: string): boolean {
  const forced = state.userDefers.get(deviceId);
  if (forced !== undefined) return forced;
  return chance(state.options.seed, deviceId, key, 'user-defers') < state.options.userDeferRate;
}

/**
 * Asks the user to reboot, or returns the answer already given under the same key. Like
 * `submitJob`, a refused call (unknown or offline device) leaves no trace.
 */
export function submitRebootPrompt(
  state: SimulatorState,
  now: number,
  request: PromptRequest,
): RebootPromptResult {
  const { deviceId, allowDefer, idempotencyKey: key } = request;
  if (!key) throw new RmmError('INVALID_ARGUMENT', 'idempotencyKey must not be empty');
  const existing = state.prompts.get(key);
  if (existing) {
    if (existing.deviceId !== deviceId || existing.allowDefer !== allowDefer) {
      throw new RmmError(
        'IDEMPOTENCY_CONFLICT',
        `Idempotency key "${key}" was already used for a different reboot prompt`,
      );
    }
    return { ...existing.answer };
  }
  const jobId = state.idempotency.get(key);
  if (jobId !== undefined) {
    const kind = state.jobs.get(jobId)?.kind ?? 'job';
    throw new RmmError(
      'IDEMPOTENCY_CONFLICT',
      `Idempotency key "${key}" was already used for a ${kind} (job ${jobId})`,
    );
  }
  const sim = requireDevice(state, deviceId);
  if (!state.online.get(deviceId)) {
    throw new RmmError(
      'DEVICE_OFFLINE',
      `Device "${deviceId}" (${sim.device.hostname}) is offline; retry when it is back`,
    );
  }
  const answer: RebootPromptResult =
    allowDefer && userDefers(state, deviceId, key)
      ? { outcome: 'deferred' }
      : {
          outcome: 'rebooting',
          jobId: submitJob(state, now, {
            kind: 'reboot',
            deviceId,
            patchIds: [],
            idempotencyKey: key,
          }),
        };
  state.prompts.set(key, { deviceId, allowDefer, answer });
  return { ...answer };
}
