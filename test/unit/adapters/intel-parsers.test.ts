import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chooseCvss } from '../../../adapters/intel/cvss.js';
import { parseDebianTracker } from '../../../adapters/intel/debian.js';
import { epssApiSchema, parseEpssCsv } from '../../../adapters/intel/epss.js';
import { parseKevCatalog } from '../../../adapters/intel/kev.js';
import { nvdResponseSchema, nvdRows } from '../../../adapters/intel/nvd.js';
import { SlidingWindow } from '../../../adapters/intel/pacing.js';
import { parseFormat } from '../../../adapters/intel/read.js';
import type { CvssMetric } from '../../../adapters/intel/types.js';
import { intelConfig } from '../../../cli/config-intel.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const text = (name: string) => readFileSync(path.join(here, '../../fixtures/intel', name), 'utf8');
const doc = (name: string) => JSON.parse(text(name)) as Record<string, unknown>;
/** A deep copy to break one field of. */
const copy = <T>(x: T): T => structuredClone(x);
const formatError = (fn: () => unknown, field: RegExp) =>
  assert.throws(fn, (err: Error & { code?: string }) => {
    assert.equal(err.code, 'INTEL_FORMAT');
    assert.match(err.message, field);
    return true;
  });

describe('CISA KEV catalog', () => {
  it('parses a real catalog excerpt', () => {
    const s = parseKevCatalog(doc('kev-2025.08.25.json'));
    assert.equal(s.catalogVersion, '2025.08.25');
    assert.equal(s.rows.length, 7);
    const log4j = s.rows.find((r) => r.cve === 'CVE-2021-44228')!;
    assert.equal(log4j.vendorProject, 'Apache');
    assert.equal(log4j.knownRansomwareCampaignUse, 'Known');
    assert.deepEqual(log4j.cwes, ['CWE-20', 'CWE-400', 'CWE-502']);
    assert.equal(log4j.forensicTriage, null);
  });

  it('keeps the newer optional forensicTriage field', () => {
    const c = copy(doc('kev-2025.08.21.json')) as { vulnerabilities: Record<string, unknown>[] };
    c.vulnerabilities[0]!.forensicTriage = 'Yes';
    delete c.vulnerabilities[1]!.cwes;
    const s = parseKevCatalog(c);
    assert.equal(s.rows[0]!.forensicTriage, 'Yes');
    assert.deepEqual(s.rows[1]!.cwes, []);
  });

  it('names the field of a malformed entry', () => {
    const c = copy(doc('kev-2025.08.21.json')) as { vulnerabilities: Record<string, unknown>[] };
    delete c.vulnerabilities[2]!.dueDate;
    formatError(() => parseKevCatalog(c), /vulnerabilities\.2\.dueDate/);
    const d = copy(doc('kev-2025.08.21.json')) as { vulnerabilities: Record<string, unknown>[] };
    d.vulnerabilities[0]!.cveID = 'CVE-21-1';
    formatError(() => parseKevCatalog(d), /vulnerabilities\.0\.cveID: expected a CVE id/);
  });

  it('refuses a catalog whose count does not match its entries (a short download)', () => {
    const c = copy(doc('kev-2025.08.21.json')) as { vulnerabilities: unknown[] };
    c.vulnerabilities.pop();
    formatError(() => parseKevCatalog(c), /count: says 4 but vulnerabilities has 3/);
  });
});

describe('FIRST EPSS', () => {
  it('parses the daily CSV with its model line', () => {
    const s = parseEpssCsv(text('epss_scores-2025-08-25.csv'));
    assert.equal(s.modelVersion, 'v2025.03.14');
    assert.equal(s.scoreDate, '2025-08-25');
    assert.equal(s.rows.length, 9);
    assert.deepEqual(
      s.rows.find((r) => r.cve === 'CVE-2021-44228'),
      { cve: 'CVE-2021-44228', epss: 0.94358, percentile: 0.99957, date: '2025-08-25' },
    );
  });

  it('names the line and column of a bad row', () => {
    const bad = text('epss_scores-2025-08-25.csv').replace(
      'CVE-2016-5195,0.84541',
      'CVE-2016-5195,high',
    );
    formatError(
      () => parseEpssCsv(bad),
      /line 4: epss: expected a number between 0 and 1, got "high"/,
    );
    const over = text('epss_scores-2025-08-25.csv').replace('0.99957', '1.5');
    formatError(() => parseEpssCsv(over), /line 5: percentile/);
  });

  it('refuses a file without the header or the score date', () => {
    const noHeader = text('epss_scores-2025-08-25.csv').replace('cve,epss,percentile', 'id,score');
    formatError(() => parseEpssCsv(noHeader), /line 2: header: expected "cve,epss,percentile"/);
    const noDate = text('epss_scores-2025-08-25.csv').split('\n').slice(1).join('\n');
    formatError(() => parseEpssCsv(noDate, 'scores.csv'), /score_date/);
    // The dated file name tells the date when an old file has no comment line.
    assert.equal(parseEpssCsv(noDate, 'epss_scores-2021-04-14.csv').scoreDate, '2021-04-14');
  });

  it('parses the API answer, whose numbers are strings', () => {
    const page = epssApiSchema.parse(doc('epss-api.json'));
    assert.equal(page.total, 3);
    assert.equal(page.data[0]!.epss, 0.94358);
    const bad = copy(doc('epss-api.json')) as { data: Record<string, unknown>[] };
    bad.data[1]!.percentile = 'n/a';
    formatError(() => parseFormat('FIRST EPSS', 'api', epssApiSchema, bad), /data\.1\.percentile/);
  });
});

describe('NVD CVE API 2.0', () => {
  const rows = nvdRows(nvdResponseSchema.parse(doc('nvd-cves.json')));
  const pick = (id: string) => rows.find((r) => r.cve === id)!.cvss;

  it('prefers v4.0, then v3.1, then v3.0, and Primary before Secondary', () => {
    assert.deepEqual(pick('CVE-2024-3400'), {
      version: '4.0',
      source: 'psirt@paloaltonetworks.com',
      type: 'Secondary',
      baseScore: 10,
      vectorString:
        'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:A/AU:Y/R:U/V:D/RE:M/U:Red',
    });
    assert.equal(pick('CVE-2023-4966')?.type, 'Primary');
    assert.equal(pick('CVE-2023-4966')?.baseScore, 7.5);
    assert.equal(pick('CVE-2016-5195')?.version, '3.0');
    assert.equal(pick('CVE-2025-48384')?.type, 'Secondary');
    assert.equal(pick('CVE-2025-43300'), null, 'no CVSS yet (awaiting analysis)');
    assert.equal(rows.find((r) => r.cve === 'CVE-2024-3400')!.metrics.length, 3);
  });

  it('chooseCvss does not depend on the order metrics come in', () => {
    const m = (
      version: CvssMetric['version'],
      type: CvssMetric['type'],
      baseScore: number,
    ): CvssMetric => ({
      version,
      type,
      baseScore,
      source: 'x',
      vectorString: 'v',
    });
    const all = [m('3.0', 'Primary', 1), m('3.1', 'Secondary', 2), m('3.1', 'Primary', 3)];
    assert.equal(chooseCvss(all)?.baseScore, 3);
    assert.equal(chooseCvss([...all].reverse())?.baseScore, 3);
    assert.equal(chooseCvss([...all, m('4.0', 'Secondary', 4)])?.baseScore, 4);
    assert.equal(chooseCvss([]), null);
  });

  it('names the field of a malformed metric', () => {
    const bad = copy(doc('nvd-cves.json')) as {
      vulnerabilities: { cve: { metrics: { cvssMetricV31: { type: string }[] } } }[];
    };
    bad.vulnerabilities[2]!.cve.metrics.cvssMetricV31[1]!.type = 'Tertiary';
    formatError(
      () => parseFormat('NVD', 'api', nvdResponseSchema, bad),
      /vulnerabilities\.2\.cve\.metrics\.cvssMetricV31\.1\.type/,
    );
  });
});

describe('Debian security tracker', () => {
  it('flattens package × CVE × release for the releases asked for', () => {
    const s = parseDebianTracker(doc('debian-tracker.json'), ['bookworm', 'trixie']);
    assert.equal(s.rows.length, 10);
    assert.ok(!s.rows.some((r) => r.cve.startsWith('TEMP-')), 'TEMP- ids are skipped');
    assert.ok(!s.rows.some((r) => r.release === 'bullseye'));
    assert.deepEqual(
      s.rows.find((r) => r.cve === 'CVE-2025-38236' && r.release === 'bookworm'),
      {
        package: 'linux',
        cve: 'CVE-2025-38236',
        release: 'bookworm',
        status: 'open',
        fixedVersion: null,
        urgency: 'not yet assigned',
      },
    );
  });

  it('names the field of a malformed release', () => {
    const bad = copy(doc('debian-tracker.json')) as Record<
      string,
      Record<string, { releases: Record<string, { status: string }> }>
    >;
    bad.git!['CVE-2025-48384']!.releases.bookworm!.status = 'fixed';
    formatError(() => parseDebianTracker(bad), /git\.CVE-2025-48384\.releases\.bookworm\.status/);
  });
});

describe('NVD pacing', () => {
  it('lets at most `limit` requests start in any window', async () => {
    let now = 0;
    const slept: number[] = [];
    const w = new SlidingWindow(
      5,
      30_000,
      () => now,
      (ms) => {
        slept.push(ms);
        now += ms;
        return Promise.resolve();
      },
    );
    for (let i = 0; i < 6; i++) await w.take();
    assert.equal(slept.length, 1);
    assert.ok(now >= 30_000, 'the sixth request waited for the window to roll');
  });
});

describe('intel configuration', () => {
  it('reads the public URLs by default and accepts files and "off"', () => {
    const d = intelConfig({});
    assert.deepEqual(d.problems, []);
    assert.deepEqual(d.config.sources.kev, {
      enabled: true,
      location: {
        kind: 'url',
        url: 'https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json',
      },
    });
    const c = intelConfig({
      PATCHOPS_INTEL_EPSS: '/srv/intel/epss.csv.gz',
      PATCHOPS_INTEL_NVD: 'off',
    });
    assert.deepEqual((c.config.sources.epss as { location: unknown }).location, {
      kind: 'file',
      path: '/srv/intel/epss.csv.gz',
    });
    assert.deepEqual(c.config.sources.nvd, { enabled: false });
  });

  it('names the variable of a bad value', () => {
    const c = intelConfig({
      PATCHOPS_INTEL_DEBIAN_RELEASES: 'Bookworm; trixie',
      PATCHOPS_INTEL_NVD_WINDOW_MS: 'soon',
    });
    assert.equal(c.problems.length, 2);
    assert.match(
      c.problems.join('\n'),
      /PATCHOPS_INTEL_DEBIAN_RELEASES: expected codenames like bookworm,trixie/,
    );
    assert.match(c.problems.join('\n'), /PATCHOPS_INTEL_NVD_WINDOW_MS: expected a whole number/);
  });
});
