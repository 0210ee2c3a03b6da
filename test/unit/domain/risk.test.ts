import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  assessRisk,
  bodRemediation,
  ssvcDecision,
  type AssessedDevice,
  type AssessedPatch,
  type SsvcExploitation,
  type SsvcMissionImpact,
  type SsvcTechnicalImpact,
} from '../../../domain/risk.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 0, 15, 10, 30);

const patch = (p: Partial<AssessedPatch> = {}): AssessedPatch => ({
  vendorSeverity: 'none',
  cvss: null,
  epss: null,
  kev: false,
  releaseDate: null,
  ...p,
});
const device = (d: Partial<AssessedDevice> = {}): AssessedDevice => ({
  criticality: 'low',
  internetExposed: false,
  ...d,
});
const assess = (p: Partial<AssessedPatch>, d: Partial<AssessedDevice> = {}) =>
  assessRisk(patch(p), device(d), NOW);

describe('assessRisk tiers', () => {
  it('follows the CVSS boundaries', () => {
    const cases: [number, string][] = [
      [10, 'critical'],
      [9, 'critical'],
      [8.9, 'high'],
      [7, 'high'],
      [6.9, 'medium'],
      [4, 'medium'],
      [3.9, 'low'],
      [0, 'low'],
    ];
    for (const [cvss, tier] of cases) assert.equal(assess({ cvss }).tier, tier, `CVSS ${cvss}`);
  });

  it('follows vendor severity, and the stronger of severity and CVSS wins', () => {
    assert.equal(assess({ vendorSeverity: 'critical' }).tier, 'critical');
    assert.equal(assess({ vendorSeverity: 'important' }).tier, 'high');
    assert.equal(assess({ vendorSeverity: 'moderate' }).tier, 'medium');
    assert.equal(assess({ vendorSeverity: 'low' }).tier, 'low');
    assert.equal(assess({ vendorSeverity: 'important', cvss: 9.8 }).tier, 'critical');
    assert.equal(assess({ vendorSeverity: 'critical', cvss: 5 }).tier, 'critical');
  });

  it('KEV is an emergency whatever else says', () => {
    const r = assess({ kev: true, cvss: 2, vendorSeverity: 'low' });
    assert.equal(r.tier, 'emergency');
    assert.match(r.reasons.join('\n'), /KEV/);
  });
});

describe('assessRisk bumps', () => {
  it('a high or critical asset raises one tier; medium and low do not', () => {
    assert.equal(assess({ cvss: 5 }, { criticality: 'high' }).tier, 'high');
    assert.equal(assess({ cvss: 5 }, { criticality: 'critical' }).tier, 'high');
    assert.equal(assess({ cvss: 5 }, { criticality: 'medium' }).tier, 'medium');
    assert.equal(assess({ cvss: 1 }, { criticality: 'high' }).tier, 'medium');
  });

  it('EPSS ≥ 0.5 raises one tier, and stacks with the asset bump', () => {
    assert.equal(assess({ cvss: 7, epss: 0.5 }).tier, 'critical');
    assert.equal(assess({ cvss: 7, epss: 0.49 }).tier, 'high');
    assert.equal(assess({ cvss: 5, epss: 0.6 }, { criticality: 'critical' }).tier, 'critical');
  });

  it('only KEV makes an emergency', () => {
    const r = assess({ cvss: 10, epss: 0.97 }, { criticality: 'critical', internetExposed: true });
    assert.equal(r.tier, 'critical');
    assert.match(r.reasons.join('\n'), /stays critical/);
    assert.equal(assess({ kev: true }, { criticality: 'critical' }).tier, 'emergency');
  });
});

describe('assessRisk SLA', () => {
  it('gives each tier its SLA from now', () => {
    assert.equal(assess({ kev: true }).dueAt, NOW + 72 * HOUR);
    assert.equal(assess({ cvss: 9.1 }).dueAt, NOW + 7 * DAY);
    assert.equal(assess({ cvss: 7.5 }).dueAt, NOW + 14 * DAY);
    assert.equal(assess({ cvss: 5 }).dueAt, NOW + 30 * DAY);
    assert.equal(assess({ cvss: 2 }).dueAt, NOW + 90 * DAY);
  });

  it('KEV on an internet-exposed device is due in 24h', () => {
    const r = assess({ kev: true }, { internetExposed: true });
    assert.equal(r.dueAt, NOW + 24 * HOUR);
    assert.match(r.reasons.join('\n'), /internet-exposed: SLA 24h/);
  });

  it('critical is due in 3 days only when exposed and EPSS ≥ 0.1', () => {
    assert.equal(assess({ cvss: 9.5, epss: 0.1 }, { internetExposed: true }).dueAt, NOW + 3 * DAY);
    assert.equal(assess({ cvss: 9.5, epss: 0.09 }, { internetExposed: true }).dueAt, NOW + 7 * DAY);
    assert.equal(assess({ cvss: 9.5, epss: 0.4 }).dueAt, NOW + 7 * DAY);
  });

  it('counts from the release date at UTC midnight when there is one', () => {
    const r = assess({ cvss: 7.5, releaseDate: '2025-10-14' });
    assert.equal(r.dueAt, Date.UTC(2025, 9, 14) + 14 * DAY);
    assert.match(r.reasons.join('\n'), /release date 2025-10-14/);
    // An overdue patch stays overdue: the due date may lie before `now`.
    assert.ok(r.dueAt < NOW);
  });

  it('rejects an impossible release date', () => {
    assert.throws(() => assess({ releaseDate: '2025-02-30' }), /releaseDate "2025-02-30"/);
  });
});

describe('assessRisk score', () => {
  it('stays in 0..100 and in the tier’s band', () => {
    assert.equal(assess({}).score, 0);
    const worst = assess(
      { kev: true, cvss: 10, epss: 1 },
      { criticality: 'critical', internetExposed: true },
    );
    assert.equal(worst.score, 100);
    const bands = { low: 0, medium: 20, high: 40, critical: 60, emergency: 80 };
    for (const cvss of [0, 3, 4.5, 7.2, 9.9]) {
      for (const epss of [null, 0.05, 0.7]) {
        const r = assess({ cvss, epss }, { criticality: 'medium', internetExposed: true });
        assert.ok(r.score >= bands[r.tier] && r.score < bands[r.tier] + 20, JSON.stringify(r));
      }
    }
  });

  it('ranks a worse patch higher within a tier', () => {
    assert.ok(assess({ cvss: 8.8 }).score > assess({ cvss: 7.1 }).score);
  });
});

// The CSVs are CISA's published tables; the code embeds them, this checks every row.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
function loadCsv(name: string): string[][] {
  const candidates = [
    path.join(root, 'test/fixtures/ssvc', name),
    path.join(root, '../shared/reference', name),
  ];
  const file = candidates.find((f) => existsSync(f));
  assert.ok(file, `${name} not found; copy it to test/fixtures/ssvc/`);
  const lines = readFileSync(file, 'utf8').trim().split(/\r?\n/).slice(1);
  return lines.map((line) => line.split(',').map((cell) => cell.trim()));
}
const yes = (cell: string | undefined): boolean => {
  assert.ok(cell === 'yes' || cell === 'no', `expected yes/no, got ${cell}`);
  return cell === 'yes';
};

describe('SSVC tables match CISA’s CSVs', () => {
  it('coordinator 2.0.3: every row', () => {
    const rows = loadCsv('ssvc_cisa_coordinator_2_0_3.csv');
    assert.equal(rows.length, 36);
    for (const [, exploitation, automatable, impact, mission, expected] of rows) {
      const input = {
        exploitation: exploitation?.replace(' ', '_') as SsvcExploitation,
        automatable: yes(automatable),
        technicalImpact: impact as SsvcTechnicalImpact,
        missionWellbeing: mission as SsvcMissionImpact,
      };
      assert.equal(ssvcDecision(input), expected, JSON.stringify(input));
    }
  });

  it('BOD 26-04: every row', () => {
    const rows = loadCsv('ssvc_cisa_bod_26_04.csv');
    assert.equal(rows.length, 16);
    for (const [, kev, exposed, automatable, impact, expected] of rows) {
      const input = {
        kev: yes(kev),
        publiclyExposed: yes(exposed),
        automatable: yes(automatable),
        technicalImpact: impact as SsvcTechnicalImpact,
      };
      assert.equal(bodRemediation(input), expected, JSON.stringify(input));
    }
  });
});
