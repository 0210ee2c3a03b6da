import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { approverSettingsOf, isAuthorisedApprover, isViewer } from '../../../domain/approvers.js';
import type { ApproverSettings } from '../../../domain/rollout-settings.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const OTHER_TENANT = '0e1d2c3b-4a59-4687-9a6b-5c4d3e2f1a0b';
const ADA = 'c33aafc4-646d-4543-9d4c-abd28e4d2110';

const approvers: ApproverSettings = {
  cli: ['alice'],
  slack: { teamId: 'T0ACME', users: ['U0ADA'], usergroups: ['S0OPS'] },
  teams: { tenantId: TENANT, users: [ADA] },
};

const slack = (id: string, tenant?: string, groups?: string[]) => ({
  id,
  via: 'slack' as const,
  ...(tenant !== undefined ? { tenant } : {}),
  ...(groups ? { groups } : {}),
});

describe('isAuthorisedApprover', () => {
  it('Teams: the listed AAD id in the configured tenant', () => {
    assert.equal(isAuthorisedApprover(approvers, { id: ADA, via: 'teams', tenant: TENANT }), true);
    assert.equal(
      isAuthorisedApprover(approvers, { id: 'someone-else', via: 'teams', tenant: TENANT }),
      false,
    );
  });

  it("Teams: an approver's AAD id from another tenant is not the approver", () => {
    assert.equal(
      isAuthorisedApprover(approvers, { id: ADA, via: 'teams', tenant: OTHER_TENANT }),
      false,
    );
  });

  it('Teams: no tenant on the caller, or none configured, authorises nobody', () => {
    assert.equal(isAuthorisedApprover(approvers, { id: ADA, via: 'teams' }), false);
    assert.equal(isAuthorisedApprover(approvers, { id: ADA, via: 'teams', tenant: '' }), false);
    const noTenant = { ...approvers, teams: { tenantId: null, users: [ADA] } };
    assert.equal(isAuthorisedApprover(noTenant, { id: ADA, via: 'teams', tenant: TENANT }), false);
    assert.equal(isAuthorisedApprover(noTenant, { id: ADA, via: 'teams' }), false);
  });

  it('CLI: listed names only, exactly; a Teams or Slack id does not count there', () => {
    assert.equal(isAuthorisedApprover(approvers, { id: 'alice', via: 'cli' }), true);
    assert.equal(isAuthorisedApprover(approvers, { id: 'Alice', via: 'cli' }), false);
    assert.equal(isAuthorisedApprover(approvers, { id: 'mallory', via: 'cli' }), false);
    assert.equal(isAuthorisedApprover(approvers, { id: ADA, via: 'cli' }), false);
    assert.equal(isAuthorisedApprover(approvers, { id: 'U0ADA', via: 'cli' }), false);
  });

  it('a CLI name is not a Teams or Slack approver', () => {
    assert.equal(
      isAuthorisedApprover(approvers, { id: 'alice', via: 'teams', tenant: TENANT }),
      false,
    );
    assert.equal(
      isAuthorisedApprover(approvers, { id: 'alice', via: 'slack', tenant: 'T0ACME' }),
      false,
    );
  });

  it('Slack: listed users, or members of a listed user group, in the configured workspace', () => {
    assert.equal(isAuthorisedApprover(approvers, slack('U0ADA', 'T0ACME')), true);
    assert.equal(isAuthorisedApprover(approvers, slack('U0BOB', 'T0ACME', ['S0OPS'])), true);
    assert.equal(isAuthorisedApprover(approvers, slack('U0BOB', 'T0ACME', ['S0DEV'])), false);
  });

  it("Slack: an approver's member id sent from another workspace is not the approver", () => {
    assert.equal(isAuthorisedApprover(approvers, slack('U0ADA', 'T0EVIL')), false);
    assert.equal(isAuthorisedApprover(approvers, slack('U0BOB', 'T0EVIL', ['S0OPS'])), false);
    assert.equal(isAuthorisedApprover(approvers, slack('U0ADA')), false, 'no workspace at all');
    assert.equal(isAuthorisedApprover(approvers, slack('U0ADA', '')), false);
  });

  it('Slack: a policy that names no workspace authorises nobody', () => {
    const none = { ...approvers, slack: { teamId: null, users: ['U0ADA'], usergroups: [] } };
    assert.equal(isAuthorisedApprover(none, slack('U0ADA', 'T0ACME')), false);
  });

  it('Slack: settings planned before workspaces were recorded authorise no Slack user', () => {
    // Running rollouts' histories hold settings without the key: which workspace their ids
    // belong to is unknown, so none of them counts (the CLI and Teams still decide).
    const legacy = { ...approvers, slack: { users: ['U0ADA'], usergroups: [] } };
    assert.equal(isAuthorisedApprover(legacy, slack('U0ADA', 'T0ACME')), false);
    assert.equal(isAuthorisedApprover(legacy, slack('U0ADA')), false);
  });
});

describe('approverSettingsOf', () => {
  it('carries the workspace and tenant; absent lists are empty and absent ids null', () => {
    assert.deepEqual(
      approverSettingsOf({ slack: { teamId: 'T0ACME', users: ['U0ADA'] }, cli: ['alice'] }),
      {
        cli: ['alice'],
        slack: { teamId: 'T0ACME', users: ['U0ADA'], usergroups: [] },
        teams: { tenantId: null, users: [] },
      },
    );
    assert.deepEqual(approverSettingsOf(undefined), {
      cli: [],
      slack: { teamId: null, users: [], usergroups: [] },
      teams: { tenantId: null, users: [] },
    });
  });
});

describe('isViewer', () => {
  const viewers = {
    slack: { teamId: 'T0ACME', users: ['U0VIEW'], usergroups: ['S0NOC'] },
    teams: { tenantId: TENANT, users: [ADA] },
  };
  it('matches (platform, workspace or tenant, user) and nothing less', () => {
    assert.equal(isViewer(viewers, slack('U0VIEW', 'T0ACME')), true);
    assert.equal(isViewer(viewers, slack('U0SOME', 'T0ACME', ['S0NOC'])), true);
    assert.equal(isViewer(viewers, slack('U0VIEW', 'T0EVIL')), false);
    assert.equal(isViewer(viewers, { id: ADA, via: 'teams', tenant: TENANT }), true);
    assert.equal(isViewer(viewers, { id: ADA, via: 'teams', tenant: OTHER_TENANT }), false);
    assert.equal(isViewer(viewers, { id: 'U0VIEW', via: 'cli' }), false);
    assert.equal(isViewer(undefined, slack('U0VIEW', 'T0ACME')), false);
    assert.equal(isViewer({}, slack('U0VIEW', 'T0ACME')), false);
  });
});
