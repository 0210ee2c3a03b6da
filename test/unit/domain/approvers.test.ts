import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAuthorisedApprover } from '../../../domain/approvers.js';
import type { ApproverSettings } from '../../../domain/rollout-settings.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const OTHER_TENANT = '0e1d2c3b-4a59-4687-9a6b-5c4d3e2f1a0b';
const ADA = 'c33aafc4-646d-4543-9d4c-abd28e4d2110';

const approvers: ApproverSettings = {
  cli: ['alice'],
  slack: { users: ['U0ADA'], usergroups: ['S0OPS'] },
  teams: { tenantId: TENANT, users: [ADA] },
};

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
    assert.equal(isAuthorisedApprover(approvers, { id: 'alice', via: 'slack' }), false);
  });

  it('Slack: listed users, or members of a listed user group', () => {
    assert.equal(isAuthorisedApprover(approvers, { id: 'U0ADA', via: 'slack' }), true);
    assert.equal(
      isAuthorisedApprover(approvers, { id: 'U0BOB', via: 'slack', groups: ['S0OPS'] }),
      true,
    );
    assert.equal(
      isAuthorisedApprover(approvers, { id: 'U0BOB', via: 'slack', groups: ['S0DEV'] }),
      false,
    );
  });
});
