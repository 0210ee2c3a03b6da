/**
 * The emergency path end to end: a CVE newly listed in the (fake) CISA KEV feed that the
 * scanned fleet still misses starts one emergency rollout per affected client, of exactly
 * the devices and patches that CVE needs; it waits for two different approvers (the same
 * person twice does not count); a second request for it finds the first.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { pino } from 'pino';
import { intelRegistry } from '../../adapters/intel/registry.js';
import { adapterDeps } from '../../adapters/kit.js';
import { startEmergency } from '../../bot/commands/emergency.js';
import { emergencyRolloutId } from '../../domain/emergency.js';
import type { clientScan, intelRefresh, patchCycle } from '../../workflows/index.js';
import { decideUpdate, progressQuery } from '../../workflows/messages.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { policy, testDeps } from '../helpers/deps.js';
import { connectTemporal, type TemporalHarness } from '../helpers/temporal.js';
import { fixture, startIntelFake, type IntelFake } from '../fakes/intel/index.js';

const POLICY = policy(`
scope: { level: global }
approval: { default: needs_approval }
rings:
  - { name: pilot, members: { percent: 50 }, soak: 1h, successThreshold: 0.5, concurrency: 5, promotion: manual }
  - { name: broad, members: { percent: 50 }, soak: 1h, successThreshold: 0.5, concurrency: 5 }
windows:
  - { name: sunday-night, rule: { weekly: { days: [sun] } }, start: "03:00", duration: 1m, timezone: UTC }
approvers: { cli: [alice, bob] }
approvalTimeout: { after: 1h, remindEvery: 30m, outcome: reject }
circuitBreaker: { maxFailureRate: 1, minSamples: 1000 }
reboot: { mode: never, userDeferrals: 0 }
emergency: { approvals: 2, approvalTimeout: 30m, soak: 0s, bypassWindows: true }
`);

interface KevCatalog {
  count: number;
  vulnerabilities: Array<Record<string, unknown> & { cveID: string }>;
}

describe('the emergency path', () => {
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

  it('a KEV addition starts one emergency rollout of exactly the affected devices; two different approvers', async () => {
    const kev = intelRegistry.parseSettings('kev', { PATCHOPS_INTEL_KEV: fake.urls.kev });
    assert.ok(kev.ok);
    const deps = {
      ...testDeps(db.store, {
        policies: [POLICY],
        simulator: { clients: 2, devicesPerClient: 12, knownBadPatch: false, offlineRate: 0 },
      }),
      intel: {
        kev: intelRegistry.create(
          'kev',
          kev.settings,
          adapterDeps(pino({ level: 'silent' }), '/tmp'),
        ),
      },
    };
    const clients = (await deps.rmm.listClients()).map((c) => c.id);
    await t.withWorker(deps, async () => {
      for (const clientId of clients)
        await t.client.workflow.execute<typeof clientScan>('clientScan', {
          taskQueue: t.taskQueue,
          workflowId: `scan-${clientId}-${t.taskQueue}`,
          args: [{ clientId }],
        });
      // A CVE some devices of the first client miss (not all, so "exactly" means something).
      const pick = await db.pool.query<{ cve: string }>(
        `select cve from (
           select unnest(p.cve_ids) as cve, count(distinct dp.device_id) as n
           from device_patches dp join patches p on p.id = dp.patch_id
           join devices d on d.id = dp.device_id
           where dp.state = 'missing' and d.client_id = $1 group by 1) x
         where n > 0 and n < (select count(*) from devices where client_id = $1)
         order by n desc, cve limit 1`,
        [clients[0]],
      );
      const cve = pick.rows[0]?.cve;
      assert.ok(cve, 'the simulated fleet has a CVE missing on some devices');
      const expected = await db.pool.query<{ client_id: string; device_id: string }>(
        `select distinct d.client_id, dp.device_id from device_patches dp
         join patches p on p.id = dp.patch_id join devices d on d.id = dp.device_id
         where $1 = any(p.cve_ids) and dp.state = 'missing' order by 1, 2`,
        [cve],
      );

      const refresh = (id: string) =>
        t.client.workflow.execute<typeof intelRefresh>('intelRefresh', {
          taskQueue: t.taskQueue,
          workflowId: `${id}-${t.taskQueue}`,
          args: [{ sources: ['kev'] }],
        });
      const baseline = JSON.parse(fixture('kev-2025.08.21.json')) as KevCatalog;
      fake.state.kev = baseline;
      assert.deepEqual((await refresh('kev-1')).kevAdded, []);
      // CISA lists the CVE: the next daily refresh finds it.
      const listed: KevCatalog = {
        ...baseline,
        count: baseline.count + 1,
        vulnerabilities: [
          ...baseline.vulnerabilities,
          {
            ...baseline.vulnerabilities[0]!,
            cveID: cve,
            dateAdded: '2026-12-06',
            dueDate: '2026-12-27',
          },
        ],
      };
      fake.state.kev = listed;
      const second = await refresh('kev-2');
      assert.deepEqual(second.kevAdded, [cve]);
      const affected = [...new Set(expected.rows.map((r) => r.client_id))];
      assert.deepEqual(
        second.emergencies?.map((e) => [e.clientId, e.rolloutId, e.started]),
        affected.map((c) => [c, emergencyRolloutId(c, cve), true]),
      );

      const id = emergencyRolloutId(clients[0]!, cve);
      const handle = t.client.workflow.getHandle<typeof patchCycle>(id);
      for (
        let i = 0;
        i < 300 && (await handle.query(progressQuery)).phase !== 'awaiting_approval';
        i++
      )
        await new Promise((r) => setTimeout(r, 100));
      assert.equal((await handle.query(progressQuery)).phase, 'awaiting_approval');
      // Exactly the devices that miss the CVE's fix, and only its patches.
      const planned = await db.pool.query<{ device_id: string }>(
        `select device_id from rollout_devices where rollout_id = $1 order by 1`,
        [id],
      );
      assert.deepEqual(
        planned.rows.map((r) => r.device_id),
        expected.rows.filter((r) => r.client_id === clients[0]).map((r) => r.device_id),
      );
      const patches = await db.pool.query<{ ok: boolean }>(
        `select bool_and($2 = any(p.cve_ids)) as ok from rollout_patches rp join patches p on p.id = rp.patch_id
         where rp.rollout_id = $1`,
        [id, cve],
      );
      assert.equal(patches.rows[0]?.ok, true, 'only patches that fix the CVE');

      // A technician asking again finds the same rollout.
      const again = await startEmergency(
        { temporal: t.client, taskQueue: t.taskQueue, store: db.store },
        { cve, clientId: clients[0], source: 'cli', actor: 'cli:alice', mayStart: () => true },
      );
      assert.deepEqual(
        again.rollouts.map((r) => [r.rolloutId, r.started]),
        [[id, false]],
      );

      const approve = (who: string) =>
        handle.executeUpdate(decideUpdate, {
          args: [{ decision: 'approve', approver: { id: who, via: 'cli' }, reason: 'zero-day' }],
        });
      const first = await approve('alice');
      assert.equal(first.status, 'awaiting_approval', 'one approval of two');
      await assert.rejects(
        approve('alice'),
        (err: Error) =>
          err instanceof WorkflowUpdateFailedError && /already approved/.test(String(err.cause)),
      );
      assert.equal((await handle.query(progressQuery)).phase, 'awaiting_approval');
      await approve('bob');
      // Windows bypassed, no soak, no promotion wait: every device deploys now.
      const state = await handle.result();
      assert.equal(state.phase, 'completed', JSON.stringify(state.rings));
      assert.equal(
        state.rings.reduce((n, r) => n + r.started, 0),
        planned.rows.length,
      );
      assert.deepEqual(
        (await db.store.records.approvals(id)).map((a) => a.decidedBy),
        ['cli:alice', 'cli:bob'],
      );
    });
  });
});
