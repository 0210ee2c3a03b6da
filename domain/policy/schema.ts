import { z } from 'zod';
import { durationSchema } from '../duration.js';
import { patchCategorySchema, severitySchema } from '../model.js';
import { ringsSchema, windowsSchema } from './rollout-schema.js';
import { RISK_TIERS, type RiskTier } from '../risk.js';

const riskTierSchema = z.enum(RISK_TIERS);

/**
 * One policy document as an operator writes it in YAML. Every object is strict so a typo
 * fails loudly instead of silently leaving a default in place. Durations come out as
 * milliseconds. Pure zod: workflows import this through the cascade.
 */

const name = z.string().min(1);

export const policyLevelSchema = z.enum(['global', 'client', 'site', 'group']);
export type PolicyLevel = z.infer<typeof policyLevelSchema>;

/** Where a policy applies. The global policy's id is optional and defaults to "global". */
export interface PolicyScope {
  /** global, client, site or group (a device tag). */
  level: PolicyLevel;
  /** Client id, site id or device tag; "global" (or any name you give it) for the global policy. */
  id: string;
}

export const policyScopeSchema = z
  .object({ level: policyLevelSchema, id: name.optional() })
  .strict()
  .transform((scope, ctx): PolicyScope => {
    if (scope.level === 'global') return { level: 'global', id: scope.id ?? 'global' };
    if (scope.id !== undefined) return { level: scope.level, id: scope.id };
    const what = scope.level === 'group' ? 'the device tag' : `the ${scope.level} id`;
    ctx.addIssue({
      code: 'custom',
      path: ['id'],
      message: `a ${scope.level} policy needs ${what}`,
    });
    return z.NEVER;
  });

// ---- approval matrix -------------------------------------------------------------------

export const approvalActionSchema = z.union(
  [z.enum(['auto', 'needs_approval', 'reject']), z.object({ defer: durationSchema }).strict()],
  { message: 'expected auto, needs_approval, reject or { defer: "7d" }' },
);
export type ApprovalAction = z.output<typeof approvalActionSchema>;

export const approvalRuleSchema = z
  .object({
    // An empty list would match nothing, which is never what the writer meant.
    categories: z.array(patchCategorySchema).min(1).optional(),
    severities: z.array(severitySchema).min(1).optional(),
    kev: z.boolean().optional(),
    /** Risk tiers (BOD 26-04 timelines) the rule applies to, e.g. [forensic, act]. */
    tiers: z.array(riskTierSchema).min(1).optional(),
    /** Ring names the rule applies to; a later ring that needs approval waits for promotion. */
    rings: z.array(name).min(1).optional(),
    action: approvalActionSchema,
  })
  .strict();
export type ApprovalRule = z.output<typeof approvalRuleSchema>;

// ---- SLA -------------------------------------------------------------------------------

/** Days (any duration) to remediate per risk tier; a tier left out keeps the nearer level's. */
export const slaSchema = z
  .object({
    forensic: durationSchema.optional(),
    act: durationSchema.optional(),
    attend: durationSchema.optional(),
    track: durationSchema.optional(),
    upgrade: durationSchema.optional(),
  } satisfies Record<RiskTier, unknown>)
  .strict();
export type SlaSection = z.output<typeof slaSchema>;

export const approvalSchema = z
  .object({
    // Optional below global: a level without its own default falls through to the next.
    default: approvalActionSchema.optional(),
    rules: z.array(approvalRuleSchema).default([]),
  })
  .strict();
export type ApprovalPolicy = z.output<typeof approvalSchema>;

export const blocklistSchema = z.array(z.string().trim().min(1));

// ---- reboot, circuit breaker, approvers, timeouts, emergency ---------------------------

export const rebootSchema = z
  .object({
    mode: z.enum(['never', 'if_required', 'always']).default('if_required'),
    userDeferrals: z.number().int().min(0).default(0),
    // prefault, not default: the default must go through the duration transform too.
    deferralInterval: durationSchema.prefault('1h'),
    /** Time after install by which a reboot is forced, whatever the user deferred. */
    deadline: durationSchema.prefault('24h'),
  })
  .strict();
export type RebootPolicy = z.output<typeof rebootSchema>;

export const circuitBreakerSchema = z
  .object({
    maxFailureRate: z.number().min(0).max(1).default(0.2),
    minSamples: z.number().int().min(1).default(5),
  })
  .strict();
export type CircuitBreakerPolicy = z.output<typeof circuitBreakerSchema>;

/**
 * What to do on a device where some patch of the deployment failed. `uninstall` removes
 * what this deployment did install there, where the vendor allows it, so the device is
 * left as it was before the rollout rather than half-patched.
 */
export const rollbackSchema = z
  .object({
    onFailure: z.enum(['none', 'uninstall'], {
      message: 'expected "none" (keep what installed) or "uninstall" (roll the device back)',
    }),
  })
  .strict();
export type RollbackPolicy = z.output<typeof rollbackSchema>;

// Approvals are authorised by comparing these ids with the clicker's, so display names
// or e-mail addresses would silently never match; reject them here instead.
const slackUser = z.string().regex(/^[UW][A-Z0-9]{2,}$/, {
  message: 'expected a Slack member id like "U024BE7LH" (profile → ⋮ → Copy member ID)',
});
const slackUsergroup = z.string().regex(/^S[A-Z0-9]{2,}$/, {
  message: 'expected a Slack user group id like "SAZ94GDB8"',
});
const guid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, {
  message: 'expected a GUID like "72f988bf-86f1-41af-91ab-2d7cd011db47"',
});

// A Slack id means something only inside its workspace: the same U… from another workspace is
// someone else, so every list of Slack people names the workspace it belongs to.
const notATeam = 'expected a Slack workspace (team) id like "T0123ABCD"';
const slackTeamId = z.string({ message: notATeam }).regex(/^T[A-Z0-9]{2,}$/, notATeam);

/** Slack people of one workspace: member ids and user-group ids of that workspace. */
const slackPeopleSchema = z
  .object({
    teamId: slackTeamId.optional(),
    users: z.array(slackUser).optional(),
    usergroups: z.array(slackUsergroup).optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    // A refinement, not a required key, so the message can say where to find the id.
    if (s.teamId === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['teamId'],
        message:
          'required: the Slack workspace (team) id these users and groups belong to, like "T0123ABCD" (the T… in app.slack.com/client/T…, or team_id from auth.test)',
      });
  })
  .transform((s) => ({ ...s, teamId: s.teamId! }));

/** Teams people of one tenant: users are Entra ID (AAD) object ids (Teams sends from.aadObjectId). */
const teamsPeopleSchema = z.object({ tenantId: guid, users: z.array(guid) }).strict();

export const approversSchema = z
  .object({
    slack: slackPeopleSchema.optional(),
    teams: teamsPeopleSchema.optional(),
    /** Local user names allowed to run `patchops approve`. */
    cli: z.array(name).optional(),
  })
  .strict();
export type Approvers = z.output<typeof approversSchema>;

/**
 * Who may read a client's rollouts, reports and cards in chat without deciding anything.
 * Approvers and the client's own card channel read anyway. Viewers of the global policy and
 * of the client's policy both count (they add up; approvers instead are the nearest level's).
 * No CLI list: whoever runs the CLI holds the database and Temporal credentials already.
 */
export const viewersSchema = z
  .object({ slack: slackPeopleSchema.optional(), teams: teamsPeopleSchema.optional() })
  .strict();
export type Viewers = z.output<typeof viewersSchema>;

export const approvalTimeoutSchema = z
  .object({
    after: durationSchema,
    remindEvery: durationSchema.refine((ms) => ms > 0, { message: 'must be longer than 0s' }),
    escalateAfter: durationSchema.optional(),
    escalateTo: z.array(name).min(1).optional(),
    outcome: z.enum(['reject', 'approve', 'defer']),
  })
  .strict()
  .superRefine(
    (t: unknown, ctx) => {
      // Runs despite errors elsewhere in the section (`when`), so fields are re-checked.
      if (typeof t !== 'object' || t === null) return;
      const { after, escalateAfter, escalateTo } = t as Record<string, unknown>;
      if ((escalateAfter === undefined) !== (escalateTo === undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: [escalateAfter === undefined ? 'escalateAfter' : 'escalateTo'],
          message: 'escalateAfter and escalateTo go together; set both or neither',
        });
      }
      if (
        typeof escalateAfter === 'number' &&
        typeof after === 'number' &&
        escalateAfter >= after
      ) {
        ctx.addIssue({
          code: 'custom',
          path: ['escalateAfter'],
          message: 'must be shorter than "after", or the request times out before it escalates',
        });
      }
    },
    { when: () => true },
  );
export type ApprovalTimeoutPolicy = z.output<typeof approvalTimeoutSchema>;

/**
 * An emergency rollout (one CVE: `patchops emergency`, `/patch emergency`, or a CVE newly
 * listed in CISA KEV on managed devices): how many different people approve it (0 starts
 * it at once), how long they have, one soak for every ring, and whether maintenance windows
 * are waited for (each policy level may allow bypassing them for its devices).
 */
export const emergencySchema = z
  .object({
    approvals: z
      .number()
      .int()
      .min(0)
      .max(2, { message: 'at most 2 approvers (two different people) for an emergency' })
      .default(1),
    approvalTimeout: durationSchema.optional(),
    soak: durationSchema.optional(),
    bypassWindows: z.boolean().default(false),
  })
  .strict();
export type EmergencyPolicy = z.output<typeof emergencySchema>;

/**
 * How the client's tickets are kept: where they go in the configured ITSM (each adapter
 * reads the fields it understands) and whether a halted rollout raises an incident.
 */
const ticketLabel = z.string().regex(/^[^\s,]{1,50}$/, {
  message: 'a label has no spaces or commas (≤ 50 characters)',
});

export const ticketsSchema = z
  .object({
    incidentOnFailure: z.boolean().default(false),
    /** ServiceNow assignment group (name or sys_id). */
    assignmentGroup: z.string().trim().min(1).max(200).optional(),
    /** Jira project key. */
    project: z
      .string()
      .regex(/^[A-Z][A-Z0-9_]{1,49}$/, { message: 'expected a Jira project key like "OPS"' })
      .optional(),
    /** GitHub repository. */
    repo: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,100}\/[A-Za-z0-9_.-]{1,100}$/, {
        message: 'expected a GitHub repository as "owner/name"',
      })
      .optional(),
    labels: z.array(ticketLabel).max(20).optional(),
  })
  .strict();
export type TicketsPolicy = z.output<typeof ticketsSchema>;

// ---- the document ----------------------------------------------------------------------

export const policySchema = z
  .object({
    scope: policyScopeSchema,
    approval: approvalSchema.optional(),
    blocklist: blocklistSchema.optional(),
    rings: ringsSchema.optional(),
    windows: windowsSchema.optional(),
    reboot: rebootSchema.optional(),
    circuitBreaker: circuitBreakerSchema.optional(),
    rollback: rollbackSchema.optional(),
    approvers: approversSchema.optional(),
    viewers: viewersSchema.optional(),
    approvalTimeout: approvalTimeoutSchema.optional(),
    emergency: emergencySchema.optional(),
    tickets: ticketsSchema.optional(),
    sla: slaSchema.optional(),
  })
  .strict();

/** A parsed policy file: a scope plus the sections it overrides. */
export type PolicyDocument = z.output<typeof policySchema>;
export type PolicyInput = z.input<typeof policySchema>;
export type PolicySection = Exclude<keyof PolicyDocument, 'scope'>;

// A Record, so that adding a section to the schema without listing it here fails to compile.
const SECTIONS: Record<PolicySection, true> = {
  approval: true,
  blocklist: true,
  rings: true,
  windows: true,
  reboot: true,
  circuitBreaker: true,
  rollback: true,
  approvers: true,
  viewers: true,
  approvalTimeout: true,
  emergency: true,
  tickets: true,
  sla: true,
};
/** Every overridable section, in document order. */
export const POLICY_SECTIONS = Object.keys(SECTIONS) as PolicySection[];

/** A policy with every section present: the global policy after defaults, or a cascade result. */
export type ResolvedPolicy = { scope: PolicyScope } & {
  [K in Exclude<PolicySection, AdditiveSection>]-?: NonNullable<PolicyDocument[K]>;
} & { approval: { default: ApprovalAction } };

/**
 * Sections that add up over the chain instead of the nearest level winning; whoever needs
 * them reads the policies themselves (viewers: bot/commands/access.ts), so the cascade
 * result does not carry them.
 */
export type AdditiveSection = 'viewers';
