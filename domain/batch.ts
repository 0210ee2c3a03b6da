import type { PatchResult } from '../adapters/rmm/types.js';
import type { RolloutSettings } from './rollout-settings.js';
import { nextOpening, type MaintenanceWindow } from './windows.js';

/**
 * Where one device stands inside its rollout batch (rollout_devices.progress). A batch
 * activity moves every device it finds due one step further and writes this back after
 * each step, so an attempt on another worker resumes where the last one stopped.
 *
 * No `step`: not deployed yet (waiting for its window, or offline and retried later).
 * `job`: the deploy job runs. `reboot`: a reboot prompt is due. `reboot_job`: the reboot
 * runs. `verify`: the rescan decides what was installed.
 */
export type BatchStep = 'job' | 'reboot' | 'reboot_job' | 'verify';

export interface DeviceProgress {
  step?: BatchStep;
  /** Windows the device was found offline in. */
  attempts?: number;
  /** Not due before this time (epoch ms): a window, an offline retry, a deferred reboot. */
  nextAt?: number;
  jobId?: string;
  /** What the deploy job reported per patch. */
  results?: PatchResult[];
  /** Reboot prompts asked so far; the next one's key ends in this number. */
  prompts?: number;
  /** The reboot is forced from this time on (epoch ms). */
  deadline?: number;
  rebootJobId?: string;
}

type WindowedSettings = Pick<RolloutSettings, 'windows' | 'bypassWindows' | 'offlineRetryMs'>;

/** The policy's windows in the device's own zones ('device' and 'site' resolved). */
export function deviceWindows(
  settings: Pick<RolloutSettings, 'windows'>,
  timezone: string,
  siteTimezone: string,
): MaintenanceWindow[] {
  const zoneOf = (tz: string) => (tz === 'device' ? timezone : tz === 'site' ? siteTimezone : tz);
  return settings.windows.map((w) => ({ ...w, timezone: zoneOf(w.timezone) }));
}

/**
 * Whether a device may be deployed to now: open until `endsAt`, or closed until `opensAt`.
 * Without windows (or when bypassing them) it is open, and an offline device is retried
 * `offlineRetryMs` later, as the per-device design does.
 */
export function windowNow(
  settings: WindowedSettings,
  windows: MaintenanceWindow[],
  now: number,
): { open: true; endsAt: number } | { open: false; opensAt: number } {
  const occ = settings.bypassWindows ? undefined : nextOpening(windows, now);
  if (!occ) return { open: true, endsAt: now + settings.offlineRetryMs };
  if (occ.startsAt > now) return { open: false, opensAt: occ.startsAt };
  return { open: true, endsAt: occ.endsAt };
}

/** Whether the policy reboots after this deploy job. */
export function rebootNeeded(
  reboot: RolloutSettings['reboot'],
  results: readonly PatchResult[],
): boolean {
  return (
    reboot.mode === 'always' ||
    (reboot.mode === 'if_required' && results.some((r) => r.outcome === 'pending_reboot'))
  );
}

/** Whether the next prompt may let the user postpone: deferrals left, and not past the deadline. */
export function mayDefer(
  reboot: RolloutSettings['reboot'],
  prompts: number,
  deadline: number,
  now: number,
): boolean {
  return prompts < reboot.userDeferrals && now + reboot.deferralIntervalMs < deadline;
}

/**
 * What a rescan says of the planned patches: installed only when the RMM reports it
 * installed and not missing; neither installed nor missing means waiting for a reboot;
 * anything else failed, whatever the job reported.
 */
export function verdict(
  patchIds: readonly string[],
  scan: { installed: readonly string[]; missing: readonly string[] },
): { installed: string[]; pendingReboot: string[]; failed: string[] } {
  const installed = new Set(scan.installed);
  const missing = new Set(scan.missing);
  return {
    installed: patchIds.filter((p) => installed.has(p) && !missing.has(p)),
    pendingReboot: patchIds.filter((p) => !installed.has(p) && !missing.has(p)),
    failed: patchIds.filter((p) => missing.has(p)),
  };
}
