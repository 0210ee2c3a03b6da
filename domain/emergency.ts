import { z } from 'zod';
import type { EmergencyPolicy } from './policy/schema.js';
import type { RolloutSettings } from './rollout-settings.js';

/**
 * The emergency path: a rollout of only the devices and patches one CVE needs, started by a
 * technician (`patchops emergency`, `/patch emergency`) or by the daily KEV refresh finding
 * a newly listed CVE on managed devices. The policy's `emergency` block makes it faster:
 * approvals from different people (0, 1 or 2), its own approval timeout, one soak for every
 * ring and no waiting for promotion, and — only where a policy level allows — no waiting
 * for maintenance windows. Pure: the workflow and the planner both use it.
 */

export const cveIdSchema = z
  .string()
  .trim()
  .max(32, { message: 'a CVE id is at most 32 characters' })
  .transform((s) => s.toUpperCase())
  .pipe(
    z.string().regex(/^CVE-\d{4}-\d{4,19}$/, { message: 'expected a CVE id like CVE-2026-12345' }),
  );

/** Who or what asked for an emergency rollout. */
export type EmergencySource = 'cli' | 'slack' | 'teams' | 'kev';

/** What an emergency rollout carries in its workflow input and settings. */
export interface EmergencyRequest {
  cve: string;
  source: EmergencySource;
  /** e.g. "cli:alice", "slack:T0…:U0…", "kev-refresh". */
  requestedBy: string;
  reason?: string;
}

/**
 * One emergency rollout per client and CVE: the workflow id makes a second request (a
 * technician after the KEV refresh, a repeated click) find the first instead of starting again.
 */
export const emergencyRolloutId = (clientId: string, cve: string): string =>
  `emergency-${clientId}-${cve.toLowerCase()}`;

/**
 * The rollout settings an emergency runs with: the client's settings with the policy's
 * emergency block applied. `bypassWindows` here is the client level's; device chains that
 * allow it differently get a device override (see `emergencyOverride`).
 */
export function applyEmergency(
  settings: RolloutSettings,
  policy: EmergencyPolicy,
  request: EmergencyRequest,
): RolloutSettings {
  return {
    ...settings,
    rings: settings.rings.map((r) => ({
      ...r,
      soakMs: policy.soak ?? r.soakMs,
      promotion: 'auto',
    })),
    approvalTimeout: {
      ...settings.approvalTimeout,
      afterMs: policy.approvalTimeout ?? settings.approvalTimeout.afterMs,
      // Escalation and reminders keep their shape, but never after the (shorter) timeout.
      remindEveryMs: Math.min(
        settings.approvalTimeout.remindEveryMs,
        policy.approvalTimeout ?? settings.approvalTimeout.remindEveryMs,
      ),
      escalateAfterMs:
        settings.approvalTimeout.escalateAfterMs !== null &&
        policy.approvalTimeout !== undefined &&
        settings.approvalTimeout.escalateAfterMs >= policy.approvalTimeout
          ? null
          : settings.approvalTimeout.escalateAfterMs,
      // An emergency that nobody answers is not approved by default.
      outcome:
        settings.approvalTimeout.outcome === 'approve'
          ? 'reject'
          : settings.approvalTimeout.outcome,
    },
    bypassWindows: policy.bypassWindows,
    requiredApprovals: policy.approvals,
    emergency: request,
  };
}

/** Approvals still needed, counting each person once (platform, workspace and id). */
export function approvalsMissing(required: number, approvers: readonly string[]): number {
  return Math.max(0, required - new Set(approvers).size);
}

/** An approval decision as planning records it (domain/policy: decideApproval's shape). */
export interface PlannedDecision {
  action: 'auto' | 'needs_approval' | 'reject' | 'defer';
  reason: string;
  decidedBy: string;
}

/**
 * What an emergency does with one patch that fixes its CVE: a blocklist or reject rule still
 * holds (someone decided that patch must not go out), deferrals do not; the rest waits for
 * the emergency approvals, or goes at once when the policy asks for none.
 */
export function emergencyDecision(
  normal: PlannedDecision,
  requiredApprovals: number,
  cve: string,
): PlannedDecision {
  if (normal.action === 'reject') return normal;
  return {
    action: requiredApprovals > 0 ? 'needs_approval' : 'auto',
    reason: `emergency for ${cve}: ${requiredApprovals > 0 ? `${requiredApprovals} approval(s) from different people` : 'no approval asked (emergency.approvals: 0)'}`,
    decidedBy: 'emergency',
  };
}
