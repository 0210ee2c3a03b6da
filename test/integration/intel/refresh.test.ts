import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { refreshIntelSource } from '../../../activities/intel.js';
import { createNvdLoader } from '../../../adapters/intel/nvd.js';
import { intelRegistry } from '../../../adapters/intel/registry.js';
import type { IntelLoader, IntelSourceName } from '../../../adapters/intel/types.js';
import { adapterDeps } from '../../../adapters/kit.js';
import { loadConfig } from '../../../cli/config.js';
import { intelChecks } from '../../../cli/commands/doctor.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { fixture, startIntelFake, type IntelFake } from '../../fakes/intel/index.js';

const log = pino({ level: 'silent' });
const deps = adapterDeps(log, '/tmp');
let keys = 0;

describe('intel refresh against the vendor fakes', () => {
  let db: TestDatabase;
  let fake: IntelFake;
  const env = (): Record<string, string> => ({
    PATCHOPS_INTEL_KEV: fake.urls.kev,
    PATCHOPS_INTEL_EPSS: fake.urls.epss,
    PATCHOPS_INTEL_NVD: fake.urls.nvd,
    PATCHOPS_INTEL_NVD_WINDOW_MS: '1000',
    PATCHOPS_INTEL_DEBIAN: fake.urls.debian,
  });
  const loader = (source: IntelSourceName, extra: Record<string, string> = {}): IntelLoader => {
    const r = intelRegistry.parseSettings(source, { ...env(), ...extra });
    assert.ok(r.ok, JSON.stringify(r));
    return intelRegistry.create(source, r.settings, deps);
  };
  const refresh = (source: IntelSourceName, o: { key?: string; loader?: IntelLoader } = {}) =>
    refreshIntelSource({
      source,
      loader: o.loader ?? loader(source),
      intel: db.store.intel,
      audit: db.store.audit,
      refreshKey: o.key ?? `test-${++keys}:${source}`,
      actor: 'test',
      log,
    });
  const status = async (source: IntelSourceName) =>
    (await db.store.intel.status()).find((s) => s.source === source);

  before(async () => {
    db = await createTestDatabase();
  });
  beforeEach(async () => {
    await fake?.close();
    fake = await startIntelFake({ nvdWindowMs: 1000 });
    for (const t of [
      'intel_sources',
      'intel_refreshes',
      'intel_kev',
      'intel_epss',
      'intel_nvd',
      'intel_debian',
    ])
      await db.pool.query(`delete from ${t}`);
  });
  after(async () => {
    await fake.close();
    await db.drop();
  });

  it('stores every source with its fetch time, URL and record count', async () => {
    const started = Date.now();
    for (const s of ['kev', 'epss', 'nvd', 'debian'] as const) await refresh(s);
    const rows = await db.store.intel.status();
    assert.deepEqual(Object.fromEntries(rows.map((r) => [r.source, r.records])), {
      debian: 10,
      epss: 9,
      kev: 4,
      nvd: 6,
    });
    for (const r of rows) {
      assert.ok(r.fetchedAt && r.fetchedAt.getTime() >= started - 1000, `${r.source} fetch time`);
      assert.equal(r.lastError, null);
    }
    assert.equal((await status('kev'))?.sourceUrl, fake.urls.kev);
    assert.equal((await status('kev'))?.version, '2025.08.21');
    assert.equal((await status('epss'))?.version, 'v2025.03.14 2025-08-25');
    // The "current" EPSS file redirects to the dated one, as the real host does.
    assert.equal(fake.server.requestsTo('GET', /^\/epss_scores-2025-08-25\.csv$/).length, 1);
  });

  it('a second refresh of the same data changes nothing; a retried one returns the first result', async () => {
    const first = await refresh('kev', { key: 'run-1:kev' });
    const before = (await db.pool.query('select * from intel_kev order by cve_id')).rows;
    const second = await refresh('kev');
    assert.deepEqual(second.added, []);
    assert.equal(second.records, 4);
    assert.deepEqual((await db.pool.query('select * from intel_kev order by cve_id')).rows, before);
    fake.state.kev = JSON.parse(fixture('kev-2025.08.25.json'));
    const retried = await refresh('kev', { key: 'run-1:kev' });
    assert.equal(retried.replayed, true);
    assert.equal(retried.records, first.records, 'the retry did not load the newer catalog');
    assert.equal((await status('kev'))?.records, 4);
  });

  it('reports the CVEs a refresh newly added to KEV, and writes them to the audit trail', async () => {
    const baseline = await refresh('kev');
    assert.deepEqual(baseline.added, [], 'the first catalog is a baseline, not 1,500 emergencies');
    fake.state.kev = JSON.parse(fixture('kev-2025.08.25.json'));
    const r = await refresh('kev', { key: 'sched-7:kev' });
    assert.deepEqual(r.added, ['CVE-2024-8068', 'CVE-2024-8069', 'CVE-2025-48384']);
    assert.equal(r.records, 7);
    const audit = await db.store.audit.listBySubject('intel', 'kev');
    const added = audit.filter((e) => e.action === 'intel.kev.added');
    assert.equal(added.length, 1);
    assert.deepEqual(added[0]!.data, {
      cves: ['CVE-2024-8068', 'CVE-2024-8069', 'CVE-2025-48384'],
    });
    // A retried activity (same key) reports the same list and writes no second event.
    const again = await refresh('kev', { key: 'sched-7:kev' });
    assert.deepEqual(again.added, r.added);
    assert.equal(
      (await db.store.audit.listBySubject('intel', 'kev')).filter(
        (e) => e.action === 'intel.kev.added',
      ).length,
      1,
    );
    assert.deepEqual((await db.store.intel.kevAddedSince(baseline.fetchedAt)).sort(), [
      'CVE-2024-8068',
      'CVE-2024-8069',
      'CVE-2025-48384',
    ]);
    // A CVE CISA removes leaves the stored catalog too.
    fake.state.kev = JSON.parse(fixture('kev-2025.08.21.json'));
    assert.deepEqual((await refresh('kev')).added, []);
    assert.equal((await db.store.intel.lookup(['CVE-2024-8068'])).size, 0);
  });

  it('a bad download changes nothing and is reported', async () => {
    for (const s of ['kev', 'epss', 'debian'] as const) await refresh(s);
    const before = await db.store.intel.status();
    const kevRows = (await db.pool.query('select * from intel_kev order by cve_id')).rows;

    fake.state.kev = fixture('kev-2025.08.25.json').slice(0, 3000); // cut off mid-download
    await assert.rejects(
      refresh('kev'),
      (e: Error & { code?: string }) => e.code === 'INTEL_FORMAT' && /not JSON/.test(e.message),
    );
    fake.state.epssCsv = fixture('epss_scores-2025-08-25.csv').replace(
      'CVE-2024-3400,0.94262',
      'CVE-2024-3400,',
    );
    await assert.rejects(refresh('epss'), /line 7: epss: expected a number/);
    fake.server.fault({ path: /^\/tracker\/data\/json$/, status: 404 });
    await assert.rejects(
      refresh('debian'),
      (e: Error & { code?: string }) =>
        e.code === 'INTEL_UNAVAILABLE' && /HTTP 404/.test(e.message),
    );

    assert.deepEqual(
      (await db.pool.query('select * from intel_kev order by cve_id')).rows,
      kevRows,
    );
    const after = await db.store.intel.status();
    for (const b of before) {
      const a = after.find((x) => x.source === b.source)!;
      assert.equal(a.records, b.records, `${b.source} records unchanged`);
      assert.deepEqual(a.fetchedAt, b.fetchedAt, `${b.source} fetch time unchanged`);
      assert.ok(a.lastError, `${b.source} failure noted for doctor`);
    }
    assert.equal(
      (await db.pool.query<{ n: number }>('select count(*)::int n from intel_epss')).rows[0]!.n,
      9,
    );
  });

  it('lookup merges the sources per CVE with the right CVSS metric', async () => {
    for (const s of ['kev', 'epss', 'nvd', 'debian'] as const) await refresh(s);
    const m = await db.store.intel.lookup([
      'CVE-2024-3400',
      'CVE-2023-4966',
      'cve-2025-38236',
      'CVE-2016-5195',
      'CVE-1900-0001',
    ]);
    assert.deepEqual([...m.keys()].sort(), [
      'CVE-2016-5195',
      'CVE-2023-4966',
      'CVE-2024-3400',
      'CVE-2025-38236',
    ]);
    const pan = m.get('CVE-2024-3400')!;
    assert.deepEqual(pan.kev, {
      dateAdded: '2024-04-12',
      dueDate: '2024-04-19',
      knownRansomwareCampaignUse: 'Known',
      vendorProject: 'Palo Alto Networks',
      product: 'PAN-OS',
      cwes: ['CWE-20', 'CWE-77'],
    });
    assert.deepEqual(pan.epss, { score: 0.94262, percentile: 0.99934, date: '2025-08-25' });
    assert.equal(pan.cvss?.version, '4.0', 'v4.0 over v3.1 even when only a CNA scored it');
    assert.equal(pan.cvss?.type, 'Secondary');
    assert.deepEqual(m.get('CVE-2023-4966')!.cvss, {
      version: '3.1',
      baseScore: 7.5,
      vectorString: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N',
      type: 'Primary',
      source: 'nvd@nist.gov',
    });
    assert.equal(m.get('CVE-2016-5195')!.cvss?.version, '3.0');
    assert.deepEqual(m.get('CVE-2016-5195')!.debian, [
      {
        package: 'linux',
        releases: {
          bookworm: { status: 'resolved', fixedVersion: '4.8.5-1', urgency: 'not yet assigned' },
          trixie: { status: 'resolved', fixedVersion: '4.8.5-1', urgency: 'not yet assigned' },
        },
      },
    ]);
    const open = m.get('CVE-2025-38236')!;
    assert.equal(open.kev, undefined);
    assert.deepEqual(open.debian?.[0]?.releases.bookworm, {
      status: 'open',
      urgency: 'not yet assigned',
    });
  });

  it('pages NVD, keeps to its rate limit (a 403 is waited out) and then syncs incrementally', async () => {
    // The fake's window (1.5 s) is longer than the loader believes (1 s), so with one CVE per
    // page the sixth request meets NIST's 403, which the client waits out and retries.
    fake.state.nvdWindowMs = 1500;
    const onePerPage = createNvdLoader({ kind: 'url', url: fake.urls.nvd }, deps, {
      windowMs: 1000,
      resultsPerPage: 1,
    });
    const r = await refresh('nvd', { loader: onePerPage });
    assert.equal(r.records, 6);
    const calls = fake.server.requestsTo('GET', /\/rest\/json\/cves\/2\.0$/);
    assert.deepEqual(
      calls.filter((c) => c.status === 200).map((c) => c.query.startIndex),
      ['0', '1', '2', '3', '4', '5'],
    );
    assert.equal(calls[0]!.query.lastModStartDate, undefined, 'the first load is a full one');
    assert.ok(fake.nvdRefused() >= 1, 'the fake refused at least one request with 403');
    assert.ok(calls.filter((c) => c.status === 403).length >= 1);

    // NVD changes one CVE; the next refresh asks only for the window since the last one.
    const changed = fake.state.nvd.find((v) => v.cve.id === 'CVE-2025-43300')! as unknown as {
      cve: { lastModified: string; metrics: Record<string, unknown> };
    };
    changed.cve.lastModified = new Date().toISOString().slice(0, 23);
    changed.cve.metrics = {
      cvssMetricV31: [
        {
          source: 'nvd@nist.gov',
          type: 'Primary',
          cvssData: {
            version: '3.1',
            baseScore: 8.8,
            vectorString: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H',
          },
        },
      ],
    };
    const before = fake.server.requests.length;
    const inc = await refresh('nvd');
    const q = fake.server.requests.slice(before).find((x) => x.path.endsWith('/cves/2.0'))!.query;
    assert.ok(q.lastModStartDate && q.lastModEndDate, 'an incremental window');
    assert.equal(inc.records, 6, 'merged, not replaced');
    assert.equal(
      (await db.store.intel.lookup(['CVE-2025-43300'])).get('CVE-2025-43300')?.cvss?.baseScore,
      8.8,
    );
  });

  it('sends the NVD API key and says which variable is wrong when NVD refuses it', async () => {
    fake.state.nvdValidKeys = ['good-key'];
    await refresh('nvd', { loader: loader('nvd', { PATCHOPS_INTEL_NVD_API_KEY: 'good-key' }) });
    assert.equal(fake.server.requests.at(-1)!.headers.apikey, 'good-key');
    await assert.rejects(
      refresh('nvd', { loader: loader('nvd', { PATCHOPS_INTEL_NVD_API_KEY: 'wrong-key' }) }),
      (e: Error) =>
        /PATCHOPS_INTEL_NVD_API_KEY/.test(e.message) && !e.message.includes('wrong-key'),
    );
  });

  it('loads EPSS from the API too, page by page', async () => {
    const r = await refresh('epss', {
      loader: loader('epss', {
        PATCHOPS_INTEL_EPSS: fake.urls.epssApi,
        PATCHOPS_INTEL_EPSS_PAGE_SIZE: '4',
      }),
    });
    assert.equal(r.records, 9);
    const pages = fake.server.requestsTo('GET', /^\/data\/v1\/epss$/);
    assert.deepEqual(
      pages.map((p) => p.query.offset),
      ['0', '4', '8'],
    );
    assert.equal(
      (await db.store.intel.lookup(['CVE-2021-44228'])).get('CVE-2021-44228')?.epss?.score,
      0.94358,
    );
  });

  it('doctor warns about a stale source and shows the NVD notice', async () => {
    for (const s of ['kev', 'epss', 'nvd'] as const) await refresh(s);
    await db.pool.query(
      `update intel_sources set fetched_at = now() - interval '3 days' where source = 'kev'`,
    );
    const config = loadConfig({
      ...env(),
      PATCHOPS_INTEL_DEBIAN: 'off',
      PATCHOPS_DATA_DIR: '/tmp/ptmp-intel',
    });
    const checks = await intelChecks(config, db.url);
    const by = Object.fromEntries(checks.map((c) => [c.part, c]));
    assert.equal(by['intel:kev']!.state, 'warn');
    assert.match(
      by['intel:kev']!.detail,
      /^stale: 4 records, refreshed 3d ago from .* \(older than 2d\): run `patchops intel refresh --source kev`/,
    );
    assert.equal(by['intel:epss']!.state, 'ok');
    assert.match(by['intel:epss']!.detail, /^9 records, refreshed \d+s ago/);
    assert.equal(by['intel:nvd']!.state, 'ok');
    assert.match(
      by['intel:nvd']!.detail,
      /This product uses the NVD API but is not endorsed or certified by the NVD\./,
    );
    assert.deepEqual(by['intel:debian'], {
      part: 'intel:debian',
      state: 'ok',
      detail: 'off (PATCHOPS_INTEL_DEBIAN=off)',
    });
    await db.pool.query(`delete from intel_sources where source = 'epss'`);
    assert.match(
      (await intelChecks(config, db.url)).find((c) => c.part === 'intel:epss')!.detail,
      /^never refreshed/,
    );
  });
});
