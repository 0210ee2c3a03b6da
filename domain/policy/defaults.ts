import { DEFAULT_SLA_MS } from '../risk.js';
import type { ResolvedPolicy } from './schema.js';

/**
 * The built-in global policy. Any section the global policy file leaves out comes from
 * here, so a cascade always resolves to a complete policy. policies/global.yaml spells
 * the same values out with comments (a unit test keeps the two equal).
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// Frozen because every cascade without a global file shares this one object.
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

export const DEFAULT_GLOBAL_POLICY: ResolvedPolicy = deepFreeze({
  scope: { level: 'global', id: 'global' },
  approval: {
    // A human looks at anything no rule covers.
    default: 'needs_approval',
    rules: [
      // Explicit so that a nearer level's `default: auto` does not wave critical
      // security patches through; only a nearer matching rule can.
      { categories: ['security'], severities: ['critical'], action: 'needs_approval' },
      // AV / Defender definitions are released several times a day and are low risk.
      { categories: ['definition'], action: 'auto' },
      // Feature packs (OS upgrades) wait a month for the early-adopter bugs to surface.
      { categories: ['feature_pack'], action: { defer: 30 * DAY } },
    ],
  },
  blocklist: [],
  rings: [
    {
      name: 'pilot',
      members: { percent: 10 },
      soak: 2 * HOUR,
      successThreshold: 0.95,
      promotion: 'auto',
      concurrency: 25,
    },
    {
      name: 'broad',
      members: { percent: 90 },
      soak: 0,
      successThreshold: 0.95,
      promotion: 'auto',
      concurrency: 25,
    },
  ],
  windows: [
    {
      name: 'weeknights',
      rule: { weekly: { days: ['mon', 'tue', 'wed', 'thu', 'fri'] } },
      start: '02:00',
      duration: 4 * HOUR,
      timezone: 'device',
    },
  ],
  reboot: { mode: 'if_required', userDeferrals: 2, deferralInterval: HOUR, deadline: DAY },
  circuitBreaker: { maxFailureRate: 0.2, minSamples: 5 },
  // A failed install is reported, not undone, unless a policy asks for it.
  rollback: { onFailure: 'none' },
  // Nobody is an approver until a policy names them: approval rights are never implied.
  approvers: {},
  approvalTimeout: { after: 2 * DAY, remindEvery: 12 * HOUR, outcome: 'reject' },
  emergency: { approvals: 1, approvalTimeout: 4 * HOUR, soak: 30 * MINUTE, bypassWindows: false },
  // Tickets go where the ITSM's own settings say; no incident unless a policy asks.
  tickets: { incidentOnFailure: false },
  // CISA BOD 26-04's remediation timelines; "fix on system upgrade" gets 90 days.
  sla: { ...DEFAULT_SLA_MS },
});
