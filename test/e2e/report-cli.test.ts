import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildReport, formatCsv } from '../../cli/commands/report.js';
import { seedComplianceFleet } from '../helpers/compliance-fleet.js';
import { cliEnv, runCli } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const DAY = 86_400_000;
const r2 = (x: number | null) => (x === null ? null : Math.round(x * 100) / 100);

/** `patchops report` on the hand-worked fleet (test/helpers/compliance-fleet.ts) seeded as of now. */
describe('patchops report', () => {
  let db: TestDatabase;
  let env: NodeJS.ProcessEnv;
  let t: Date;
  before(async () => {
    db = await createTestDatabase();
    t = new Date();
    await seedComplianceFleet(db.store, t);
    env = cliEnv({ DATABASE_URL: db.url });
  });
  after(async () => db.drop());

  it('--format json: every number of every row', async () => {
    const r = await runCli(['report', '--format', 'json'], env);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as {
      rows: Array<Record<string, number | string | null>>;
      history: unknown[];
    };
    const rows = report.rows.map((k) =>
      Object.fromEntries(Object.entries(k).map(([f, v]) => [f, typeof v === 'number' ? r2(v) : v])),
    );
    // Same figures as test/integration/compliance/kpis.test.ts derives, rounded to 0.01.
    assert.deepEqual(
      rows.map((k) => [
        k.clientId,
        k.siteId,
        k.managedDevices,
        k.compliantDevices,
        k.complianceRate,
        k.meanHoursToPatch,
        k.meanOpenAgeDays,
        k.openVulnerabilities,
        k.openKev,
        k.failedPatches,
        k.kevWithinSla,
        k.criticalWithinSla,
        k.slaBreaches,
        k.rebootsPending,
      ]),
      [
        ['acme', null, 4, 3, 0.75, 96, 14, 4, 1, 1, 0.5, 0.33, 1, 1],
        ['acme', 's1', 3, 2, 0.67, 96, 8.67, 3, 1, 1, 0.5, 0.33, 1, 1],
        ['acme', 's2', 1, 1, 1, null, 30, 1, 0, 0, null, null, 0, 0],
        ['beta', null, 1, 0, 0, null, 1, 1, 1, 0, 0, null, 1, 0],
        ['beta', 'b', 1, 0, 0, null, 1, 1, 1, 0, 0, null, 1, 0],
      ],
    );
    // Without --since the report reads the stored snapshot; a fleet without one gets today's
    // taken first, so the history holds exactly that day's client totals.
    const today = new Date().toISOString().slice(0, 10);
    assert.deepEqual(
      (report.history as Array<{ clientId: string; day: string }>).map((h) => [h.clientId, h.day]),
      [
        ['acme', today],
        ['beta', today],
      ],
    );
  });

  it('--format table (the default)', async () => {
    const table = await runCli(['report', '--client', 'beta'], env);
    assert.equal(table.code, 0, table.stderr);
    assert.match(
      table.stdout,
      /^beta\s+\(all sites\)\s+1\s+0\s+0\.0%\s+-\s+1\s+1\.0\s+1\s+0\s+0\.0%\s+-\s+1\s+0$/m,
    );
    assert.match(table.stdout, /^beta\s+b\s+1\s+0\s+0\.0%/m);
    assert.doesNotMatch(table.stdout, /acme/);
  });

  it('csv (in process): a header and one line per row, nulls empty', async () => {
    const lines = formatCsv(await buildReport(db.store, { client: 'acme' })).split('\n');
    assert.equal(
      lines[0],
      'asOf,since,clientId,siteId,managedDevices,compliantDevices,complianceRate,meanHoursToPatch,openVulnerabilities,meanOpenAgeDays,openKev,failedPatches,kevWithinSla,criticalWithinSla,slaBreaches,rebootsPending',
    );
    assert.equal(lines.length, 4);
    const cells = lines.slice(1).map((l) => l.split(','));
    assert.deepEqual(
      [cells[0]!.slice(2, 9), cells[0]!.slice(10, 12), cells[0]!.slice(14)],
      [
        ['acme', '', '4', '3', '0.75', '96', '4'],
        ['1', '1'],
        ['1', '1'],
      ],
    );
    assert.deepEqual(cells[2]!.slice(2, 8), ['acme', 's2', '1', '1', '1', '']);
  });

  it('--since narrows the window; an unknown client is an error (in process)', async () => {
    const since = new Date(t.getTime() - 17 * DAY);
    const [total] = (await buildReport(db.store, { client: 'acme', since })).rows;
    // Only d2 pK (installed t−15d) is inside (t−17d, now]: 144 h, KEV 0/1, critical 0/2.
    assert.deepEqual(
      [total?.meanHoursToPatch, total?.kevWithinSla, total?.criticalWithinSla],
      [144, 0, 0],
    );
    await assert.rejects(
      buildReport(db.store, { client: 'nope' }),
      /no devices known for client "nope"/,
    );
  });

  it('bad options are refused, naming each flag', async () => {
    const bad = await runCli(['report', '--format', 'xml', '--since', 'yesterday'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--format must be table, csv or json/);
    assert.match(bad.stderr, /--since must be a date like 2026-11-01/);
  });
});
