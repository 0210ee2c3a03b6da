import type { JobStatus, PatchResult, RetryHints } from '../types.js';
import { RmmError } from '../types.js';
import {
  applyCompleted,
  applyStarted,
  failureText,
  mentions,
  rebooted,
  rebootMarker,
  SKEW_S,
} from './activities.js';
import type { NinjaOneApi } from './api.js';
import { deviceNumber, encodeJob, patchFamily, type JobToken, type PatchFamily } from './ids.js';
import { readDevicePatches } from './patches.js';

/**
 * Deploy and reboot jobs without a job id from NinjaOne and without memory in patchops'
 * process: the job id carries device, patches, families and start time, and the device's
 * activity log and patch reports tell what became of it.
 *
 * NinjaOne installs per device and family ("apply everything approved"), never one patch.
 * patchops decides what is approved; the job reports on the patches it was asked for.
 */

/** How far back a reboot looks for its own earlier request when the caller gives no time. */
const REBOOT_LOOKBACK_S = 24 * 3600;

function sinceSeconds(hints: RetryHints | undefined, nowS: number): number {
  if (!hints?.recheck) return nowS - SKEW_S;
  const since = Date.parse(hints.since);
  if (Number.isNaN(since)) {
    throw new RmmError('INVALID_ARGUMENT', `hints.since "${hints.since}" is not an ISO 8601 time`);
  }
  return Math.min(nowS, since / 1000) - SKEW_S;
}

function requireKey(key: string): void {
  if (!key) throw new RmmError('INVALID_ARGUMENT', 'idempotencyKey must not be empty');
}

export async function deploy(
  api: NinjaOneApi,
  nowS: number,
  deviceId: string,
  patchIds: string[],
  key: string,
  hints?: RetryHints,
): Promise<{ jobId: string }> {
  requireKey(key);
  if (patchIds.length === 0)
    throw new RmmError('INVALID_ARGUMENT', 'deploy needs at least one patch id');
  const wanted = [...new Set(patchIds)].sort();
  const families: PatchFamily[] = [...new Set(wanted.map(patchFamily))].sort();
  const id = deviceNumber(deviceId);
  const t = sinceSeconds(hints, nowS);

  // An earlier attempt may have reached NinjaOne (timeout, crashed worker): its apply shows
  // in the log, and applying again would install the device's approved patches twice.
  let done: PatchFamily[] = [];
  if (hints?.recheck) {
    const log = await api.activitiesSince(id, t);
    done = families.filter((f) => log.some((a) => applyStarted(a, f) || applyCompleted(a, f)));
  }
  const applied = [...done];
  const todo = families.filter((f) => !done.includes(f));
  if (todo.length > 0) {
    const device = await api.device(id);
    if (device.offline) {
      throw new RmmError(
        'DEVICE_OFFLINE',
        `NinjaOne device ${id} (${device.systemName ?? device.displayName ?? 'unnamed'}) is offline; retry when it is back`,
      );
    }
    for (const f of todo) if (await api.patchAction(id, f, 'apply')) applied.push(f);
  }
  const job: JobToken = { k: 'deploy', d: id, t, p: wanted, f: applied.sort() };
  return { jobId: encodeJob(job) };
}

export async function readDeployJob(api: NinjaOneApi, job: JobToken): Promise<JobStatus> {
  const log = await api.activitiesSince(job.d, job.t);
  const started = job.f.every((f) => log.some((a) => applyStarted(a, f) || applyCompleted(a, f)));
  if (!started) return { state: 'queued', results: [] };
  const finished = job.f.every((f) => log.some((a) => applyCompleted(a, f)));
  if (!finished) return { state: 'running', results: [] };

  const device = await api.device(job.d);
  const view = await readDevicePatches(api, device, job.f);
  const pending = new Set(view.pendingReboot);
  const missing = new Set(view.missing.map((p) => p.id));
  const results = job.p.map((patchId): PatchResult => {
    const family = patchFamily(patchId);
    if (!job.f.includes(family)) {
      return {
        patchId,
        outcome: 'failed',
        error: `NinjaOne: this device is not applicable for ${family === 'os' ? 'OS' : 'software'} patch apply`,
      };
    }
    const rec = view.latest.get(patchId);
    if (rec?.status === 'FAILED' && rec.at >= job.t) {
      return {
        patchId,
        outcome: 'failed',
        error: failureText(log, family, rec.vendorRef) ?? 'NinjaOne reported the install as FAILED',
      };
    }
    if (pending.has(patchId)) return { patchId, outcome: 'pending_reboot' };
    if (rec?.status === 'INSTALLED' && !missing.has(patchId))
      return { patchId, outcome: 'installed' };
    if (missing.has(patchId)) {
      return {
        patchId,
        outcome: 'failed',
        error:
          'NinjaOne applied patches but not this one: it is not approved in the NinjaOne patch policy, or not applicable',
      };
    }
    return {
      patchId,
      outcome: 'failed',
      error:
        'NinjaOne reports this patch neither installed nor missing on the device; rescan to verify',
    };
  });
  return { state: results.some((r) => r.outcome === 'failed') ? 'failed' : 'succeeded', results };
}

/**
 * Reboots once per key: the request's reason carries a digest of the key, so a retry finds
 * the earlier request (or the reboot itself) in the log and returns the same job.
 */
export async function reboot(
  api: NinjaOneApi,
  nowS: number,
  deviceId: string,
  key: string,
  hints?: RetryHints,
): Promise<{ jobId: string }> {
  requireKey(key);
  const id = deviceNumber(deviceId);
  const marker = rebootMarker(key);
  const lookFrom = hints?.recheck ? sinceSeconds(hints, nowS) : nowS - REBOOT_LOOKBACK_S;
  const earlier = (await api.activitiesSince(id, lookFrom)).find((a) => mentions(a, marker));
  const device = await api.device(id);
  const view = await readDevicePatches(api, device, ['os']);
  if (earlier) {
    return {
      jobId: encodeJob({
        k: 'reboot',
        d: id,
        t: earlier.activityTime - SKEW_S,
        p: view.pendingReboot,
        f: [],
      }),
    };
  }
  if (device.offline) {
    throw new RmmError('DEVICE_OFFLINE', `NinjaOne device ${id} is offline; retry when it is back`);
  }
  const t = nowS - SKEW_S;
  await api.reboot(id, 'NORMAL', `Restart to complete patch installation (${marker})`);
  return { jobId: encodeJob({ k: 'reboot', d: id, t, p: view.pendingReboot, f: [] }) };
}

export async function readRebootJob(api: NinjaOneApi, job: JobToken): Promise<JobStatus> {
  const log = await api.activitiesSince(job.d, job.t);
  if (!log.some(rebooted)) return { state: log.length > 0 ? 'running' : 'queued', results: [] };
  return {
    state: 'succeeded',
    results: job.p.map((patchId) => ({ patchId, outcome: 'installed' as const })),
  };
}
