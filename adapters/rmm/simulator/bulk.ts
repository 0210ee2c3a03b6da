import { RmmError, type BulkResult, type RmmBulk } from '../types.js';
import { CATALOG } from './catalog.js';
import { jobStatus, settleDue } from './jobs.js';
import { setOf, type SimulatorState } from './state.js';
import { requireDevice, submitJob, submitRebootPrompt } from './submit.js';

/**
 * The simulator's bulk calls. Each entry does exactly what the single call does (the same
 * submit functions, the same idempotency and refusals), but the call as a whole settles
 * due jobs once, reads the clock once and saves the state file once: a batch of 500
 * deploys is one write of the file, not 500.
 */

export interface BulkContext {
  state: SimulatorState;
  now: () => number;
  /** Persists the state (a no-op without a statePath). */
  save: () => void;
}

/** Catalog position per patch id, so missing ids come out in the catalog's order. */
const CATALOG_ORDER: ReadonlyMap<string, number> = new Map(CATALOG.map((e, i) => [e.patch.id, i]));
const byCatalog = (a: string, b: string): number =>
  (CATALOG_ORDER.get(a) ?? 0) - (CATALOG_ORDER.get(b) ?? 0);

/** One entry: its value, or the RmmError the single call would throw. Anything else is a bug. */
function entry<T>(fn: () => T): BulkResult<T> {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    if (err instanceof RmmError) return { ok: false, code: err.code, message: err.message };
    throw err;
  }
}

// The executor turns a synchronous throw into a rejection, as a network call would.
const later = <T>(fn: () => T): Promise<T> => new Promise<T>((resolve) => resolve(fn()));

export function createSimulatorBulk({ state, now, save }: BulkContext): RmmBulk {
  /** For reads: settles due jobs and saves only when one ran, as the single reads do. */
  const settled = (): number => {
    const at = now();
    if (settleDue(state, at) > 0) save();
    return at;
  };
  /** For writes: one settle before the entries, one save after them, even on a throw. */
  const writing = <T>(body: (at: number) => T): T => {
    try {
      const at = now();
      settleDue(state, at);
      return body(at);
    } finally {
      save();
    }
  };

  return {
    isOnline: (deviceIds) =>
      later(() =>
        deviceIds.map((deviceId) =>
          entry(() => {
            requireDevice(state, deviceId);
            return state.online.get(deviceId) ?? false;
          }),
        ),
      ),

    deploy: (requests) =>
      later(() =>
        writing((at) =>
          requests.map((r) =>
            entry(() => {
              const key = r.idempotencyKey;
              state.deployCalls.set(key, (state.deployCalls.get(key) ?? 0) + 1);
              const jobId = submitJob(state, at, {
                kind: 'deploy',
                deviceId: r.deviceId,
                patchIds: r.patchIds,
                idempotencyKey: key,
              });
              return { jobId };
            }),
          ),
        ),
      ),

    readJob: (jobIds) =>
      later(() => {
        const at = settled();
        return jobIds.map((jobId) =>
          entry(() => {
            const job = state.jobs.get(jobId);
            if (!job) throw new RmmError('JOB_NOT_FOUND', `No job "${jobId}"`);
            return jobStatus(state, job, at);
          }),
        );
      }),

    promptReboot: (requests) =>
      later(() =>
        writing((at) => requests.map((r) => entry(() => submitRebootPrompt(state, at, r)))),
      ),

    patchStates: (deviceIds) =>
      later(() => {
        settled();
        return deviceIds.map((deviceId) =>
          entry(() => {
            requireDevice(state, deviceId);
            return {
              installed: [...setOf(state.installed, deviceId)].sort(),
              missing: [...setOf(state.missing, deviceId)].sort(byCatalog),
            };
          }),
        );
      }),
  };
}
