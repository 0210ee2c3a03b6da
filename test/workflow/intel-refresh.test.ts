import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { intelRegistry } from '../../adapters/intel/registry.js';
import { adapterDeps } from '../../adapters/kit.js';
import type { intelRefresh } from '../../workflows/index.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { testDeps } from '../helpers/deps.js';
import { connectTemporal, type TemporalHarness } from '../helpers/temporal.js';
import { fixture, startIntelFake, type IntelFake } from '../fakes/intel/index.js';

describe('intelRefresh workflow', () => {
  let db: TestDatabase;
  let t: TemporalHarness;
  let fake: IntelFake;
  before(async () => {
    db = await createTestDatabase();
    t = await connectTemporal();
    fake = await startIntelFake();
  });
  after(async () => {
    await fake.close();
    await t.close();
    await db.drop();
  });

  it('returns the CVEs newly added to KEV, keeps going when one source fails, skips disabled ones', async () => {
    const adapters = adapterDeps(pino({ level: 'silent' }), '/tmp');
    const make = (source: 'kev' | 'epss', url: string) => {
      const r = intelRegistry.parseSettings(source, {
        [`PATCHOPS_INTEL_${source.toUpperCase()}`]: url,
      });
      assert.ok(r.ok);
      return intelRegistry.create(source, r.settings, adapters);
    };
    // NVD and Debian are off in this worker's configuration.
    const deps = {
      ...testDeps(db.store),
      intel: { kev: make('kev', fake.urls.kev), epss: make('epss', fake.urls.epss) },
    };
    const run = (id: string) =>
      t.client.workflow.execute<typeof intelRefresh>('intelRefresh', {
        taskQueue: t.taskQueue,
        workflowId: `${id}-${t.taskQueue}`,
        args: [{}],
      });
    await t.withWorker(deps, async () => {
      const first = await run('intel-refresh-1');
      assert.deepEqual(first.kevAdded, [], 'the first catalog is the baseline');
      assert.deepEqual(
        first.sources.map((s) => [s.source, s.enabled, s.records, s.error]),
        [
          ['kev', true, 4, undefined],
          ['epss', true, 9, undefined],
          ['nvd', false, 0, undefined],
          ['debian', false, 0, undefined],
        ],
      );

      fake.state.kev = JSON.parse(fixture('kev-2025.08.25.json'));
      fake.state.epssCsv =
        '#model_version:v2025.03.14,score_date:2025-08-26T00:00:00Z\nid,score\nCVE-2024-3400,0.9\n';
      const second = await run('intel-refresh-2');
      assert.deepEqual(second.kevAdded, ['CVE-2024-8068', 'CVE-2024-8069', 'CVE-2025-48384']);
      const epss = second.sources.find((s) => s.source === 'epss')!;
      assert.match(epss.error ?? '', /FIRST EPSS .*header: expected "cve,epss,percentile"/);
      assert.equal(
        fake.server.requestsTo('GET', /^\/epss_scores-2025-08-25\.csv$/).length,
        2,
        'a malformed file is not retried',
      );
    });
    const events = await db.store.audit.listBySubject('intel', 'kev');
    const added = events.filter((e) => e.action === 'intel.kev.added');
    assert.equal(added.length, 1);
    assert.deepEqual(added[0]!.data, {
      cves: ['CVE-2024-8068', 'CVE-2024-8069', 'CVE-2025-48384'],
    });
    assert.match(added[0]!.idempotencyKey, /^intel-refresh-2-.*:kev:kev-added$/);
    assert.equal(
      (await db.store.intel.status()).find((s) => s.source === 'epss')?.records,
      9,
      'EPSS kept its scores',
    );
  });
});
