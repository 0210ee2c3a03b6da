import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ComplianceKpis } from '../../../store/index.js';
import { seedComplianceFleet } from '../../helpers/compliance-fleet.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';

const T = new Date('2026-12-01T00:00:00Z');
const DAY = 86_400_000;

/** Rounds the fractional KPIs so hand-written thirds compare. */
function rounded(k: ComplianceKpis): ComplianceKpis {
  const r = (x: number | null) => (x === null ? null : Math.round(x * 10_000) / 10_000);
  return {
    ...k,
    complianceRate: r(k.complianceRate),
    meanHoursToPatch: r(k.meanHoursToPatch),
    meanOpenAgeDays: r(k.meanOpenAgeDays),
    kevWithinSla: r(k.kevWithinSla),
    criticalWithinSla: r(k.criticalWithinSla),
  };
}

describe('compliance KPIs (numbers worked out by hand; see test/helpers/compliance-fleet.ts)', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
    await seedComplianceFleet(db.store, T);
  });
  after(async () => db.drop());

  it('per client and site over the default 30-day window', async () => {
    const rows = (await db.store.compliance.kpis({ asOf: T })).map(rounded);
    assert.deepEqual(rows, [
      {
        clientId: 'acme',
        siteId: null,
        managedDevices: 4,
        // d1 has pC open past its due date (t−6d); d2, d3, d4 have nothing overdue: 3 of 4.
        compliantDevices: 3,
        complianceRate: 0.75,
        // installed inside (t−30d, t]: d1 pK 48 h, d2 pK 144 h (d4 pC at t−42d is outside) → 96.
        meanHoursToPatch: 96,
        // open: d1 pC 11 d, d2 pL 5 d, d3 pK 10 d, d4 pL 30 d → 56 / 4 = 14 (d3 pL is excluded).
        meanOpenAgeDays: 14,
        // every pair but d3 pL (excluded)
        applicablePairs: 7,
        openVulnerabilities: 4,
        // d3 pK is open and KEV-listed (failed is open).
        openKev: 1,
        failedPatches: 1,
        // KEV pairs settled in the window: d1 pK on time, d2 pK 3 days late; d3 pK not due yet → 1/2.
        kevWithinSla: 0.5,
        // forensic/act tiers settled: d1 pK on time, d2 pK late, d1 pC due t−6d still open → 1/3.
        criticalWithinSla: 0.3333,
        // d1 pC is the one open pair past due (d4 pL has no due date, d3 pK is due at t+12h).
        slaBreaches: 1,
        // d2 waits for a reboot.
        rebootsPending: 1,
      },
      {
        clientId: 'acme',
        siteId: 's1',
        managedDevices: 3,
        compliantDevices: 2, // d2, d3
        complianceRate: 0.6667,
        meanHoursToPatch: 96, // (48 + 144) / 2
        meanOpenAgeDays: 8.6667, // (11 + 5 + 10) / 3
        applicablePairs: 5,
        openVulnerabilities: 3,
        openKev: 1,
        failedPatches: 1,
        kevWithinSla: 0.5,
        criticalWithinSla: 0.3333,
        slaBreaches: 1,
        rebootsPending: 1,
      },
      {
        clientId: 'acme',
        siteId: 's2',
        managedDevices: 1,
        compliantDevices: 1, // d4 pL has no due date, so it is never overdue
        complianceRate: 1,
        meanHoursToPatch: null, // d4 pC was installed at t−42d, before the window
        meanOpenAgeDays: 30, // d4 pL
        applicablePairs: 2,
        openVulnerabilities: 1,
        openKev: 0,
        failedPatches: 0,
        kevWithinSla: null,
        criticalWithinSla: null, // d4 pC installed and due before the window: not settled in it
        slaBreaches: 0,
        rebootsPending: 0,
      },
      {
        clientId: 'beta',
        siteId: null,
        managedDevices: 1,
        compliantDevices: 0, // b1 pK was due at t−12h
        complianceRate: 0,
        meanHoursToPatch: null,
        meanOpenAgeDays: 1,
        applicablePairs: 1,
        openVulnerabilities: 1,
        openKev: 1,
        failedPatches: 0,
        kevWithinSla: 0, // due in the window, not installed: settled, late
        criticalWithinSla: null, // beta has no rollout, so b1 pK has no tier (acme's r1 is not beta's)
        slaBreaches: 1,
        rebootsPending: 0,
      },
      {
        clientId: 'beta',
        siteId: 'b',
        managedDevices: 1,
        compliantDevices: 0,
        complianceRate: 0,
        meanHoursToPatch: null,
        meanOpenAgeDays: 1,
        applicablePairs: 1,
        openVulnerabilities: 1,
        openKev: 1,
        failedPatches: 0,
        kevWithinSla: 0,
        criticalWithinSla: null,
        slaBreaches: 1,
        rebootsPending: 0,
      },
    ]);
  });

  it('a later window start leaves out what settled before it; the client filter keeps one client', async () => {
    const [total] = (
      await db.store.compliance.kpis({
        asOf: T,
        since: new Date(T.getTime() - 17 * DAY),
        clientId: 'acme',
      })
    ).map(rounded);
    assert.ok(total);
    assert.equal(total.siteId, null);
    // Only d2 pK (installed t−15d) is inside (t−17d, t]: 144 h.
    assert.equal(total.meanHoursToPatch, 144);
    // KEV: d2 pK (late) only; d1 pK was installed and due before t−17d → 0/1.
    assert.equal(total.kevWithinSla, 0);
    // critical: d2 pK late, d1 pC due t−6d still open → 0/2.
    assert.equal(total.criticalWithinSla, 0);
    // Point-in-time numbers do not depend on the window.
    assert.equal(total.complianceRate, 0.75);
    assert.equal(total.slaBreaches, 1);
  });

  it('daily snapshots are stored once per day and read back as history', async () => {
    assert.equal(await db.store.compliance.takeSnapshots({ asOf: T }), 5);
    assert.equal(await db.store.compliance.takeSnapshots({ asOf: T }), 5);
    await db.store.compliance.takeSnapshots({ asOf: new Date(T.getTime() - DAY) });
    const totals = await db.store.compliance.history({ clientId: 'acme' });
    assert.deepEqual(
      totals.map((s) => [s.day, s.siteId, s.complianceRate, s.openKev]),
      [
        ['2026-11-30', null, 0.75, 1],
        ['2026-12-01', null, 0.75, 1],
      ],
    );
    const count = await db.pool.query<{ n: number }>(
      `select count(*)::int as n from compliance_snapshots`,
    );
    // Two days × (2 client totals + 3 sites).
    assert.equal(count.rows[0]?.n, 10);
    const since = await db.store.compliance.history({ since: T, site: 'all' });
    assert.deepEqual(
      since.map((s) => `${s.clientId}/${s.siteId ?? '*'}`),
      ['acme/*', 'acme/s1', 'acme/s2', 'beta/*', 'beta/b'],
    );
  });

  it('snapshot() keeps the per-site rows `/patch report` prints', async () => {
    const rows = await db.store.compliance.snapshot('acme');
    assert.deepEqual(
      rows.map((r) => [r.siteId, r.devices, r.failed, r.pendingReboot]),
      [
        ['s1', 3, 1, 1],
        ['s2', 1, 0, 0],
      ],
    );
  });
});
