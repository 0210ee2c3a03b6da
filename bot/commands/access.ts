import { isAuthorisedApprover, type ApproverIdentity } from '../../domain/approvers.js';
import { effectivePolicy, type PolicyDocument } from '../../domain/policy/index.js';
import type { ApproverSettings } from '../../domain/rollout-settings.js';

/** Who is talking to a front door: the platform's ids, never a display name. */
export interface ChatUser {
  platform: 'slack' | 'teams';
  /** Slack user id (U…) or AAD object id. */
  id: string;
  /** Slack team id or AAD tenant id. */
  tenant?: string | undefined;
  /** Slack user groups this user belongs to (resolved by the front door, cached). */
  groups?: string[] | undefined;
  name?: string | undefined;
}

export const identity = (u: ChatUser): ApproverIdentity => ({
  id: u.id,
  via: u.platform,
  ...(u.tenant ? { tenant: u.tenant } : {}),
  ...(u.groups ? { groups: u.groups } : {}),
});

export const actorOf = (u: ChatUser): string => `${u.platform}:${u.id}`;

/** The client's approvers as the policy files say (a rollout's --policy override may differ; the workflow's validator decides). */
export function approversFor(
  policies: readonly PolicyDocument[],
  clientId: string,
): ApproverSettings {
  const p = effectivePolicy(policies, { clientId, siteId: '', groups: [] }).policy;
  return {
    cli: p.approvers.cli ?? [],
    slack: {
      users: p.approvers.slack?.users ?? [],
      usergroups: p.approvers.slack?.usergroups ?? [],
    },
    teams: { tenantId: p.approvers.teams?.tenantId ?? null, users: p.approvers.teams?.users ?? [] },
  };
}

export function mayDecide(
  policies: readonly PolicyDocument[],
  clientId: string,
  u: ChatUser,
): boolean {
  return isAuthorisedApprover(approversFor(policies, clientId), identity(u));
}

/** Clients whose policies name this user as an approver (plus the global policy's reach). */
export function clientsFor(
  policies: readonly PolicyDocument[],
  clientIds: readonly string[],
  u: ChatUser,
): string[] {
  return clientIds.filter((c) => mayDecide(policies, c, u));
}

/** Every Slack user group any policy names: the front door resolves only these. */
export function policyUsergroups(policies: readonly PolicyDocument[]): string[] {
  return [...new Set(policies.flatMap((p) => p.approvers?.slack?.usergroups ?? []))];
}
