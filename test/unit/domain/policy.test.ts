import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  DEFAULT_GLOBAL_POLICY,
  parsePolicy,
  type PolicyDocument,
} from '../../../domain/policy/index.js';

const root = new URL('../../../', import.meta.url);
const readPolicy = (rel: string) => readFileSync(new URL(rel, root), 'utf8');

function errorsOf(yaml: string, fileName = 'policies/acme.yaml'): string[] {
  const result = parsePolicy(yaml, fileName);
  assert.equal(result.ok, false, 'expected the policy to be rejected');
  return result.ok ? [] : result.errors;
}

function parsed(yaml: string): PolicyDocument {
  const result = parsePolicy(yaml, 'test.yaml');
  if (!result.ok) assert.fail(result.errors.join('\n'));
  return result.policy;
}

const clientScope = 'scope: { level: client, id: acme }\n';

describe('parsePolicy', () => {
  it('names the file, the path and the fix for a bad duration', () => {
    const errors = errorsOf(`${clientScope}
rings:
  - { name: pilot, members: { percent: 10 }, soak: 2h }
  - { name: broad, members: { percent: 90 }, soak: 2 hours }
`);
    assert.deepEqual(errors, [
      'policies/acme.yaml: rings[1].soak: expected a duration like "2h", "30m" or "1h30m", got "2 hours"',
    ]);
  });

  it('rollback.onFailure takes none or uninstall and says so otherwise', () => {
    assert.deepEqual(parsed(`${clientScope}rollback: { onFailure: uninstall }`).rollback, {
      onFailure: 'uninstall',
    });
    assert.deepEqual(errorsOf(`${clientScope}rollback: { onFailure: yes }`), [
      'policies/acme.yaml: rollback.onFailure: expected "none" (keep what installed) or "uninstall" (roll the device back)',
    ]);
    assert.equal(DEFAULT_GLOBAL_POLICY.rollback.onFailure, 'none');
  });

  it('reports every error at once, across sections', () => {
    const errors = errorsOf(`${clientScope}
approval:
  default: maybe
  rules:
    - { categories: [securty], action: { defer: 1 week } }
rings:
  - { name: pilot, members: { percent: 60 }, soak: 2h, concurrency: 0 }
  - { name: broad, members: { percent: 50 }, soak: 2 hours }
windows:
  - { name: w, rule: { daily: true }, start: "25:00", duration: 1h, timezone: Mars/Olympus }
reboot: { mode: sometimes }
`);
    const paths = errors.map((e) => e.split(': ')[1]);
    assert.deepEqual(paths, [
      'approval.default',
      'approval.rules[0].categories[0]',
      'approval.rules[0].action.defer',
      'rings[0].concurrency',
      'rings[1].soak',
      'rings',
      'windows[0].start',
      'windows[0].timezone',
      'reboot.mode',
    ]);
    assert.ok(errors.every((e) => e.startsWith('policies/acme.yaml: ')));
  });

  it('rejects unknown keys, naming the key and the closest known one', () => {
    const errors = errorsOf(`${clientScope}
blocklst: [KB5034441]
rings:
  - { name: pilot, members: { percent: 10 }, sok: 2h, soak: 1h }
reboot: { zzz: 1 }
`);
    assert.deepEqual(errors, [
      'policies/acme.yaml: rings[0].sok: unknown key; did you mean "soak"?',
      'policies/acme.yaml: reboot.zzz: unknown key; known keys: mode, userDeferrals, deferralInterval, deadline',
      'policies/acme.yaml: blocklst: unknown key; did you mean "blocklist"?',
    ]);
  });

  it("caps ring concurrency well below Temporal's 2,000 pending children", () => {
    const errors = errorsOf(`${clientScope}
rings:
  - { name: all, members: { percent: 100 }, soak: 1h, concurrency: 1001 }
`);
    assert.deepEqual(errors, [
      'policies/acme.yaml: rings[0].concurrency: at most 1000 devices at once per ring',
    ]);
    parsed(
      `${clientScope}rings:\n  - { name: all, members: { percent: 100 }, soak: 1h, concurrency: 1000 }\n`,
    );
  });

  it('rejects a time zone the IANA database does not know', () => {
    const errors = errorsOf(`${clientScope}
windows:
  - name: nights
    rule: { weekly: { days: [mon] } }
    start: "02:00"
    duration: 3h
    timezone: Europe/Berln
`);
    assert.deepEqual(errors, [
      'policies/acme.yaml: windows[0].timezone: unknown time zone "Europe/Berln"; use "device", "site" or an IANA name like "Europe/Berlin"',
    ]);
  });

  it('accepts IANA names, device and site as time zones', () => {
    for (const tz of ['Europe/Berlin', 'America/New_York', 'UTC', 'device', 'site']) {
      const p = parsed(`${clientScope}
windows: [{ name: w, rule: { daily: true }, start: "00:30", duration: 1h, timezone: ${tz} }]`);
      assert.equal(p.windows?.[0]?.timezone, tz);
    }
  });

  it('rejects percent rings that add up to more than 100, and duplicate ring names', () => {
    const errors = errorsOf(`${clientScope}
rings:
  - { name: pilot, members: { percent: 20 }, soak: 2h }
  - { name: pilot, members: { percent: 85 }, soak: 1h }
`);
    assert.deepEqual(errors, [
      'policies/acme.yaml: rings[1].name: duplicate ring name "pilot"',
      'policies/acme.yaml: rings: percent rings add up to 105%; they are cumulative by order, so the total must be at most 100',
    ]);
  });

  it('gives file:line:col for YAML syntax errors', () => {
    const yaml = 'scope:\n  level: global\nwindows:\n  - name: nights\n   start: "02:00"\n';
    const errors = errorsOf(yaml, 'policies/global.yaml');
    assert.equal(errors.length, 1);
    assert.match(
      errors[0] ?? '',
      /^policies\/global\.yaml:5:\d+: \S/,
      'line 5 is the misindented one',
    );
    const dup = errorsOf('scope: { level: global }\nblocklist: []\nblocklist: [x]\n', 'g.yaml');
    assert.deepEqual(dup, ['g.yaml:3:1: Map keys must be unique']);
  });

  it('reports an empty file and a missing scope id clearly', () => {
    assert.deepEqual(errorsOf('', 'p.yaml'), [
      'p.yaml: the file is empty; a policy needs at least "scope"',
    ]);
    assert.deepEqual(errorsOf('scope: { level: group }', 'p.yaml'), [
      'p.yaml: scope.id: a group policy needs the device tag',
    ]);
    assert.deepEqual(errorsOf('blocklist: []', 'p.yaml'), [
      'p.yaml: scope: missing; expected object',
    ]);
  });

  it('requires exactly one window rule and exactly one kind of ring membership', () => {
    const errors = errorsOf(`${clientScope}
rings: [{ name: a, members: { percent: 10, groups: [servers] }, soak: 1h }]
windows: [{ name: w, rule: { daily: true, weekly: { days: [mon] } }, start: "01:00", duration: 1h, timezone: site }]
`);
    assert.deepEqual(errors, [
      'policies/acme.yaml: rings[0].members: set exactly one of "groups" or "percent"',
      'policies/acme.yaml: windows[0].rule: set exactly one of "weekly", "monthly" or "daily"',
    ]);
  });

  it('checks that escalation comes before the timeout', () => {
    const errors = errorsOf(`${clientScope}
approvalTimeout: { after: 4h, remindEvery: 1h, escalateAfter: 6h, escalateTo: [U024BE7LH], outcome: reject }
`);
    assert.deepEqual(errors, [
      'policies/acme.yaml: approvalTimeout.escalateAfter: must be shorter than "after", or the request times out before it escalates',
    ]);
  });

  it('yields milliseconds and fills in field defaults', () => {
    const p = parsed(`${clientScope}
approval: { rules: [{ kev: true, action: { defer: 7d } }] }
rings: [{ name: servers, members: { groups: [servers] }, soak: 1h30m }]
reboot: { mode: always }
`);
    assert.deepEqual(p.scope, { level: 'client', id: 'acme' });
    assert.deepEqual(p.approval, { rules: [{ kev: true, action: { defer: 7 * 86_400_000 } }] });
    assert.deepEqual(p.rings, [
      {
        name: 'servers',
        members: { groups: ['servers'] },
        soak: 5_400_000,
        successThreshold: 0.95,
        promotion: 'auto',
        concurrency: 25,
      },
    ]);
    assert.deepEqual(p.reboot, {
      mode: 'always',
      userDeferrals: 0,
      deferralInterval: 3_600_000,
      deadline: 86_400_000,
    });
    assert.equal(p.windows, undefined, 'a section left out stays out, so the cascade can fill it');
  });
});

describe('shipped policy files', () => {
  it('policies/global.yaml parses to exactly the built-in defaults', () => {
    const result = parsePolicy(readPolicy('policies/global.yaml'), 'policies/global.yaml');
    if (!result.ok) assert.fail(result.errors.join('\n'));
    assert.deepEqual(result.policy, DEFAULT_GLOBAL_POLICY);
  });

  it('policies/examples/acme.yaml parses as a client policy', () => {
    const result = parsePolicy(readPolicy('policies/examples/acme.yaml'), 'acme.yaml');
    if (!result.ok) assert.fail(result.errors.join('\n'));
    const p = result.policy;
    assert.deepEqual(p.scope, { level: 'client', id: 'acme' });
    assert.ok(p.blocklist?.includes('KB5034441'));
    assert.deepEqual(p.windows?.[0]?.rule, {
      monthly: { nthWeekday: { n: 2, weekday: 'tue' }, offsetDays: 2 },
    });
    assert.equal(p.windows?.[0]?.timezone, 'Europe/Berlin');
    assert.deepEqual(p.approvers?.slack?.users, ['U024BE7LH', 'U0G9QF9C6']);
    assert.equal(p.rings, undefined);
  });
});
