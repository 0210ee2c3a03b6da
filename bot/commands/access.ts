import {
  approverSettingsOf,
  isAuthorisedApprover,
  isViewer,
  type ApproverIdentity,
} from '../../domain/approvers.js';
import { effectivePolicy, type PolicyDocument } from '../../domain/policy/index.js';
import type { ApproverSettings } from '../../domain/rollout-settings.js';

/** Who is talking to a front door: (platform, workspace or tenant, user), never a display name. */
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

/**
 * Where a request was made. Whoever is in the conversation a client's cards are posted to sees
 * them there anyway, so that conversation may read that client; a direct message, App Home or
 * any other conversation reads only what the person may read.
 */
export interface ChatPlace {
  /** Whether this conversation is where the client's cards go. */
  showsClient(clientId: string): boolean;
}

/** A direct message, App Home, a modal without a channel: the person's own rights only. */
export const PRIVATE: ChatPlace = { showsClient: () => false };

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
  return approverSettingsOf(p.approvers);
}

export function mayDecide(
  policies: readonly PolicyDocument[],
  clientId: string,
  u: ChatUser,
): boolean {
  return isAuthorisedApprover(approversFor(policies, clientId), identity(u));
}

/** Viewers add up: the global policy's see every client, a client policy's see that client. */
export function isClientViewer(
  policies: readonly PolicyDocument[],
  clientId: string,
  u: ChatUser,
): boolean {
  const who = identity(u);
  return policies.some(
    (p) =>
      (p.scope.level === 'global' || (p.scope.level === 'client' && p.scope.id === clientId)) &&
      isViewer(p.viewers, who),
  );
}

/**
 * Whether this person, asking here, may see a client's rollouts, reports, details and cards:
 * its approvers and viewers anywhere, anyone in the conversation its cards are posted to.
 */
export function mayRead(
  policies: readonly PolicyDocument[],
  clientId: string,
  u: ChatUser,
  place: ChatPlace,
): boolean {
  return (
    place.showsClient(clientId) ||
    mayDecide(policies, clientId, u) ||
    isClientViewer(policies, clientId, u)
  );
}

/** The clients of these this person may read, asking here. */
export function readableClients(
  policies: readonly PolicyDocument[],
  clientIds: readonly string[],
  u: ChatUser,
  place: ChatPlace,
): string[] {
  return clientIds.filter((c) => mayRead(policies, c, u, place));
}

/** Clients whose policies name this user as an approver (plus the global policy's reach). */
export function clientsFor(
  policies: readonly PolicyDocument[],
  clientIds: readonly string[],
  u: ChatUser,
): string[] {
  return clientIds.filter((c) => mayDecide(policies, c, u));
}

/** Every Slack user group any policy names (approvers and viewers): the front door resolves only these. */
export function policyUsergroups(policies: readonly PolicyDocument[]): string[] {
  return [
    ...new Set(
      policies.flatMap((p) => [
        ...(p.approvers?.slack?.usergroups ?? []),
        ...(p.viewers?.slack?.usergroups ?? []),
      ]),
    ),
  ];
}

/**
 * A Slack conversation as a place: the channel the front door posts a client's cards to (its
 * own entry in the client → channel map, else the "*" one). DMs (D…) show no client.
 */
export function slackPlace(
  channels: Readonly<Record<string, string>>,
  channelId: string | undefined,
): ChatPlace {
  if (!channelId || channelId.startsWith('D')) return PRIVATE;
  return { showsClient: (c) => (channels[c] ?? channels['*']) === channelId };
}

/**
 * A Teams conversation as a place: cards go to every channel and group chat installed in the
 * tenant of the client's Teams approvers (bot/teams/notifier.ts targets), so those read the
 * client; personal chats show none.
 */
export function teamsPlace(
  policies: readonly PolicyDocument[],
  conversation: { conversationType?: string | undefined; tenantId?: string | undefined },
  cardConversationTypes: ReadonlySet<string>,
): ChatPlace {
  const { conversationType, tenantId } = conversation;
  if (!conversationType || !cardConversationTypes.has(conversationType) || !tenantId)
    return PRIVATE;
  return { showsClient: (c) => approversFor(policies, c).teams.tenantId === tenantId };
}
