import type { WireWinUpdatePolicy } from './wire.js';

/**
 * Tactical's Windows update ("patch") policy decides more than patchops wants it to:
 * `POST /winupdate/{agent}/install/` first runs Agent.approve_updates(), which sets every
 * not-installed update whose severity the effective policy marks "approve" to approved —
 * even one set to "ignore" — and then installs everything approved. A daily task does the
 * same approval, and check_agent_update_schedule_task installs approved updates at the
 * policy's own schedule. patchops can only guarantee that it installs exactly what was
 * approved when no severity auto-approves, so deploy refuses otherwise and doctor warns.
 */

/** The severities as Tactical stores them; "Other" is an update with an empty severity. */
export const POLICY_SEVERITIES = ['critical', 'important', 'moderate', 'low', 'other'] as const;
export type PolicySeverity = (typeof POLICY_SEVERITIES)[number];

/** The severity column of a Windows update row, as approve_updates() matches it. */
export const WIRE_SEVERITY: Record<PolicySeverity, string> = {
  critical: 'Critical',
  important: 'Important',
  moderate: 'Moderate',
  low: 'Low',
  other: '',
};

export interface PatchPolicyReview {
  /** Severities Tactical approves by itself; must be empty for patchops to deploy. */
  autoApproves: PolicySeverity[];
  /** Tactical reboots right after installing ("always"/"required"), outside patchops' reboot policy. */
  rebootsAfterInstall: boolean;
  /** Tactical installs approved updates on its own schedule ("daily"/"monthly"). */
  scheduledInstall: boolean;
  /** What to change, one line each, empty when the policy suits patchops. */
  problems: string[];
}

/** Judges one effective patch policy (the merge Tactical itself computes per agent). */
export function reviewPatchPolicy(p: WireWinUpdatePolicy): PatchPolicyReview {
  const autoApproves = POLICY_SEVERITIES.filter((s) => p[s] === 'approve');
  const rebootsAfterInstall =
    p.reboot_after_install === 'always' || p.reboot_after_install === 'required';
  const scheduledInstall = p.run_time_frequency === 'daily' || p.run_time_frequency === 'monthly';
  const problems: string[] = [];
  if (autoApproves.length) {
    problems.push(
      `auto-approves ${autoApproves.join(', ')} updates: set them to Manual, or Tactical installs updates patchops never approved (patchops refuses to deploy meanwhile)`,
    );
  }
  if (rebootsAfterInstall) {
    problems.push(
      `reboots after install ("${p.reboot_after_install}"): set "Reboot after installation" to Never so patchops' reboot policy and maintenance windows decide`,
    );
  }
  if (scheduledInstall) {
    problems.push(
      `installs approved updates on a ${p.run_time_frequency} schedule: turn the schedule off, or an update patchops approved and that failed is retried outside its maintenance window`,
    );
  }
  return { autoApproves, rebootsAfterInstall, scheduledInstall, problems };
}
