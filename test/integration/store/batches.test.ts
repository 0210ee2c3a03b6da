import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verifyAuditChains } from '../../../store/audit.js';
import { seedComplianceFleet } from '../../helpers/compliance-fleet.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';

/**
 * The batched engine's writes (store/batches.ts, the bulk claims and audit appends): each
 * is one statement or transaction for a whole batch, and each repeats safely.
 */
describe('batch store (store/batches.ts)', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
    await seedComplianceFleet(db.store, new Date());
    await db.store.pool.query(
      `insert into rollouts (id, client_id, status, started_by) values ('r2', 'acme', 'deploying', 'test')`,
    );
    await db.store.rollouts.savePlan(
      'r2',
      [{ patchId: 'pC', decision: 'auto', reason: 'test', riskTier: 'act', dueAt: null }],
      ['d1', 'd2', 'd3', 'd4'].map((deviceId) => ({
        deviceId,
        ringIndex: 0,
        ring: 'all',
        patchIds: ['pC'],
      })),
    );
    await db.store.pool.query(
      `insert into device_patches (device_id, patch_id, state) values ('d2', 'pC', 'missing'), ('d3', 'pC', 'missing')
       on conflict do nothing`,
    );
  });
  after(async () => db.drop());

  const statuses = async () =>
    Object.fromEntries(
      (
        await db.store.pool.query<{ device_id: string; status: string }>(
          `select device_id, status from rollout_devices where rollout_id = 'r2' order by 1`,
        )
      ).rows.map((r) => [r.device_id, r.status]),
    );
  const pairState = async (device: string) =>
    (
      await db.store.pool.query<{ state: string }>(
        `select state from device_patches where device_id = $1 and patch_id = 'pC'`,
        [device],
      )
    ).rows[0]?.state;
  const events = async (action: string) =>
    (
      await db.store.pool.query<{ subject_id: string }>(
        `select subject_id from audit_events where rollout_id = 'r2' and action = $1 order by 1`,
        [action],
      )
    ).rows.map((r) => r.subject_id);

  it('forms batches in device id order, the same batch again for the same call', async () => {
    const first = { rolloutId: 'r2', ringIndex: 0, after: null, limit: 2, batch: 1 };
    assert.deepEqual(await db.store.batches.form(first), { size: 2, lastDeviceId: 'd2' });
    assert.deepEqual(await db.store.batches.form(first), { size: 2, lastDeviceId: 'd2' });
    assert.deepEqual(await db.store.batches.form({ ...first, after: 'd2', batch: 2 }), {
      size: 2,
      lastDeviceId: 'd4',
    });
    assert.deepEqual(await db.store.batches.form({ ...first, after: 'd4', batch: 3 }), {
      size: 0,
      lastDeviceId: null,
    });
    const b1 = await db.store.batches.devices('r2', 1);
    assert.deepEqual(
      b1.map((d) => [d.deviceId, d.patchIds, d.timezone, d.status]),
      [
        ['d1', ['pC'], 'UTC', 'pending'],
        ['d2', ['pC'], 'UTC', 'pending'],
      ],
    );
  });

  it('saves steps with their statuses, pair states and one audit event each, however often', async () => {
    const step = [
      {
        deviceId: 'd2',
        status: 'deploying' as const,
        progress: { step: 'job' as const, jobId: 'j2' },
      },
      { deviceId: 'd3', status: 'offline' as const, progress: { attempts: 1, nextAt: 5 } },
    ];
    const key = (u: { deviceId: string; status?: string }) => `r2:${u.deviceId}:${u.status}`;
    await db.store.batches.saveSteps('r2', step, key);
    await db.store.batches.saveSteps('r2', step, key);
    const s = await statuses();
    assert.equal(s.d2, 'deploying');
    assert.equal(s.d3, 'offline');
    assert.equal(await pairState('d2'), 'installing');
    assert.equal(await pairState('d3'), 'missing', 'offline changes no pair');
    assert.deepEqual(await events('device.deploying'), ['d2']);
    const d2 = (await db.store.batches.devices('r2', 1)).find((d) => d.deviceId === 'd2');
    assert.deepEqual(d2?.progress, { step: 'job', jobId: 'j2' });
  });

  it('records outcomes like recordDeviceOutcome: rows, pairs, released pairs, one audit event each', async () => {
    const results = [
      {
        deviceId: 'd2',
        outcome: 'succeeded' as const,
        installed: ['pC'],
        failed: [],
        pendingReboot: [],
      },
      {
        deviceId: 'd1',
        outcome: 'failed' as const,
        installed: [],
        failed: ['pC'],
        pendingReboot: [],
        reason: 'exit code 100',
      },
    ];
    await db.store.batches.recordOutcomes('r2', results);
    await db.store.batches.recordOutcomes('r2', results);
    const s = await statuses();
    assert.equal(s.d1, 'failed');
    assert.equal(s.d2, 'succeeded');
    assert.equal(await pairState('d2'), 'installed');
    const d1 = await db.store.pool.query<{ state: string; last_error: string }>(
      `select state, last_error from device_patches where device_id = 'd1' and patch_id = 'pC'`,
    );
    assert.deepEqual(d1.rows[0], { state: 'failed', last_error: 'exit code 100' });
    assert.deepEqual(await events('device.succeeded'), ['d2']);
    assert.deepEqual(await events('device.failed'), ['d1']);
    assert.deepEqual(await db.store.batches.counts('r2', 1), {
      succeeded: 1,
      failed: 1,
      skipped: 0,
      cancelled: 0,
      open: 0,
    });
  });

  it('ends the open devices of a batch, and only those', async () => {
    const open = await db.store.batches.openDevices('r2', 0, 2);
    assert.deepEqual(
      open.map((d) => d.deviceId),
      ['d3', 'd4'],
    );
    assert.deepEqual(await db.store.batches.openDevices('r2', 0, 1), []);
  });

  it('claims many writes at once: new, then recheck, then done with the result', async () => {
    const keys = [
      { key: 'k1', what: 'rmm.deploy' },
      { key: 'k2', what: 'rmm.deploy' },
    ];
    const first = await db.store.claims.claimMany(keys, 'r2');
    assert.deepEqual(
      [...first.values()].map((c) => c.state),
      ['new', 'new'],
    );
    await db.store.claims.completeMany([{ key: 'k1', result: 'job-1' }]);
    const again = await db.store.claims.claimMany(keys, 'r2');
    assert.deepEqual(again.get('k1'), {
      state: 'done',
      since: first.get('k1')!.since,
      result: 'job-1',
    });
    assert.equal(again.get('k2')?.state, 'recheck');
    // The single-key form agrees.
    assert.equal((await db.store.claims.claim('k1', 'rmm.deploy')).state, 'done');
  });

  it('leaves every audit chain intact', async () => {
    const reports = await verifyAuditChains(db.store.pool);
    assert.ok(reports.length > 0);
    for (const r of reports)
      assert.equal(r.problem, undefined, `${r.chain}: ${JSON.stringify(r.problem)}`);
  });
});
