import type { Approvers, Viewers } from './policy/schema.js';
import type { ApproverSettings } from './rollout-settings.js';

/** Who acts: (platform, workspace or tenant, user). Names never count, only these ids. */
export interface ApproverIdentity {
  id: string;
  via: 'cli' | 'slack' | 'teams';
  /** Slack workspace (team) id or Entra ID tenant id; the CLI has none. */
  tenant?: string | undefined;
  groups?: string[] | undefined;
}

/** The workflow-facing approver settings of a policy's approvers section. */
export function approverSettingsOf(a: Approvers | undefined): ApproverSettings {
  return {
    cli: a?.cli ?? [],
    slack: {
      teamId: a?.slack?.teamId ?? null,
      users: a?.slack?.users ?? [],
      usergroups: a?.slack?.usergroups ?? [],
    },
    teams: { tenantId: a?.teams?.tenantId ?? null, users: a?.teams?.users ?? [] },
  };
}

/**
 * Whether this person may decide for the client whose approvers are given. Slack counts user
 * ids and user-group membership in the configured workspace; Teams needs the configured tenant
 * and an AAD id. An id from another workspace or tenant is another person, even when equal.
 */
export function isAuthorisedApprover(approvers: ApproverSettings, who: ApproverIdentity): boolean {
  switch (who.via) {
    case 'cli':
      return approvers.cli.includes(who.id);
    case 'slack':
      return inSlack(approvers.slack, who);
    case 'teams':
      return inTeams(approvers.teams, who);
  }
}

/** Whether this person is one of a policy's viewers (never the CLI: it has no viewers). */
export function isViewer(viewers: Viewers | undefined, who: ApproverIdentity): boolean {
  if (!viewers) return false;
  if (who.via === 'slack')
    return viewers.slack
      ? inSlack(
          {
            teamId: viewers.slack.teamId,
            users: viewers.slack.users ?? [],
            usergroups: viewers.slack.usergroups ?? [],
          },
          who,
        )
      : false;
  if (who.via === 'teams') return viewers.teams ? inTeams(viewers.teams, who) : false;
  return false;
}

function inSlack(slack: ApproverSettings['slack'], who: ApproverIdentity): boolean {
  // No workspace, no Slack approver: settings planned before workspaces were recorded (no
  // teamId at all) authorise no Slack user either; re-plan, or decide from the CLI or Teams.
  if (!slack.teamId || who.tenant !== slack.teamId) return false;
  return (
    slack.users.includes(who.id) || (who.groups ?? []).some((g) => slack.usergroups.includes(g))
  );
}

function inTeams(teams: { tenantId: string | null; users: string[] }, who: ApproverIdentity) {
  return teams.tenantId !== null && who.tenant === teams.tenantId && teams.users.includes(who.id);
}
