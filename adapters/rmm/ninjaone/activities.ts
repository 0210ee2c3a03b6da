import { createHash } from 'node:crypto';
import type { PatchFamily } from './ids.js';
import type { WireActivity } from './wire.js';

/**
 * Reading NinjaOne's device activity log. The scan/apply/reboot endpoints answer 204 with no
 * job id, so the log is the only record of what they started and how it ended. Status codes
 * are NinjaOne's (PATCH_MANAGEMENT_APPLY_PATCH_STARTED, …_COMPLETED, …_SCAN_COMPLETED,
 * SOFTWARE_PATCH_MANAGEMENT_…, SYSTEM_REBOOTED) as public reporting tools filter on them;
 * `activityResult` carries the verdict (a COMPLETED activity can be a FAILURE).
 */

const PREFIX: Record<PatchFamily, string> = {
  os: 'PATCH_MANAGEMENT',
  sw: 'SOFTWARE_PATCH_MANAGEMENT',
};

/** Clock skew allowed between patchops and NinjaOne when comparing times, in seconds. */
export const SKEW_S = 5;

const is = (a: WireActivity, code: string) => a.statusCode === code;

export const applyStarted = (a: WireActivity, f: PatchFamily) =>
  is(a, `${PREFIX[f]}_APPLY_PATCH_STARTED`);
export const applyCompleted = (a: WireActivity, f: PatchFamily) =>
  is(a, `${PREFIX[f]}_APPLY_PATCH_COMPLETED`);
export const scanCompleted = (a: WireActivity, f: PatchFamily) =>
  is(a, `${PREFIX[f]}_SCAN_COMPLETED`);
export const installFailed = (a: WireActivity, f: PatchFamily) =>
  is(a, `${PREFIX[f]}_INSTALL_FAILED`);
export const rebooted = (a: WireActivity) => is(a, 'SYSTEM_REBOOTED');

/**
 * NinjaOne keeps no idempotency key, but it records the reason given with a reboot request.
 * patchops writes a digest of its key into that reason, so a retried reboot can find its
 * own earlier request in the log instead of rebooting the device twice.
 */
export function rebootMarker(idempotencyKey: string): string {
  return `patchops-${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 16)}`;
}

export const mentions = (a: WireActivity, text: string) =>
  !!(a.message?.includes(text) || a.subject?.includes(text) || a.status?.includes(text));

/** NinjaOne's words for why one patch failed, from its INSTALL_FAILED activity if any. */
export function failureText(
  activities: readonly WireActivity[],
  family: PatchFamily,
  vendorRef: string,
): string | undefined {
  const hit = activities.find((a) => installFailed(a, family) && mentions(a, vendorRef));
  return hit?.message ?? hit?.status;
}
