import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Patch } from '../../../domain/model.js';
import {
  checkPolicySet,
  decideApproval,
  DEFAULT_GLOBAL_POLICY,
  effectivePolicy,
  parsePolicy,
  type PolicyDocument,
  type PolicyTarget,
} from '../../../domain/policy/index.js';
import { approvalGates, assignRings, ringLocator } from '../../../domain/rings.js';

const DAY = 86_400_000;

function policy(yaml: string): PolicyDocument {
  const result = parsePolicy(yaml, 'test.yaml');
  if (!result.ok) assert.fail(result.errors.join('\n'));
  return result.policy;
}

const patch: Patch = {
  id: 'win:KB5091542',
  vendorRef: 'KB5091542',
  title: '2026-11 Cumulative Update for Windows 11',
  product: 'Windows 11 Version 25H2',
  kind: 'os',
  category: 'security',
  vendorSeverity: 'critical',
  cvss: 8.8,
  epss: 0.37,
  kev: true,
  cveIds: ['CVE-2026-58312'],
  releaseDate: '2026-11-10',
  rebootRequired: true,
  uninstallable: true,
};
const target: PolicyTarget = { clientId: 'acme', siteId: 'acme-berlin', groups: [] };

// The example: the 3-day tiers go to the pilot at once and wait for a human before broad.
const acme = policy(`
scope: { level: client, id: acme }
approval:
  default: auto
  rules:
    - { tiers: [forensic, act], rings: [pilot], action: auto }
    - { tiers: [forensic, act], action: needs_approval }
    - { tiers: [upgrade], action: { defer: 14d } }
sla: { act: 2d }
`);

describe('approval rules by tier and ring', () => {
  const decide = (tier?: string, ring?: string) =>
    decideApproval(effectivePolicy([acme], target), patch, {
      tier: tier as never,
      ring,
    });

  it('auto-approves the 3-day tiers in the pilot ring and asks elsewhere', () => {
    assert.deepEqual(decide('act', 'pilot'), {
      action: 'auto',
      reason: 'approval rule 1 (tier forensic|act, ring pilot)',
      decidedBy: 'client:acme',
    });
    assert.equal(decide('forensic', 'broad').action, 'needs_approval');
    assert.equal(decide('forensic', 'broad').reason, 'approval rule 2 (tier forensic|act)');
    assert.deepEqual(decide('upgrade', 'broad').deferMs, 14 * DAY);
    // No tier rule matches: the global critical-security rule asks, as without tiers.
    assert.equal(decide('attend', 'pilot').decidedBy, 'global:global');
  });

  it('a tier or ring rule never matches when the context does not name one', () => {
    // The global critical-security rule is the only one left to match.
    const d = decideApproval(effectivePolicy([acme], target), patch);
    assert.equal(d.action, 'needs_approval');
    assert.equal(d.decidedBy, 'global:global');
  });

  it('rejects an unknown tier and an empty list, naming the field', () => {
    const bad = parsePolicy(
      'scope: { level: global }\napproval:\n  rules:\n    - { tiers: [urgent], action: auto }\n    - { rings: [], action: auto }\n',
      'p.yaml',
    );
    assert.equal(bad.ok, false);
    const text = bad.ok ? '' : bad.errors.join('\n');
    assert.match(text, /approval\.rules\[0\]\.tiers\[0\]/);
    assert.match(text, /forensic.*act.*attend.*track.*upgrade/);
    assert.match(text, /approval\.rules\[1\]\.rings/);
  });
});

describe('checkPolicySet', () => {
  it('names a rule’s ring that no policy defines', () => {
    const typo = policy(
      'scope: { level: client, id: globex }\napproval:\n  rules: [{ rings: [brod], action: needs_approval }]',
    );
    assert.deepEqual(
      checkPolicySet([
        { fileName: 'acme.yaml', policy: acme },
        { fileName: 'globex.yaml', policy: typo },
      ]),
      [
        'globex.yaml: approval.rules[0].rings: ring "brod" is not defined by any policy\'s rings (known: pilot, broad)',
      ],
    );
    assert.deepEqual(checkPolicySet([{ fileName: 'acme.yaml', policy: acme }]), []);
  });
});

describe('sla section', () => {
  it('merges per tier: nearest level first, built-in defaults last', () => {
    const global = policy('scope: { level: global }\nsla: { attend: 10d }');
    const site = policy('scope: { level: site, id: acme-berlin }\nsla: { forensic: 1d }');
    const { policy: p } = effectivePolicy([global, acme, site], target);
    assert.deepEqual(p.sla, {
      forensic: DAY,
      act: 2 * DAY,
      attend: 10 * DAY,
      track: 60 * DAY,
      upgrade: 90 * DAY,
    });
    assert.deepEqual(effectivePolicy([], target).policy.sla, DEFAULT_GLOBAL_POLICY.sla);
  });

  it('rejects an unknown tier and a bad duration', () => {
    const bad = parsePolicy(
      'scope: { level: global }\nsla: { critical: 3d, act: soon }\n',
      'p.yaml',
    );
    assert.equal(bad.ok, false);
    const text = bad.ok ? '' : bad.errors.join('\n');
    assert.match(text, /critical/);
    assert.match(text, /sla\.act/);
  });
});

describe('rings and approval gates', () => {
  const rings = [
    { name: 'pilot', members: { groups: ['canary'] } },
    { name: 'first', members: { percent: 30 } },
    { name: 'broad', members: { percent: 70 } },
  ];

  it('ringLocator agrees with assignRings for every device', () => {
    const devices = Array.from({ length: 200 }, (_, i) => ({
      id: `ws-${String(i).padStart(4, '0')}`,
      tags: i % 17 === 0 ? ['canary'] : [],
    }));
    const locate = ringLocator(rings, 'acme');
    const assigned = assignRings(rings, devices, 'acme');
    for (const d of devices) assert.ok(assigned[locate(d)]?.includes(d.id), d.id);
  });

  it('asks before the first ring only when it needs approval; later rings wait for promotion', () => {
    assert.deepEqual(approvalGates([2, 5, 20], [true, true, false]), {
      upfront: true,
      manualAfter: [],
    });
    assert.deepEqual(approvalGates([2, 5, 20], [false, false, true]), {
      upfront: false,
      manualAfter: [1],
    });
    assert.deepEqual(approvalGates([0, 5, 20], [false, true, true]), {
      upfront: true,
      manualAfter: [],
    });
    assert.deepEqual(approvalGates([2, 0, 20], [false, true, true]), {
      upfront: false,
      manualAfter: [1],
    });
    assert.deepEqual(approvalGates([0, 0], [false, false]), { upfront: false, manualAfter: [] });
  });
});
