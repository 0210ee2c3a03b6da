import type { Patch } from '../model.js';
import type { RiskTier } from '../risk.js';
import { blocklistMatch } from './blocklist.js';
import { DEFAULT_GLOBAL_POLICY } from './defaults.js';
import type {
  ApprovalAction,
  ApprovalRule,
  PolicyDocument,
  PolicyLevel,
  ResolvedPolicy,
} from './schema.js';

/**
 * Which policy applies to a device, and what it says about a patch. Levels cascade
 * global → client → site → group; the nearest level that sets a section wins, except the
 * blocklist, which accumulates so that no level can un-block what a farther one blocked.
 */

/** The device (or device class) a policy is resolved for. */
export interface PolicyTarget {
  /** The device's client id; matches `scope: { level: client, id }`. */
  clientId: string;
  /** The device's site id; matches `scope: { level: site, id }`. */
  siteId: string;
  /** The device's tags; each matches `scope: { level: group, id }`. */
  groups: readonly string[];
}

export interface EffectivePolicy {
  /** Every section resolved; `scope` is the nearest level that applied. */
  policy: ResolvedPolicy;
  /** The policies that apply, nearest first, ending with the global one (defaults filled in). */
  chain: PolicyDocument[];
}

export class PolicyCascadeError extends Error {
  constructor(
    readonly code: 'POLICY_DUPLICATE_SCOPE',
    message: string,
  ) {
    super(message);
  }
}

export const scopeLabel = (p: PolicyDocument): string => `${p.scope.level}:${p.scope.id}`;

/**
 * One problem per policy whose scope another file already claims; run when loading policy
 * files, since effectivePolicy refuses to guess which of two claimants wins.
 */
export function checkPolicySet(
  files: readonly { fileName: string; policy: PolicyDocument }[],
): string[] {
  const firstFile = new Map<string, string>();
  const problems: string[] = [];
  for (const { fileName, policy } of files) {
    // Only one global policy, whatever each calls itself.
    const key = policy.scope.level === 'global' ? 'global' : scopeLabel(policy);
    const earlier = firstFile.get(key);
    if (earlier === undefined) firstFile.set(key, fileName);
    else problems.push(`${fileName}: scope ${key} is already defined in ${earlier}`);
  }
  problems.push(...unknownRings(files));
  return problems;
}

/**
 * Approval rules naming a ring no policy defines: such a rule never matches, so a typo in
 * `rings: [broad]` on a needs_approval rule would quietly let broad go unasked.
 */
function unknownRings(files: readonly { fileName: string; policy: PolicyDocument }[]): string[] {
  const known = new Set(files.flatMap(({ policy }) => (policy.rings ?? []).map((r) => r.name)));
  const global = files.find(({ policy }) => policy.scope.level === 'global')?.policy;
  if (!global?.rings) DEFAULT_GLOBAL_POLICY.rings.forEach((r) => known.add(r.name));
  const problems: string[] = [];
  for (const { fileName, policy } of files)
    (policy.approval?.rules ?? []).forEach((rule, i) => {
      for (const ring of rule.rings ?? [])
        if (!known.has(ring))
          problems.push(
            `${fileName}: approval.rules[${i}].rings: ring "${ring}" is not defined by any policy's rings (known: ${[...known].join(', ')})`,
          );
    });
  return problems;
}

export function effectivePolicy(
  policies: readonly PolicyDocument[],
  target: PolicyTarget,
): EffectivePolicy {
  // Two files claiming one scope is a loading mistake checkPolicySet reports; guessing a
  // winner here would make approvals depend on file order.
  const claimant = (level: PolicyLevel, id?: string): PolicyDocument | undefined => {
    const found = policies.filter(
      (p) => p.scope.level === level && (level === 'global' || p.scope.id === id),
    );
    if (found.length > 1) {
      const scope = level === 'global' ? level : `${level}:${id}`;
      throw new PolicyCascadeError(
        'POLICY_DUPLICATE_SCOPE',
        `${found.length} policies claim scope ${scope}; keep one`,
      );
    }
    return found[0];
  };
  const global = withDefaults(claimant('global'));
  const client = claimant('client', target.clientId);
  const site = claimant('site', target.siteId);
  // A device can carry several tags. Alphabetical order, later wins, keeps the result
  // independent of the order an RMM happens to list tags in.
  const groups = [...new Set(target.groups)].sort().flatMap((tag) => claimant('group', tag) ?? []);
  const chain = [...groups.toReversed(), site, client, global].filter(
    (p): p is PolicyDocument => p !== undefined,
  );
  const nearest = <K extends keyof ResolvedPolicy>(key: K): ResolvedPolicy[K] =>
    (chain.find((p) => p[key] !== undefined)?.[key] ?? global[key]) as ResolvedPolicy[K];

  const approval = nearest('approval');
  const policy: ResolvedPolicy = {
    scope: nearest('scope'),
    approval: { ...approval, default: nearestDefault(chain) },
    blocklist: [...new Set(chain.toReversed().flatMap((p) => p.blocklist ?? []))],
    rings: nearest('rings'),
    windows: nearest('windows'),
    reboot: nearest('reboot'),
    circuitBreaker: nearest('circuitBreaker'),
    rollback: nearest('rollback'),
    approvers: nearest('approvers'),
    approvalTimeout: nearest('approvalTimeout'),
    emergency: nearest('emergency'),
    tickets: nearest('tickets'),
    // Per tier, nearest level first: a client that shortens one tier keeps the others.
    sla: Object.assign({}, ...chain.toReversed().map((p) => p.sla ?? {})) as ResolvedPolicy['sla'],
  };
  return { policy, chain };
}

/** The global policy file with every section it leaves out taken from the built-in one. */
function withDefaults(global: PolicyDocument | undefined): ResolvedPolicy {
  if (!global) return DEFAULT_GLOBAL_POLICY;
  const d = DEFAULT_GLOBAL_POLICY;
  return {
    scope: global.scope,
    approval: global.approval
      ? { ...global.approval, default: global.approval.default ?? d.approval.default }
      : d.approval,
    blocklist: global.blocklist ?? d.blocklist,
    rings: global.rings ?? d.rings,
    windows: global.windows ?? d.windows,
    reboot: global.reboot ?? d.reboot,
    circuitBreaker: global.circuitBreaker ?? d.circuitBreaker,
    rollback: global.rollback ?? d.rollback,
    approvers: global.approvers ?? d.approvers,
    approvalTimeout: global.approvalTimeout ?? d.approvalTimeout,
    emergency: global.emergency ?? d.emergency,
    tickets: global.tickets ?? d.tickets,
    sla: { ...d.sla, ...global.sla },
  };
}

function nearestDefault(chain: readonly PolicyDocument[]): ApprovalAction {
  for (const p of chain) if (p.approval?.default !== undefined) return p.approval.default;
  return DEFAULT_GLOBAL_POLICY.approval.default;
}

// ---- approval --------------------------------------------------------------------------

/** The patch fields approval rules and blocklists look at. */
export type ApprovalSubject = Pick<
  Patch,
  'id' | 'vendorRef' | 'product' | 'category' | 'vendorSeverity' | 'kev'
>;

/**
 * Where the patch is being decided: its risk tier on the device and the device's ring. A
 * rule with `tiers` or `rings` matches only when the context names one of them.
 */
export interface ApprovalContext {
  tier?: RiskTier | undefined;
  ring?: string | undefined;
}

export interface ApprovalDecision {
  /** What happens to the patch. */
  action: 'auto' | 'needs_approval' | 'reject' | 'defer';
  /** How long to wait before proposing it again; set only when action is defer. */
  deferMs?: number;
  /** Why, for the approval card and the audit trail. */
  reason: string;
  /** The level that decided, as "<level>:<id>", e.g. "client:acme". */
  decidedBy: string;
}

/**
 * A reject anywhere in the chain (blocklist or rule) wins, nearest first; otherwise the
 * nearest level with a matching rule decides; otherwise the nearest default. Within one
 * policy the first matching rule wins.
 */
export function decideApproval(
  effective: Pick<EffectivePolicy, 'chain'>,
  patch: ApprovalSubject,
  context: ApprovalContext = {},
): ApprovalDecision {
  const levels = effective.chain.map((policy) => ({
    by: scopeLabel(policy),
    blocked: blocklistMatch(policy.blocklist ?? [], patch),
    rule: firstMatchingRule(policy.approval?.rules ?? [], patch, context),
  }));
  for (const { by, blocked, rule } of levels) {
    if (blocked) {
      const reason = `blocklist pattern "${blocked.pattern}" matches ${blocked.field} "${blocked.value}"`;
      return { action: 'reject', reason, decidedBy: by };
    }
    if (rule?.rule.action === 'reject') return decision('reject', ruleReason(rule), by);
  }
  for (const { by, rule } of levels) {
    if (rule) return decision(rule.rule.action, ruleReason(rule), by);
  }
  const fallback = effective.chain.find((p) => p.approval?.default !== undefined);
  const action = fallback?.approval?.default ?? DEFAULT_GLOBAL_POLICY.approval.default;
  const by = fallback ? scopeLabel(fallback) : scopeLabel(DEFAULT_GLOBAL_POLICY);
  return decision(action, 'no approval rule matches; default', by);
}

/**
 * A `{ defer: N }` rule holds a patch back for N after its release, not for ever. Once that
 * has passed, the patch gets the chain's nearest default as if the rule were not there: a
 * client on `default: auto` gets it automatically (as Windows Update for Business deferrals
 * do), any other default means a human approves it. Still deferred, the reason says until
 * when. A patch without a release date stays deferred.
 */
export function deferralAt(
  effective: Pick<EffectivePolicy, 'chain'>,
  decided: ApprovalDecision,
  patch: Pick<Patch, 'releaseDate'>,
  now: number,
): ApprovalDecision {
  if (decided.action !== 'defer' || decided.deferMs === undefined || !patch.releaseDate)
    return decided;
  const until = Date.parse(`${patch.releaseDate}T00:00:00Z`) + decided.deferMs;
  const day = new Date(until).toISOString().slice(0, 10);
  if (until > now) return { ...decided, reason: `${decided.reason}; deferred until ${day}` };
  const fallback = nearestDefault(effective.chain);
  return {
    action: fallback === 'auto' ? 'auto' : 'needs_approval',
    reason: `${decided.reason}; deferral ended ${day}, default ${fallback === 'auto' ? 'auto' : 'needs approval'}`,
    decidedBy: decided.decidedBy,
  };
}

function decision(action: ApprovalAction, reason: string, decidedBy: string): ApprovalDecision {
  if (typeof action === 'string') return { action, reason, decidedBy };
  return { action: 'defer', deferMs: action.defer, reason, decidedBy };
}

interface RuleMatch {
  rule: ApprovalRule;
  index: number;
}

function firstMatchingRule(
  rules: readonly ApprovalRule[],
  patch: ApprovalSubject,
  context: ApprovalContext,
): RuleMatch | undefined {
  const index = rules.findIndex(
    (r) =>
      (r.categories === undefined || r.categories.includes(patch.category)) &&
      (r.severities === undefined || r.severities.includes(patch.vendorSeverity)) &&
      (r.kev === undefined || r.kev === patch.kev) &&
      (r.tiers === undefined || (context.tier !== undefined && r.tiers.includes(context.tier))) &&
      (r.rings === undefined || (context.ring !== undefined && r.rings.includes(context.ring))),
  );
  const rule = rules[index];
  return rule ? { rule, index } : undefined;
}

function ruleReason({ rule, index }: RuleMatch): string {
  const parts = [
    rule.categories && `category ${rule.categories.join('|')}`,
    rule.severities && `severity ${rule.severities.join('|')}`,
    rule.kev !== undefined && (rule.kev ? 'KEV-listed' : 'not KEV-listed'),
    rule.tiers && `tier ${rule.tiers.join('|')}`,
    rule.rings && `ring ${rule.rings.join('|')}`,
  ].filter(Boolean);
  return `approval rule ${index + 1} (${parts.length ? parts.join(', ') : 'any patch'})`;
}
