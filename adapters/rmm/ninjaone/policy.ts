import type { NinjaOneApi } from './api.js';

/** What patchops can learn about NinjaOne's own patch policy, for `patchops doctor`. */
export interface PatchPolicyCheck {
  /** `warn`: something will get in patchops' way; `unknown`: the API cannot tell. */
  status: 'ok' | 'warn' | 'unknown';
  detail: string;
}

const SAMPLE = 200;

/**
 * NinjaOne's public API v2 does not expose a policy's patch-management settings (approval
 * mode, install schedule, reboot behaviour), so whether NinjaOne would install on its own
 * cannot be read. What can be seen is the approval state of pending patches:
 *
 * - only MANUAL (none APPROVED): NinjaOne's approval is manual, and its apply endpoint
 *   installs approved patches only, so a patchops deploy would install nothing → warn.
 * - APPROVED present: NinjaOne approves by itself, which patchops needs; whether an install
 *   schedule is also on cannot be seen → unknown, with the settings to check.
 */
export async function checkPatchPolicy(api: NinjaOneApi): Promise<PatchPolicyCheck> {
  const rows = await api.samplePatches(SAMPLE);
  const count = (s: string) => rows.filter((r) => r.status.toUpperCase() === s).length;
  const approved = count('APPROVED');
  const manual = count('MANUAL');
  const schedule =
    'NinjaOne’s API cannot show whether its policy also installs on a schedule: in every policy patchops manages, set OS Patch Management and Software Patch Management to no automatic install schedule and reboot "Never"';
  if (rows.length === 0) {
    return { status: 'unknown', detail: `No pending patches reported yet. ${schedule}.` };
  }
  if (approved === 0 && manual > 0) {
    return {
      status: 'warn',
      detail: `All ${manual} sampled pending patches wait for manual approval in NinjaOne; NinjaOne's apply installs approved patches only, so patchops deploys would install nothing. Set the policies' approval to automatic (patchops is the approval authority) and mirror patchops' blocklist as NinjaOne rejections. ${schedule}.`,
    };
  }
  return {
    status: 'unknown',
    detail: `${approved} of ${rows.length} sampled pending patches are approved in NinjaOne. ${schedule}.`,
  };
}
