import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { CveIntel } from '../../../domain/intel.js';
import {
  assessCve,
  assessRisk,
  bodRemediation,
  cveFacts,
  exploitationOf,
  ssvcDecision,
  tieBreaker,
  TIER_OF_TIMELINE,
  vectorPoints,
  type AssessedDevice,
  type AssessedPatch,
  type CveFacts,
  type SsvcExploitation,
  type SsvcMissionImpact,
  type SsvcTechnicalImpact,
} from '../../../domain/risk.js';
import { compareRanked, ftcGroup, type Ranked } from '../../../domain/risk-order.js';

const DAY = 86_400_000;
const SEEN = Date.UTC(2026, 10, 12, 9, 30); // 2026-11-12 09:30 UTC

// Vectors chosen for their SSVC reading: automatable (AV:N/PR:N/UI:N) × impact (C:H/I:H).
const VECTOR = {
  'yes total': 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
  'yes partial': 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:L/A:N',
  'no total': 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H',
  'no partial': 'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N',
} as const;

const facts = (f: Partial<CveFacts> = {}): CveFacts => ({
  cve: 'CVE-2026-0001',
  cvss: 7.5,
  vector: null,
  epss: null,
  kev: false,
  kevDateAdded: null,
  kevDueDate: null,
  source: 'intel',
  ...f,
});
const device = (d: Partial<AssessedDevice> = {}): AssessedDevice => ({
  criticality: 'medium',
  internetExposed: false,
  ...d,
});
const moderate = { vendorSeverity: 'moderate' } as const;

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

  it('BOD 26-04: every row, as a table', () => {
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

  it('BOD 26-04: every row, from KEV, exposure and the CVSS vector of a CVE', () => {
    for (const [row, kev, exposed, automatable, impact, expected] of loadCsv(
      'ssvc_cisa_bod_26_04.csv',
    )) {
      const vector = VECTOR[`${automatable} ${impact}` as keyof typeof VECTOR];
      const r = assessCve(
        facts({ kev: yes(kev), vector }),
        moderate,
        device({ internetExposed: yes(exposed) }),
        SEEN,
      );
      assert.equal(r.timeline, expected, `row ${row}`);
      assert.equal(r.tier, TIER_OF_TIMELINE[r.timeline], `row ${row}`);
      assert.equal(r.automatable, yes(automatable), `row ${row}`);
      assert.equal(r.technicalImpact, impact, `row ${row}`);
    }
  });
});

describe('decision points from intel', () => {
  it('reads automatable and technical impact from v2, v3.x and v4.0 vectors', () => {
    assert.deepEqual(vectorPoints(VECTOR['yes total']), {
      automatable: true,
      technicalImpact: 'total',
    });
    assert.deepEqual(vectorPoints('CVSS:3.0/AV:A/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'), {
      automatable: false,
      technicalImpact: 'total',
    });
    assert.deepEqual(
      vectorPoints('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:A'),
      { automatable: true, technicalImpact: 'total', exploitMaturity: 'active' },
    );
    assert.deepEqual(
      vectorPoints('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:P/VC:H/VI:L/VA:N/SC:N/SI:N/SA:N'),
      { automatable: false, technicalImpact: 'partial' },
    );
    assert.deepEqual(vectorPoints('AV:N/AC:L/Au:N/C:C/I:C/A:C'), {
      automatable: true,
      technicalImpact: 'total',
    });
    assert.equal(vectorPoints('not a vector'), undefined);
  });

  it('raises exploitation with EPSS as CERT/CC’s example table does', () => {
    const e = (epss: number | null, exploitMaturity?: SsvcExploitation, kev = false) =>
      exploitationOf({ kev, epss, exploitMaturity });
    assert.equal(e(null, undefined, true), 'active', 'KEV is active');
    assert.equal(e(0.91), 'active', '> 0.9 is active');
    assert.equal(e(0.9), 'public_poc', '0.75–0.9 bumps none one step');
    assert.equal(e(0.75, 'public_poc'), 'active', '0.75–0.9 bumps public_poc to active');
    assert.equal(e(0.74), 'none', 'below 0.75 none stays none');
    assert.equal(e(0.55, 'public_poc'), 'active', '0.55–0.75 makes a PoC active');
    assert.equal(e(0.54, 'public_poc'), 'public_poc');
    assert.equal(e(0.01), 'none');
  });

  it('counts EPSS-active exploitation as in KEV for BOD 26-04', () => {
    const r = assessCve(
      facts({ epss: 0.95, vector: VECTOR['yes total'] }),
      moderate,
      device({ internetExposed: true }),
      SEEN,
    );
    assert.equal(r.exploitation, 'active');
    assert.equal(r.tier, 'forensic');
    const quiet = assessCve(
      facts({ epss: 0.2, vector: VECTOR['yes total'] }),
      moderate,
      device({ internetExposed: true }),
      SEEN,
    );
    assert.equal(quiet.tier, 'act', 'not exploited, exposed, automatable, total: 3 days');
  });

  it('without a vector, vendor severity and CVSS stand in', () => {
    const critical = assessCve(
      facts({ cvss: 8.8, kev: true }),
      { vendorSeverity: 'critical' },
      device(),
      SEEN,
    );
    assert.equal(critical.automatable, true);
    assert.equal(critical.technicalImpact, 'total');
    assert.equal(critical.tier, 'forensic');
    const important = assessCve(
      facts({ cvss: 9.1 }),
      { vendorSeverity: 'important' },
      device(),
      SEEN,
    );
    assert.equal(important.automatable, false);
    assert.equal(important.technicalImpact, 'total');
    assert.equal(important.tier, 'upgrade');
    assert.match(important.reasons.join('\n'), /no CVSS vector/);
  });
});

describe('cveFacts', () => {
  const patch: AssessedPatch = {
    vendorSeverity: 'important',
    cvss: 7.8,
    epss: 0.02,
    kev: false,
    cveIds: ['CVE-2026-1111', 'CVE-2026-2222'],
  };
  const intel = new Map<string, CveIntel>([
    [
      'CVE-2026-1111',
      {
        cve: 'CVE-2026-1111',
        kev: {
          dateAdded: '2026-11-14',
          dueDate: '2026-12-05',
          knownRansomwareCampaignUse: 'Unknown',
          vendorProject: 'Microsoft',
          product: 'Windows',
          cwes: [],
        },
        cvss: {
          version: '3.1',
          baseScore: 9.8,
          vectorString: VECTOR['yes total'],
          type: 'Primary',
          source: 'nvd@nist.gov',
        },
      },
    ],
  ]);

  it('takes intel where it has the CVE and the patch’s fields elsewhere', () => {
    const [known, unknown] = cveFacts(patch, intel);
    assert.deepEqual(known, {
      cve: 'CVE-2026-1111',
      cvss: 9.8,
      vector: VECTOR['yes total'],
      epss: 0.02, // intel has no EPSS for it: the patch's
      kev: true,
      kevDateAdded: '2026-11-14',
      kevDueDate: '2026-12-05',
      source: 'intel',
    });
    assert.equal(unknown?.source, 'patch');
    assert.equal(unknown?.cvss, 7.8);
    assert.equal(unknown?.kev, false);
  });

  it('stands the patch in for a patch without CVEs, and never drops a vendor KEV flag', () => {
    assert.deepEqual(
      cveFacts({ ...patch, cveIds: [] }, intel).map((f) => f.cve),
      [null],
    );
    const flagged = cveFacts({ ...patch, kev: true, cveIds: ['CVE-2026-1111'] }, new Map());
    assert.equal(flagged[0]?.kev, true);
  });
});

describe('due dates', () => {
  const exposedAct = { vector: VECTOR['yes total'] }; // act on an exposed device: 3 days
  const exposed = device({ internetExposed: true });

  it('run from first seen plus the tier’s days', () => {
    const r = assessCve(facts(exposedAct), moderate, exposed, SEEN);
    assert.equal(r.tier, 'act');
    assert.equal(r.dueAt, SEEN + 3 * DAY);
    const attend = assessCve(facts({ vector: VECTOR['yes partial'] }), moderate, exposed, SEEN);
    assert.equal(attend.tier, 'attend');
    assert.equal(attend.dueAt, SEEN + 14 * DAY);
  });

  it('run from the KEV listing when it came after first seen', () => {
    const r = assessCve(
      facts({ ...exposedAct, kev: true, kevDateAdded: '2026-11-20', kevDueDate: '2026-12-11' }),
      moderate,
      exposed,
      SEEN,
    );
    assert.equal(r.tier, 'forensic');
    assert.equal(r.dueAt, Date.UTC(2026, 10, 20) + 3 * DAY);
    assert.match(r.reasons.join('\n'), /from KEV listing 2026-11-20/);
  });

  it('keep first seen when the KEV listing is older', () => {
    const r = assessCve(
      facts({ ...exposedAct, kev: true, kevDateAdded: '2026-01-05', kevDueDate: '2026-12-11' }),
      moderate,
      exposed,
      SEEN,
    );
    assert.equal(r.dueAt, SEEN + 3 * DAY);
  });

  it('take CISA’s KEV due date (end of that UTC day) when it is earlier', () => {
    const r = assessCve(
      facts({
        vector: VECTOR['no partial'],
        kev: true,
        kevDateAdded: '2026-11-01',
        kevDueDate: '2026-11-15',
      }),
      moderate,
      device(),
      SEEN,
    );
    assert.equal(r.tier, 'attend', 'KEV, not exposed, not automatable: 14 days');
    assert.equal(r.dueAt, Date.UTC(2026, 10, 16));
    assert.match(r.reasons.join('\n'), /CISA KEV due date 2026-11-15 is earlier/);
  });

  it('follow a policy’s SLA per tier, keeping the defaults of the others', () => {
    const sla = { act: 1 * DAY, attend: 7 * DAY };
    assert.equal(assessCve(facts(exposedAct), moderate, exposed, SEEN, sla).dueAt, SEEN + DAY);
    const track = assessCve(facts({ vector: VECTOR['no partial'] }), moderate, exposed, SEEN, sla);
    assert.equal(track.tier, 'track');
    assert.equal(track.dueAt, SEEN + 60 * DAY);
  });

  it('reject an impossible KEV date', () => {
    assert.throws(
      () => assessCve(facts({ kev: true, kevDateAdded: '2026-02-30' }), moderate, device(), SEEN),
      /KEV dateAdded of CVE-2026-0001 "2026-02-30"/,
    );
  });

  it('a patch takes its most urgent CVE’s tier and the earliest due date of all', () => {
    const r = assessRisk(
      moderate,
      [
        facts({ cve: 'CVE-A', vector: VECTOR['no partial'], kev: true, kevDueDate: '2026-11-13' }),
        facts({ cve: 'CVE-B', vector: VECTOR['yes total'] }),
      ],
      device({ internetExposed: true }),
      SEEN,
    );
    assert.equal(r.deciding.cve, 'CVE-B');
    assert.equal(r.tier, 'act');
    assert.equal(r.dueAt, Date.UTC(2026, 10, 14), 'CVE-A’s KEV due date is the earliest');
  });
});

describe('order and tie-breaker', () => {
  it('maps patch categories to the FTC order', () => {
    const g = (kind: string, category: string, product: string) =>
      ftcGroup({ kind, category, product } as Parameters<typeof ftcGroup>[0]);
    assert.equal(
      g('application', 'definition', 'Microsoft Defender Antivirus'),
      'security_software',
    );
    assert.equal(g('application', 'security', 'CrowdStrike Falcon Sensor'), 'security_software');
    assert.equal(g('os', 'security', 'Windows 11 Version 24H2'), 'operating_system');
    assert.equal(g('firmware', 'firmware', 'Dell BIOS'), 'operating_system');
    assert.equal(g('application', 'third_party', 'Google Chrome'), 'browser');
    assert.equal(g('application', 'security', 'Mozilla Firefox ESR'), 'browser');
    assert.equal(g('application', 'third_party', '7-Zip'), 'other_app');
  });

  it('computes CVSS × exploitation × criticality', () => {
    const t = (p: Partial<Parameters<typeof tieBreaker>[0]>) =>
      tieBreaker({
        cvss: 8,
        vendorSeverity: 'important',
        exploitation: 'none',
        epss: null,
        criticality: 'low',
        ...p,
      });
    assert.equal(t({}), 8);
    assert.equal(t({ exploitation: 'active', epss: 0.5, criticality: 'critical' }), 8 * 3.5 * 4);
    assert.equal(t({ exploitation: 'public_poc', criticality: 'medium' }), 32);
    assert.equal(t({ cvss: null }), 7, 'vendor severity stands in for a missing CVSS');
  });

  it('sorts by tier, then FTC group, then tie-breaker, then id', () => {
    const r = (patchId: string, tier: Ranked['tier'], ftc: Ranked['ftc'], tb: number): Ranked => ({
      patchId,
      tier,
      ftc,
      tieBreaker: tb,
    });
    const list = [
      r('app-high', 'attend', 'other_app', 90),
      r('os-low', 'attend', 'operating_system', 10),
      r('browser', 'track', 'browser', 150),
      r('urgent-app', 'forensic', 'other_app', 1),
      r('os-high', 'attend', 'operating_system', 40),
      r('av', 'attend', 'security_software', 5),
      r('b-tie', 'attend', 'other_app', 90),
    ];
    assert.deepEqual(
      list.sort(compareRanked).map((x) => x.patchId),
      ['urgent-app', 'av', 'os-high', 'os-low', 'app-high', 'b-tie', 'browser'],
    );
  });
});
