import {
  CancellationScope,
  isCancellation,
  log,
  patched,
  proxyActivities,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { RolloutSettings } from '../domain/rollout-settings.js';
import { nextOpening, type MaintenanceWindow } from '../domain/windows.js';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});
// Polls an RMM job until it ends; heartbeats so a dead worker is noticed in seconds.
const jobs = proxyActivities<Activities>({
  startToCloseTimeout: '4 hours',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

export type DeviceSettings = Pick<
  RolloutSettings,
  | 'windows'
  | 'bypassWindows'
  | 'reboot'
  | 'jobPollMs'
  | 'offlineRetries'
  | 'offlineRetryMs'
  | 'uninstallOnFailure'
>;

export interface DeviceRolloutInput {
  rolloutId: string;
  deviceId: string;
  settings: DeviceSettings;
}

export interface DeviceRolloutResult {
  deviceId: string;
  outcome: 'succeeded' | 'failed' | 'skipped' | 'cancelled';
  installed: string[];
  failed: string[];
  pendingReboot: string[];
  /** Patches this deployment installed and then removed again because another one failed. */
  rolledBack?: string[];
  /** How often the logged-on user postponed the reboot. */
  rebootDeferrals?: number;
  reason?: string;
}

/**
 * One device of a rollout: wait for its maintenance window, deploy once (idempotency key
 * from this workflow's id), reboot per policy, rescan, record. Offline devices are retried
 * in later windows; cancellation records the device as cancelled.
 */
export async function deviceRollout(input: DeviceRolloutInput): Promise<DeviceRolloutResult> {
  const { rolloutId, deviceId } = input;
  let settings = input.settings;
  const key = workflowInfo().workflowId;
  const base = { deviceId, installed: [], failed: [], pendingReboot: [] };
  let planned: string[] = [];
  try {
    const ctx = await acts.deviceContext({ rolloutId, deviceId });
    planned = ctx.patchIds;
    // The device's site or group policy may set its own windows, reboot or rollback
    // (histories from before the plan stored them have no ctx.settings).
    settings = { ...settings, ...ctx.settings };
    if (ctx.patchIds.length === 0)
      return finish({ ...base, outcome: 'succeeded', reason: 'nothing to install' });
    const zoneOf = (tz: string) =>
      tz === 'device' ? ctx.timezone : tz === 'site' ? (ctx.siteTimezone ?? ctx.timezone) : tz;
    const windows: MaintenanceWindow[] = settings.windows.map((w) => ({
      ...w,
      timezone: zoneOf(w.timezone),
    }));

    let online = false;
    for (let attempt = 0; attempt <= settings.offlineRetries; attempt++) {
      const windowEnd = await waitForWindow(windows, settings, rolloutId, deviceId);
      online = await acts.deviceOnline({ deviceId });
      if (online) break;
      await acts.setDeviceStatus({ rolloutId, deviceId, status: 'offline' });
      log.info('device offline, retrying in the next window', { deviceId, attempt });
      // Skip past the current window so the next attempt waits for the following one.
      if (attempt < settings.offlineRetries) await sleep(Math.max(1, windowEnd - Date.now()));
    }
    if (!online) return finish({ ...base, outcome: 'skipped', reason: 'offline in every window' });

    await acts.setDeviceStatus({ rolloutId, deviceId, status: 'deploying' });
    const { jobId } = await acts.deployPatches({
      deviceId,
      patchIds: ctx.patchIds,
      idempotencyKey: `${key}:deploy`,
    });
    const results = await jobs.waitForJob({ jobId, pollMs: settings.jobPollMs });
    const pending = results.filter((r) => r.outcome === 'pending_reboot').map((r) => r.patchId);
    const rebootNeeded =
      settings.reboot.mode === 'always' ||
      (settings.reboot.mode === 'if_required' && pending.length > 0);
    const rebootDeferrals = rebootNeeded
      ? await rebootWithDeferrals(rolloutId, deviceId, key, settings)
      : 0;
    // Installed only when the rescan says so, whatever the job reported.
    const scan = await acts.rescanDevice({ deviceId, patchIds: ctx.patchIds });
    const failed = ctx.patchIds.filter(
      (p) => !scan.installed.includes(p) && !scan.pendingReboot.includes(p),
    );
    // Policy `rollback.onFailure: uninstall`: a half-patched device is put back as it was.
    // No history before this line ran the branch (the setting was always false), so it
    // needs no patched() marker.
    const rolledBack =
      failed.length && settings.uninstallOnFailure
        ? await rollBack([...scan.installed, ...scan.pendingReboot])
        : [];
    const kept = (ids: string[]) => ids.filter((p) => !rolledBack.includes(p));
    return finish({
      deviceId,
      outcome: failed.length ? 'failed' : 'succeeded',
      installed: kept(scan.installed),
      failed,
      pendingReboot: kept(scan.pendingReboot),
      ...(rolledBack.length ? { rolledBack } : {}),
      rebootDeferrals,
      ...(failed.length
        ? { reason: results.find((r) => r.error)?.error ?? 'not installed after rescan' }
        : {}),
    });
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(() =>
        finish({ ...base, outcome: 'cancelled', reason: 'rollout cancelled' }),
      );
      throw err;
    }
    // An activity that gave up (the RMM refused the job, the device left the rollout, an
    // RMM outage outlasting the retries): record the device as failed with the cause
    // instead of leaving its row in 'deploying' and its failure in the event history only.
    if (!patched('record-device-failure')) throw err;
    return finish({ ...base, outcome: 'failed', failed: planned, reason: failureReason(err) });
  }

  /**
   * Uninstalls what the vendor lets us remove of `patchIds`; returns what a rescan then
   * shows gone (the job's own word is not enough, as for installs).
   */
  async function rollBack(patchIds: string[]): Promise<string[]> {
    const { jobId } = await acts.uninstallPatches({
      rolloutId,
      deviceId,
      patchIds,
      idempotencyKey: `${key}:uninstall`,
    });
    if (!jobId) return [];
    await jobs.waitForJob({ jobId, pollMs: settings.jobPollMs });
    const after = await acts.rescanDevice({ deviceId, patchIds });
    return patchIds.filter((p) => !after.installed.includes(p) && !after.pendingReboot.includes(p));
  }

  async function finish(result: DeviceRolloutResult): Promise<DeviceRolloutResult> {
    await acts.recordDeviceOutcome({ rolloutId, result });
    return result;
  }
}

/** The innermost message of a failure chain (ActivityFailure → ApplicationFailure → …). */
export function failureReason(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? e.message : String(err);
}

/**
 * Asks the user to reboot; they may postpone up to `userDeferrals` times, each by
 * `deferralIntervalMs`, but never past the deadline counted from the install: then the
 * reboot is forced. Each prompt has its own key, so a retry never reboots twice.
 */
async function rebootWithDeferrals(
  rolloutId: string,
  deviceId: string,
  key: string,
  settings: DeviceSettings,
): Promise<number> {
  const { userDeferrals, deferralIntervalMs, deadlineMs } = settings.reboot;
  const deadline = Date.now() + deadlineMs;
  await acts.setDeviceStatus({ rolloutId, deviceId, status: 'rebooting' });
  for (let n = 0; ; n++) {
    const allowDefer = n < userDeferrals && Date.now() + deferralIntervalMs < deadline;
    const answer = await acts.promptReboot({
      deviceId,
      idempotencyKey: `${key}:reboot:${n}`,
      allowDefer,
    });
    if (answer.outcome === 'rebooting') {
      await jobs.waitForJob({ jobId: answer.jobId, pollMs: settings.jobPollMs });
      return n;
    }
    await sleep(deferralIntervalMs);
  }
}

/** Sleeps until a window is open (durable timer); returns when the current window ends. */
async function waitForWindow(
  windows: MaintenanceWindow[],
  settings: DeviceSettings,
  rolloutId: string,
  deviceId: string,
): Promise<number> {
  const occ = settings.bypassWindows ? undefined : nextOpening(windows, Date.now());
  // No window to wait for: an offline device is retried after offlineRetryMs instead.
  if (!occ) return Date.now() + settings.offlineRetryMs;
  if (occ.startsAt > Date.now()) {
    await acts.setDeviceStatus({ rolloutId, deviceId, status: 'waiting_window' });
    await sleep(occ.startsAt - Date.now());
  }
  return occ.endsAt;
}
