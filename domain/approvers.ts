import type { ApproverSettings } from './rollout-settings.js';

export interface ApproverIdentity {
  id: string;
  via: 'cli' | 'slack' | 'teams';
  tenant?: string | undefined;
  groups?: string[] | undefined;
}

/**
 * Whether this person may decide for the client whose approvers are given. Slack counts
 * user ids and user-group membership; Teams needs the configured tenant and an AAD id.
 */
export function isAuthorisedApprover(approvers: ApproverSettings, who: ApproverIdentity): boolean {
  switch (who.via) {
    case 'cli':
      return approvers.cli.includes(who.id);
    case 'slack':
      return (
        approvers.slack.users.includes(who.id) ||
        (who.groups ?? []).some((g) => approvers.slack.usergroups.includes(g))
      );
    case 'teams':
      return (
        approvers.teams.tenantId !== null &&
        who.tenant === approvers.teams.tenantId &&
        approvers.teams.users.includes(who.id)
      );
  }
}
