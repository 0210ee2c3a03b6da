import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Patch } from '../../../domain/model.js';
import {
  checkPolicySet,
  decideApproval,
  deferralAt,
  DEFAULT_GLOBAL_POLICY,
  effectivePolicy,
  globMatch,
  parsePolicy,
  PolicyCascadeError,
  type PolicyDocument,
  type PolicyTarget,
} from '../../../domain/policy/index.js';

const DAY = 86_400_000;

function policy(yaml: string): PolicyDocument {
  const result = parsePolicy(yaml, 'test.yaml');
  if (!result.ok) assert.fail(result.errors.join('\n'));
  return result.policy;
}

function patch(overrides: Partial<Patch> = {}): Patch {
  return {
    id: 'win:KB5044284',
    vendorRef: 'KB5044284',
    title: '2024-10 Cumulative Update for Windows 11',
    product: 'Windows 11',
    kind: 'os',
    category: 'update',
    vendorSeverity: 'moderate',
    cvss: null,
    epss: null,
    kev: false,
    cveIds: [],
    releaseDate: '2024-10-08',
    rebootRequired: true,
    uninstallable: true,
    ...overrides,
  };
}

const acmeLaptop: PolicyTarget = { clientId: 'acme', siteId: 'acme-berlin', groups: ['laptops'] };

const global = policy(`
scope: { level: global }
approval:
  default: needs_approval
  rules:
    - { categories: [driver], action: reject }
    - { categories: [definition], action: auto }
    - { categories: [feature_pack], action: { defer: 30d } }
blocklist: [KB5034441]
reboot: { mode: never }
`);
const acme = policy(`
scope: { level: client, id: acme }
approval:
  default: auto
  rules:
    - { categories: [security], action: auto }
    - { categories: [feature_pack], action: { defer: 7d } }
    - { action: auto }
blocklist: ["openssl=*"]
rings: [{ name: all, members: { percent: 100 }, soak: 0s }]
`);
const berlin = policy(`
scope: { level: site, id: acme-berlin }
windows: [{ name: late, rule: { daily: true }, start: "23:00", duration: 2h, timezone: Europe/Berlin }]
`);
const servers = policy(`
scope: { level: group, id: servers }
approval: { rules: [{ categories: [update, security], action: needs_approval }] }
reboot: { mode: always }
`);
const all = [global, acme, berlin, servers];

describe('effectivePolicy', () => {
  it('is the built-in default when there are no policies', () => {
    const { policy: p, chain } = effectivePolicy([], acmeLaptop);
    assert.deepEqual(p, DEFAULT_GLOBAL_POLICY);
    assert.deepEqual(chain, [DEFAULT_GLOBAL_POLICY]);
  });

  it('takes each section from the nearest level that sets it', () => {
    const { policy: p, chain } = effectivePolicy(all, acmeLaptop);
    assert.deepEqual(
      chain.map((c) => c.scope),
      [berlin.scope, acme.scope, global.scope],
      'nearest first; the group policy does not apply to an untagged device',
    );
    assert.equal(p.rings, acme.rings);
    assert.equal(p.windows, berlin.windows);
    assert.equal(p.reboot.mode, 'never', 'from the global file');
    assert.deepEqual(p.circuitBreaker, DEFAULT_GLOBAL_POLICY.circuitBreaker, 'unset everywhere');
    assert.equal(p.approval.default, 'auto');
  });

  it('unions blocklists across levels instead of replacing them', () => {
    assert.deepEqual(effectivePolicy(all, acmeLaptop).policy.blocklist, ['KB5034441', 'openssl=*']);
  });

  it('applies a group policy nearest of all', () => {
    const server = { ...acmeLaptop, groups: ['servers'] };
    const { policy: p, chain } = effectivePolicy(all, server);
    assert.equal(chain[0], servers);
    assert.equal(p.reboot.mode, 'always');
    assert.equal(p.windows, berlin.windows);
  });

  it('orders several group policies alphabetically, the later tag winning', () => {
    const sql = policy('scope: { level: group, id: sql }\nreboot: { mode: if_required }');
    for (const groups of [
      ['sql', 'servers'],
      ['servers', 'sql'],
    ]) {
      const { policy: p } = effectivePolicy([...all, sql], { ...acmeLaptop, groups });
      assert.equal(p.reboot.mode, 'if_required');
    }
  });

  it("ignores other clients' and sites' policies", () => {
    const other = { clientId: 'globex', siteId: 'globex-hq', groups: [] };
    assert.deepEqual(
      effectivePolicy(all, other).chain.map((c) => c.scope.id),
      ['global'],
    );
  });

  it('refuses two policies for the same scope, and checkPolicySet names both files', () => {
    const twin = policy('scope: { level: client, id: acme }\nreboot: { mode: always }');
    assert.throws(
      () => effectivePolicy([...all, twin], acmeLaptop),
      (e: unknown) => e instanceof PolicyCascadeError && e.code === 'POLICY_DUPLICATE_SCOPE',
    );
    assert.deepEqual(
      checkPolicySet([
        { fileName: 'policies/acme.yaml', policy: acme },
        { fileName: 'policies/acme-old.yaml', policy: twin },
        { fileName: 'policies/global.yaml', policy: global },
      ]),
      ['policies/acme-old.yaml: scope client:acme is already defined in policies/acme.yaml'],
    );
    const named = policy('scope: { level: global, id: msp }');
    assert.deepEqual(
      checkPolicySet([
        { fileName: 'global.yaml', policy: global },
        { fileName: 'msp.yaml', policy: named },
      ]),
      ['msp.yaml: scope global is already defined in global.yaml'],
      'there is one global policy whatever each file calls itself',
    );
  });
});

describe('decideApproval', () => {
  const decide = (p: Partial<Patch>, target = acmeLaptop, policies = all) =>
    decideApproval(effectivePolicy(policies, target), patch(p));

  it('lets the nearest level with a matching rule decide', () => {
    assert.deepEqual(decide({ category: 'security', vendorSeverity: 'critical' }), {
      action: 'auto',
      reason: 'approval rule 1 (category security)',
      decidedBy: 'client:acme',
    });
  });

  it('lets a global blocklist entry beat a client auto-approval', () => {
    assert.deepEqual(
      decide({ vendorRef: 'KB5034441', id: 'win:KB5034441', category: 'security' }),
      {
        action: 'reject',
        reason: 'blocklist pattern "KB5034441" matches vendorRef "KB5034441"',
        decidedBy: 'global:global',
      },
    );
  });

  it('lets a reject rule at any level beat a nearer auto', () => {
    const d = decide({ category: 'driver' });
    assert.equal(d.action, 'reject');
    assert.equal(d.decidedBy, 'global:global');
  });

  it('matches blocklist globs against the vendor reference and product', () => {
    const d = decide({
      id: 'deb:openssl:3.0.15-1',
      vendorRef: 'openssl=3.0.15-1',
      product: 'openssl',
    });
    assert.equal(d.action, 'reject');
    assert.equal(d.decidedBy, 'client:acme');
  });

  it('lets a group policy override its client', () => {
    const server = { ...acmeLaptop, groups: ['servers'] };
    assert.deepEqual(decide({ category: 'security' }, server), {
      action: 'needs_approval',
      reason: 'approval rule 1 (category update|security)',
      decidedBy: 'group:servers',
    });
    assert.equal(decide({ category: 'security' }).decidedBy, 'client:acme');
  });

  it('returns defer with milliseconds', () => {
    assert.deepEqual(decide({ category: 'feature_pack' }), {
      action: 'defer',
      deferMs: 7 * DAY,
      reason: 'approval rule 2 (category feature_pack)',
      decidedBy: 'client:acme',
    });
    const d = decide({ category: 'feature_pack' }, acmeLaptop, []);
    assert.equal(d.deferMs, 30 * DAY);
    assert.equal(d.decidedBy, 'global:global');
  });

  it('a deferral runs from the release date; after it the nearest default applies', () => {
    const d = decide({ category: 'feature_pack', releaseDate: '2026-11-01' });
    const at = (day: string) => Date.parse(`${day}T12:00:00Z`);
    const laptop = effectivePolicy(all, acmeLaptop);
    const held = deferralAt(laptop, d, { releaseDate: '2026-11-01' }, at('2026-11-07'));
    assert.equal(held.action, 'defer');
    assert.match(held.reason, /; deferred until 2026-11-08$/);
    // acme's default is auto: the deferral only delayed the patch.
    assert.deepEqual(deferralAt(laptop, d, { releaseDate: '2026-11-01' }, at('2026-11-08')), {
      action: 'auto',
      reason: 'approval rule 2 (category feature_pack); deferral ended 2026-11-08, default auto',
      decidedBy: 'client:acme',
    });
    // Under the global default (needs_approval) a human approves it after the deferral.
    const globalOnly = effectivePolicy([global], acmeLaptop);
    const g = decideApproval(globalOnly, patch({ category: 'feature_pack' }));
    assert.equal(g.action, 'defer');
    const ended = deferralAt(globalOnly, g, { releaseDate: '2026-01-01' }, at('2026-11-08'));
    assert.equal(ended.action, 'needs_approval');
    assert.match(ended.reason, /deferral ended 2026-01-31, default needs approval$/);
    assert.deepEqual(
      deferralAt(laptop, d, { releaseDate: null }, at('2027-01-01')),
      d,
      'no date: held',
    );
    const auto = decide({ category: 'definition' });
    assert.equal(deferralAt(laptop, auto, { releaseDate: '2020-01-01' }, at('2026-11-08')), auto);
  });

  it('falls back to a farther rule, then to the nearest default', () => {
    const noCatchAll = policy(`
scope: { level: client, id: acme }
approval: { default: auto, rules: [{ kev: true, action: needs_approval }] }
`);
    const d = (p: Partial<Patch>) => decide(p, acmeLaptop, [global, noCatchAll]);
    assert.equal(d({ category: 'definition' }).decidedBy, 'global:global', 'global rule matches');
    assert.equal(d({ category: 'definition' }).action, 'auto');
    assert.equal(d({ kev: true }).action, 'needs_approval');
    assert.deepEqual(d({ category: 'update' }), {
      action: 'auto',
      reason: 'no approval rule matches; default',
      decidedBy: 'client:acme',
    });
    assert.equal(decide({ category: 'update' }, acmeLaptop, []).action, 'needs_approval');
  });

  it('applies the first matching rule within one policy', () => {
    const ordered = policy(`
scope: { level: client, id: acme }
approval:
  rules:
    - { severities: [critical], action: auto }
    - { categories: [security], action: reject }
`);
    const d = decide({ category: 'security', vendorSeverity: 'critical' }, acmeLaptop, [ordered]);
    assert.equal(d.action, 'auto', 'rule 2 would reject, but rule 1 matched first');
  });
});

describe('globMatch', () => {
  it('matches whole strings, case-insensitively, with * as any run', () => {
    assert.ok(globMatch('KB5034441', 'KB5034441'));
    assert.ok(!globMatch('KB503', 'KB5034441'), 'no partial matches');
    assert.ok(globMatch('openssl=*', 'openssl=3.0.15-1~deb12u1'));
    assert.ok(globMatch('Java*', 'java 8 update 401'));
    assert.ok(globMatch('*chrome*', 'Google Chrome'));
    assert.ok(globMatch('a*b*c', 'axxbyyc'));
    assert.ok(!globMatch('a*b*c', 'axxbyy'));
    assert.ok(globMatch('*', ''));
    assert.ok(!globMatch('x', ''));
  });
});
