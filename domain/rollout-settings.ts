import type { EmergencyRequest } from './emergency.js';
import type { Weekday, WindowRule } from './windows.js';

/**
 * What a rollout workflow needs to know of its effective policy, resolved by the planning
 * activity: small, plain data, so it fits in workflow input and history.
 */

export interface RingSettings {
  name: string;
  soakMs: number;
  /** Share of a ring's devices that must succeed before the next ring starts (0..1). */
  successThreshold: number;
  promotion: 'auto' | 'manual';
  /** Device rollouts running at once in this ring. */
  concurrency: number;
}

export interface ApproverSettings {
  cli: string[];
  slack: {
    /**
     * The workspace the users and groups belong to. Null or absent (settings planned before
     * workspaces were recorded): no Slack user approves.
     */
    teamId?: string | null;
    users: string[];
    usergroups: string[];
  };
  teams: { tenantId: string | null; users: string[] };
}

export interface WindowSettings {
  name: string;
  rule: WindowRule;
  start: string;
  durationMs: number;
  /** 'device' and 'site' are resolved per device by the device rollout. */
  timezone: string;
}

export interface RolloutSettings {
  rings: RingSettings[];
  approvers: ApproverSettings;
  approvalTimeout: {
    afterMs: number;
    remindEveryMs: number;
    escalateAfterMs: number | null;
    escalateTo: string[];
    outcome: 'approve' | 'reject' | 'defer';
  };
  reboot: {
    mode: 'never' | 'if_required' | 'always';
    userDeferrals: number;
    deferralIntervalMs: number;
    deadlineMs: number;
  };
  circuitBreaker: { maxFailureRate: number; minSamples: number };
  windows: WindowSettings[];
  bypassWindows: boolean;
  /** How often a device rollout polls an RMM job. */
  jobPollMs: number;
  /** Windows an offline device is retried in before it is skipped. */
  offlineRetries: number;
  /** Without maintenance windows, how long to wait before retrying an offline device. */
  offlineRetryMs: number;
  uninstallOnFailure: boolean;
  /** Where the client's tickets go; absent in rollouts planned before tickets followed them. */
  tickets?: TicketSettings;
  /** Approvals from different people the rollout needs (absent: one). */
  requiredApprovals?: number;
  /** Set on an emergency rollout: the CVE and who asked (domain/emergency.ts). */
  emergency?: EmergencyRequest;
}

export interface TicketSettings {
  incidentOnFailure: boolean;
  routing: { assignmentGroup?: string; project?: string; repo?: string; labels?: string[] };
}

/**
 * The settings a device's own policy chain (client → site → groups) may set differently
 * from the rollout's client-level settings; only the differing ones are present.
 */
export type DeviceOverrides = Partial<
  Pick<RolloutSettings, 'windows' | 'bypassWindows' | 'reboot' | 'uninstallOnFailure'>
>;

export type { Weekday, WindowRule };
