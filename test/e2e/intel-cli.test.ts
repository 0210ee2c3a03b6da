import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { cliEnv, runCli, scratchDir } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { INTEL_FIXTURES } from '../fakes/intel/index.js';
import { connectTemporal, temporalAddress } from '../helpers/temporal.js';

describe('patchops intel refresh from local files (a site without internet)', () => {
  let db: TestDatabase;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  before(async () => {
    db = await createTestDatabase();
    dir = scratchDir('intel-cli');
    env = cliEnv({
      DATABASE_URL: db.url,
      PATCHOPS_DATA_DIR: dir,
      PATCHOPS_INTEL_KEV: path.join(INTEL_FIXTURES, 'kev-2025.08.21.json'),
      PATCHOPS_INTEL_NVD: 'off',
    });
  });
  after(async () => {
    await db.drop();
  });

  it('loads the KEV catalog named by PATCHOPS_INTEL_KEV and a gzipped EPSS file given with --file', async () => {
    const kev = await runCli(['intel', 'refresh', '--source', 'kev'], env);
    assert.equal(kev.code, 0, kev.stderr);
    assert.match(kev.stdout, /^kev\s+4 records from .*kev-2025\.08\.21\.json$/m);

    const gz = path.join(dir, 'epss_scores-2025-08-25.csv.gz');
    writeFileSync(
      gz,
      gzipSync(readFileSync(path.join(INTEL_FIXTURES, 'epss_scores-2025-08-25.csv'))),
    );
    const epss = await runCli(['intel', 'refresh', '--source', 'epss', '--file', gz], env);
    assert.equal(epss.code, 0, epss.stderr);
    assert.match(epss.stdout, /^epss\s+9 records from .*epss_scores-2025-08-25\.csv\.gz$/m);
  });

  it('a malformed file fails, names the field and leaves the stored catalog alone', async () => {
    const broken = JSON.parse(
      readFileSync(path.join(INTEL_FIXTURES, 'kev-2025.08.21.json'), 'utf8'),
    ) as {
      vulnerabilities: Record<string, unknown>[];
    };
    broken.vulnerabilities[1]!.dateAdded = '21 Aug 2025';
    const file = path.join(dir, 'kev-broken.json');
    writeFileSync(file, JSON.stringify(broken));
    const count = async () =>
      (await db.pool.query<{ n: number }>('select count(*)::int n from intel_kev')).rows[0]!.n;
    const before = await count();
    const r = await runCli(['intel', 'refresh', '--source', 'kev', '--file', file], env);
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      /kev\s+FAILED: .*vulnerabilities\.1\.dateAdded: expected a date YYYY-MM-DD.*\(stored data unchanged\)/,
    );
    assert.equal(await count(), before);

    const bad = await runCli(['intel', 'refresh', '--source', 'osv'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--source: expected one of kev, epss, nvd, debian, got "osv"/);
  });

  it('`intel schedule` creates, then updates, the daily intel-refresh Temporal Schedule', async () => {
    const t = await connectTemporal();
    const scheduleEnv = {
      ...env,
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_TASK_QUEUE: t.taskQueue,
    };
    try {
      const created = await runCli(['intel', 'schedule'], scheduleEnv);
      assert.equal(created.code, 0, created.stderr);
      assert.match(
        created.stdout,
        /schedule intel-refresh created: every 1d \(offset 5h from midnight UTC\)/,
      );
      const updated = await runCli(['intel', 'schedule', '--every', '12h'], scheduleEnv);
      assert.match(updated.stdout, /schedule intel-refresh updated: every 12h/);
      const d = await t.client.schedule.getHandle('intel-refresh').describe();
      assert.equal(d.action.type, 'startWorkflow');
      assert.equal(d.action.type === 'startWorkflow' && d.action.workflowType, 'intelRefresh');
      assert.equal(d.action.type === 'startWorkflow' && d.action.taskQueue, t.taskQueue);
      assert.deepEqual(
        d.spec.intervals?.map((i) => [i.every, i.offset]),
        [[12 * 3600 * 1000, 5 * 3600 * 1000]],
      );
    } finally {
      await t.client.schedule
        .getHandle('intel-refresh')
        .delete()
        .catch(() => undefined);
      await t.close();
    }
  });
});
