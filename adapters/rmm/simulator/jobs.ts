import type { JobStatus, PatchResult } from '../types.js';
import { CATALOG_BY_ID, KNOWN_BAD_ERROR, KNOWN_BAD_PATCH_ID } from './catalog.js';
import type { SimDevice } from './fleet.js';
import { chance } from './random.js';
import { setOf, type SimJob, type SimulatorState } from './state.js';

/**
 * How simulated jobs run. A job takes effect the first time anything looks at the RMM
 * after its virtual duration has passed; that is "instant on read" when latency is 0.
 * Whether an install fails depends only on the seed, the device and the patch — never on
 * how many times it was tried — so retries and restarts cannot change an outcome.
 */

const PATCH_ERRORS = {
  windows: [
    '0x80070643: Fatal error during installation',
    '0x800f081f: The source files could not be found',
    '0x80073712: The component store has been corrupted',
    'Installer exited with code 1603 (fatal error during installation)',
  ],
  macos: [
    'softwareupdate: Failed to download update (NSURLErrorDomain -1001: The request timed out)',
    'Installer: The package signature could not be verified',
  ],
  linux: [
    'dpkg: error processing package {pkg} (--configure): installed {pkg} package post-installation script subprocess returned error exit status 1',
    'E: Unable to fetch some archives, maybe run apt-get update or try with --fix-missing?',
  ],
} as const;

const DEVICE_ERRORS = {
  windows: [
    '0x80244022: The update service is unavailable (HTTP 503)',
    '0x80070070: There is not enough space on the disk',
  ],
  macos: ['Not enough free space to install the update (needs 14.2 GB)'],
  linux: [
    'E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 1873 (unattended-upgr)',
  ],
} as const;

function pickError(pool: readonly string[], roll: number): string {
  return pool[Math.floor(roll * pool.length)] ?? pool[0] ?? 'installation failed';
}

/** Why installing `patchId` on this device fails, or undefined when it succeeds. */
export function installFailure(
  state: SimulatorState,
  sim: SimDevice,
  patchId: string,
): string | undefined {
  const { seed, knownBadPatch, failureRate } = state.options;
  const family = sim.device.osFamily;
  const entry = CATALOG_BY_ID.get(patchId);
  if (!entry?.platforms.includes(sim.platform)) {
    return `Not applicable to ${sim.device.osVersion}`;
  }
  if (knownBadPatch && patchId === KNOWN_BAD_PATCH_ID) return KNOWN_BAD_ERROR;
  if (sim.broken) {
    return pickError(DEVICE_ERRORS[family], chance(seed, sim.device.id, 'device-error'));
  }
  if (chance(seed, sim.device.id, patchId, 'fails') < failureRate.perPatch) {
    const error = pickError(PATCH_ERRORS[family], chance(seed, sim.device.id, patchId, 'error'));
    return error.replaceAll('{pkg}', entry.patch.product);
  }
  return undefined;
}

/**
 * Runs every job whose virtual duration has passed, oldest first; returns how many ran,
 * so a caller that persists the state knows whether anything changed.
 */
export function settleDue(state: SimulatorState, now: number): number {
  let ran = 0;
  for (const job of state.jobs.values()) {
    if (!job.outcome && now - job.createdAt >= state.options.latencyMs.job) {
      job.outcome = run(state, job);
      ran += 1;
    }
  }
  return ran;
}

/** What `readJob` reports; assumes `settleDue` ran first. */
export function jobStatus(state: SimulatorState, job: SimJob, now: number): JobStatus {
  if (job.outcome) return { state: job.outcome.state, results: [...job.outcome.results] };
  // The first quarter of the duration is spent waiting for the agent to pick the job up.
  const queued = now - job.createdAt < state.options.latencyMs.job / 4;
  return { state: queued ? 'queued' : 'running', results: [] };
}

function run(state: SimulatorState, job: SimJob): JobStatus {
  const sim = state.fleet.byId.get(job.deviceId);
  if (!sim) throw new Error(`job ${job.id} names unknown device ${job.deviceId}`);
  const results =
    job.kind === 'deploy'
      ? job.patchIds.map((p) => deployOne(state, sim, p))
      : job.kind === 'reboot'
        ? rebootDevice(state, job.deviceId)
        : job.patchIds.map((p) => uninstallOne(state, job.deviceId, p));
  const failed = results.some((r) => r.outcome === 'failed');
  return { state: failed ? 'failed' : 'succeeded', results };
}

function deployOne(state: SimulatorState, sim: SimDevice, patchId: string): PatchResult {
  const id = sim.device.id;
  // The agent checks before installing, so a patch already present is never reinstalled.
  if (setOf(state.installed, id).has(patchId)) return { patchId, outcome: 'installed' };
  if (setOf(state.pendingReboot, id).has(patchId)) return { patchId, outcome: 'pending_reboot' };
  const error = installFailure(state, sim, patchId);
  if (error !== undefined) return { patchId, outcome: 'failed', error };

  const key = `${id}|${patchId}`;
  state.installs.set(key, (state.installs.get(key) ?? 0) + 1);
  setOf(state.missing, id).delete(patchId);
  if (CATALOG_BY_ID.get(patchId)?.patch.rebootRequired) {
    setOf(state.pendingReboot, id).add(patchId);
    return { patchId, outcome: 'pending_reboot' };
  }
  setOf(state.installed, id).add(patchId);
  return { patchId, outcome: 'installed' };
}

function rebootDevice(state: SimulatorState, deviceId: string): PatchResult[] {
  const pending = setOf(state.pendingReboot, deviceId);
  const installed = setOf(state.installed, deviceId);
  const results = [...pending].sort().map((patchId) => {
    installed.add(patchId);
    return { patchId, outcome: 'installed' as const };
  });
  pending.clear();
  return results;
}

function uninstallOne(state: SimulatorState, deviceId: string, patchId: string): PatchResult {
  const installed = setOf(state.installed, deviceId);
  const pending = setOf(state.pendingReboot, deviceId);
  if (!installed.has(patchId) && !pending.has(patchId)) {
    return { patchId, outcome: 'failed', error: 'The update is not installed on this device' };
  }
  installed.delete(patchId);
  pending.delete(patchId);
  setOf(state.missing, deviceId).add(patchId);
  return { patchId, outcome: 'uninstalled' };
}
