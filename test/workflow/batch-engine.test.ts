import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../../cli/worker.js';
import { RmmError } from '../../adapters/rmm/types.js';
import { createSimulator } from '../../adapters/rmm/simulator/index.js';
import type { patchCycle } from '../../workflows/index.js';
import { policy, testDeps } from '../helpers/deps.js';
import { rolloutSuite } from '../helpers/rollout-suite.js';

/**
 * The batched engine's own promises (workflows/batch-ring.ts): Temporal work that grows
 * with batches, not devices; the per-device engine still there for running histories and
 * the bench; a batch the RMM refuses for good ends its devices as failed with the cause.
 */
const oneRing = (concurrency: number) =>
  policy(`
scope: { level: global }
approval: { default: auto }
rings:
  - { name: all, members: { percent: 100 }, soak: 0s, successThreshold: 0, concurrency: ${concurrency} }
windows: []
circuitBreaker: { maxFailureRate: 1, minSamples: 1000 }
reboot: { mode: if_required, userDeferrals: 0 }
`);
const fleet = {
  clients: 1,
  devicesPerClient: 45,
  offlineRate: 0,
  knownBadPatch: false,
  failureRate: { perPatch: 0, perDevice: 0 },
};

/**
 * How often each kind of event occurs in a history, by its attributes' name (e.g.
 * `startChildWorkflowExecutionInitiated`), and each scheduled activity type.
 */
async function eventCounts(
  handle: WorkflowHandle,
  history?: Awaited<ReturnType<WorkflowHandle['fetchHistory']>>,
): Promise<Map<string, number>> {
  history ??= await handle.fetchHistory();
  const counts = new Map<string, number>();
  const bump = (k: string) => counts.set(k, (counts.get(k) ?? 0) + 1);
  for (const e of history.events ?? []) {
    for (const [key, value] of Object.entries(e))
      if (key.endsWith('EventAttributes') && value) bump(key.replace(/EventAttributes$/, ''));
    const activity = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (activity) bump(`activity:${activity}`);
  }
  return counts;
}

describe('the batched rollout engine', () => {
  const s = rolloutSuite();

  it('runs a ring as batches of its concurrency: one activity per batch, no child workflows', async () => {
    const deps = testDeps(s.db.store, { policies: [oneRing(10)], simulator: fleet });
    const { state, events, history } = await s.t.withWorker(deps, async () => {
      const handle = await s.start('batch-shape');
      const state = await handle.result();
      const history = await handle.fetchHistory();
      return { state, history, events: await eventCounts(handle, history) };
    });
    // The batched path is deterministic: its own history replays against the same code.
    await Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, 'batch-shape');
    assert.equal(state.phase, 'completed');
    assert.ok((events.get('workflowExecutionStarted') ?? 0) === 1, 'the counts read the history');
    const ring = state.rings[0]!;
    assert.ok(ring.total > 20, `${ring.total} devices planned`);
    assert.equal(ring.succeeded, ring.total);
    assert.equal(events.get('startChildWorkflowExecutionInitiated') ?? 0, 0);
    // Every batch deployed in one round: nothing had to wait for a window or a reboot.
    assert.equal(events.get('activity:advanceBatch'), Math.ceil(ring.total / 10));
    assert.equal(events.get('activity:deployPatches'), undefined);
    for (const [key, calls] of deps.rmm.stats().deployCalls) assert.equal(calls, 1, key);
    const rows = await s.db.pool.query<{ batch: number; n: string }>(
      `select batch, count(*) as n from rollout_devices where rollout_id = 'batch-shape'
       group by batch order by batch`,
    );
    assert.ok(rows.rows.every((r) => Number(r.n) <= 10));
    const audited = await s.db.pool.query<{ n: string }>(
      `select count(*) as n from audit_events where rollout_id = 'batch-shape' and action = 'device.succeeded'`,
    );
    assert.equal(Number(audited.rows[0]!.n), ring.total, 'one audit event per device outcome');
  });

  it("keeps the per-device engine (a child workflow per device) for `engine: 'per-device'`", async () => {
    const deps = testDeps(s.db.store, {
      policies: [oneRing(10)],
      simulator: { ...fleet, devicesPerClient: 12 },
    });
    const { state, events } = await s.t.withWorker(deps, async () => {
      const handle = await s.t.client.workflow.start<typeof patchCycle>('patchCycle', {
        taskQueue: s.t.taskQueue,
        workflowId: 'batch-per-device',
        args: [
          {
            rolloutId: 'batch-per-device',
            clientId: 'acme',
            startedBy: 'tester',
            engine: 'per-device',
          },
        ],
      });
      return { state: await handle.result(), events: await eventCounts(handle) };
    });
    assert.equal(state.phase, 'completed');
    assert.equal(events.get('startChildWorkflowExecutionInitiated') ?? 0, state.rings[0]!.total);
    assert.equal(events.get('activity:advanceBatch'), undefined);
    // Each child records its outcome through the same write as a batch: row and audit event.
    const rows = await s.db.pool.query<{ status: string; n: string }>(
      `select rd.status, count(a.id) as n from rollout_devices rd
       left join audit_events a on a.rollout_id = rd.rollout_id and a.subject_id = rd.device_id
         and a.action = 'device.' || rd.status
       where rd.rollout_id = 'batch-per-device' group by rd.device_id, rd.status`,
    );
    assert.equal(rows.rows.length, state.rings[0]!.total);
    for (const r of rows.rows) assert.deepEqual([r.status, Number(r.n)], ['succeeded', 1]);
  });

  it('a batch the RMM refuses for good ends its devices as failed with the cause, once', async () => {
    const sim = createSimulator({ ...fleet, devicesPerClient: 8 });
    const revoked = () =>
      Promise.reject(new RmmError('AUTH_FAILED', 'the API key was revoked at 03:00'));
    const rmm = { ...sim, bulk: { ...sim.bulk, deploy: revoked } };
    const deps = testDeps(s.db.store, { policies: [oneRing(10)], rmm });
    const state = await s.t.withWorker(deps, async () => (await s.start('batch-refused')).result());
    assert.equal(state.phase, 'completed', 'the gate is 0, so the rollout ends normally');
    const ring = state.rings[0]!;
    assert.equal(ring.failed, ring.total);
    const rows = await s.db.pool.query<{ status: string; reason: string }>(
      `select status, outcome->>'reason' as reason from rollout_devices where rollout_id = 'batch-refused'`,
    );
    for (const r of rows.rows) {
      assert.equal(r.status, 'failed');
      assert.match(r.reason, /revoked/);
    }
    assert.equal(sim.stats().deployCalls.size, 0, 'nothing reached the RMM');
  });
});
