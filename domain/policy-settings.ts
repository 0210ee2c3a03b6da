import { approverSettingsOf } from './approvers.js';
import type { ResolvedPolicy } from './policy/index.js';
import type { DeviceOverrides, RolloutSettings, WindowRule } from './rollout-settings.js';

/**
 * From a resolved policy (the cascade's result) to the plain settings a rollout workflow
 * carries, and the per-device differences from the client's. Pure: planning calls these.
 */

/** The workflow-facing settings of a resolved policy (durations already in ms). */
export function toSettings(
  p: ResolvedPolicy,
  timing: { jobPollMs: number; offlineRetryMs: number },
): RolloutSettings {
  return {
    rings: p.rings.map((r) => ({
      name: r.name,
      soakMs: r.soak,
      successThreshold: r.successThreshold,
      promotion: r.promotion,
      concurrency: r.concurrency,
    })),
    approvers: approverSettingsOf(p.approvers),
    approvalTimeout: {
      afterMs: p.approvalTimeout.after,
      remindEveryMs: p.approvalTimeout.remindEvery,
      escalateAfterMs: p.approvalTimeout.escalateAfter ?? null,
      escalateTo: p.approvalTimeout.escalateTo ?? [],
      outcome: p.approvalTimeout.outcome,
    },
    reboot: {
      mode: p.reboot.mode,
      userDeferrals: p.reboot.userDeferrals,
      deferralIntervalMs: p.reboot.deferralInterval,
      deadlineMs: p.reboot.deadline,
    },
    circuitBreaker: {
      maxFailureRate: p.circuitBreaker.maxFailureRate,
      minSamples: p.circuitBreaker.minSamples,
    },
    windows: p.windows.map((w) => ({
      name: w.name,
      // The schema validated n as 1..5 | 'last'; its output type is wider.
      rule: w.rule as WindowRule,
      start: w.start,
      durationMs: w.duration,
      timezone: w.timezone,
    })),
    bypassWindows: false,
    jobPollMs: timing.jobPollMs,
    offlineRetries: 2,
    offlineRetryMs: timing.offlineRetryMs,
    uninstallOnFailure: p.rollback.onFailure === 'uninstall',
    tickets: {
      incidentOnFailure: p.tickets.incidentOnFailure,
      routing: {
        ...(p.tickets.assignmentGroup ? { assignmentGroup: p.tickets.assignmentGroup } : {}),
        ...(p.tickets.project ? { project: p.tickets.project } : {}),
        ...(p.tickets.repo ? { repo: p.tickets.repo } : {}),
        ...(p.tickets.labels ? { labels: p.tickets.labels } : {}),
      },
    },
  };
}

/**
 * The device-level settings (windows, reboot, rollback) where the device's own chain sets
 * them differently from the rollout's client-level settings; undefined when none differs.
 */
export function deviceOverrides(
  device: RolloutSettings,
  client: RolloutSettings,
): DeviceOverrides | undefined {
  const out: DeviceOverrides = {};
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  if (!same(device.windows, client.windows)) out.windows = device.windows;
  if (!same(device.reboot, client.reboot)) out.reboot = device.reboot;
  if (device.bypassWindows !== client.bypassWindows) out.bypassWindows = device.bypassWindows;
  if (device.uninstallOnFailure !== client.uninstallOnFailure)
    out.uninstallOnFailure = device.uninstallOnFailure;
  return Object.keys(out).length ? out : undefined;
}
