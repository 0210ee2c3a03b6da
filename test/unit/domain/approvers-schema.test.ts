import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePolicy, type PolicyDocument } from '../../../domain/policy/index.js';

const scope = 'scope: { level: client, id: acme }\n';

function errorsOf(yaml: string): string[] {
  const r = parsePolicy(`${scope}${yaml}`, 'acme.yaml');
  assert.equal(r.ok, false, 'expected the policy to be rejected');
  return r.ok ? [] : r.errors;
}

function parsed(yaml: string): PolicyDocument {
  const r = parsePolicy(`${scope}${yaml}`, 'acme.yaml');
  if (!r.ok) assert.fail(r.errors.join('\n'));
  return r.policy;
}

describe('approvers: Slack people name their workspace', () => {
  it('teamId is required with Slack users or user groups, and the error says what to put', () => {
    for (const yaml of [
      'approvers: { slack: { users: [U024BE7LH] } }',
      'approvers: { slack: { usergroups: [SAZ94GDB8] } }',
    ]) {
      const errors = errorsOf(yaml);
      assert.equal(errors.length, 1, errors.join('\n'));
      assert.match(errors[0]!, /^acme\.yaml: approvers\.slack\.teamId: required: /);
      assert.match(errors[0]!, /"T0123ABCD"/);
    }
  });

  it('a teamId that is not a workspace id is refused with an example', () => {
    assert.deepEqual(errorsOf('approvers: { slack: { teamId: acme-corp, users: [U024BE7LH] } }'), [
      'acme.yaml: approvers.slack.teamId: expected a Slack workspace (team) id like "T0123ABCD"',
    ]);
    assert.deepEqual(errorsOf('approvers: { slack: { teamId: 42, users: [U024BE7LH] } }'), [
      'acme.yaml: approvers.slack.teamId: expected a Slack workspace (team) id like "T0123ABCD"',
    ]);
  });

  it('a misspelt teamId is pointed at', () => {
    const errors = errorsOf('approvers: { slack: { teamid: T0123ABCD, users: [U024BE7LH] } }');
    assert.equal(
      errors[0],
      'acme.yaml: approvers.slack.teamid: unknown key; did you mean "teamId"?',
    );
  });

  it('parses workspace, users and groups', () => {
    const p = parsed(
      'approvers: { slack: { teamId: T0123ABCD, users: [U024BE7LH], usergroups: [SAZ94GDB8] } }',
    );
    assert.deepEqual(p.approvers?.slack, {
      teamId: 'T0123ABCD',
      users: ['U024BE7LH'],
      usergroups: ['SAZ94GDB8'],
    });
  });

  it('Teams approvers still need their tenant', () => {
    const errors = errorsOf(
      'approvers: { teams: { users: [c33aafc4-646d-4543-9d4c-abd28e4d2110] } }',
    );
    assert.deepEqual(errors, ['acme.yaml: approvers.teams.tenantId: missing; expected string']);
  });
});

describe('viewers', () => {
  it('parses Slack and Teams viewers with the same ids as approvers', () => {
    const p = parsed(`viewers:
  slack: { teamId: T0123ABCD, users: [U07SERVICE], usergroups: [S0NOC] }
  teams: { tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47, users: [c33aafc4-646d-4543-9d4c-abd28e4d2110] }
`);
    assert.deepEqual(p.viewers, {
      slack: { teamId: 'T0123ABCD', users: ['U07SERVICE'], usergroups: ['S0NOC'] },
      teams: {
        tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
        users: ['c33aafc4-646d-4543-9d4c-abd28e4d2110'],
      },
    });
  });

  it('names the field for a missing workspace, a display name or a CLI list', () => {
    const errors = errorsOf(`viewers:
  slack: { users: [jane.doe] }
  cli: [alice]
`);
    assert.equal(errors.length, 3, errors.join('\n'));
    assert.ok(errors.some((e) => /^acme\.yaml: viewers\.slack\.teamId: required: /.test(e)));
    assert.ok(
      errors.includes(
        'acme.yaml: viewers.slack.users[0]: expected a Slack member id like "U024BE7LH" (profile → ⋮ → Copy member ID)',
      ),
    );
    assert.ok(errors.some((e) => e.startsWith('acme.yaml: viewers.cli: unknown key')));
  });
});
