import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { decideUpdate, progressQuery } from '../../workflows/messages.js';
import { policy, testDeps } from '../helpers/deps.js';
import { rolloutSuite } from '../helpers/rollout-suite.js';

const fastPolicy = (approval: string) =>
  policy(`
scope: { level: global }
approval: { default: ${approval} }
rings:
  - { name: pilot, members: { percent: 20 }, soak: 1s, successThreshold: 0.5, concurrency: 5 }
  - { name: broad, members: { percent: 80 }, soak: 0s, successThreshold: 0.5, concurrency: 10 }
windows: []
approvers: { cli: [alice] }
approvalTimeout: { after: 1m, remindEvery: 30s, outcome: reject }
circuitBreaker: { maxFailureRate: 0.9, minSamples: 5 }
reboot: { mode: if_required, userDeferrals: 0 }
`);

describe('patchCycle on the simulator', () => {
  const s = rolloutSuite();
  const start = (id: string) => s.start(id);

  it('auto-approved patches go through both rings, once per device', async () => {
    const deps = testDeps(s.db.store, {
      policies: [fastPolicy('auto')],
      simulator: { clients: 1, devicesPerClient: 20, knownBadPatch: false, offlineRate: 0 },
    });
    const state = await s.t.withWorker(deps, async () => (await start('rollout-happy')).result());
    assert.equal(state.phase, 'completed');
    const [pilot, broad] = state.rings;
    assert.ok(pilot && broad);
    assert.equal(pilot.name, 'pilot');
    assert.ok(pilot.total > 0 && broad.total > pilot.total, JSON.stringify(state.rings));
    assert.equal(pilot.started, pilot.total);
    assert.equal(broad.started, broad.total);
    for (const [key, calls] of deps.rmm.stats().deployCalls) assert.equal(calls, 1, key);
    for (const [key, n] of deps.rmm.stats().installsPerDevicePatch) assert.equal(n, 1, key);
    const row = await s.db.store.rollouts.get('rollout-happy');
    assert.equal(row?.status, 'completed');
  });

  it('waits for an authorised approval; others are refused without a trace', async () => {
    const deps = testDeps(s.db.store, {
      policies: [fastPolicy('needs_approval')],
      simulator: { clients: 1, devicesPerClient: 10, knownBadPatch: false, offlineRate: 0 },
    });
    const state = await s.t.withWorker(deps, async () => {
      const handle = await start('rollout-approve');
      for (
        let i = 0;
        i < 100 && (await handle.query(progressQuery)).phase !== 'awaiting_approval';
        i++
      ) {
        await new Promise((r) => setTimeout(r, 100));
      }
      await assert.rejects(
        handle.executeUpdate(decideUpdate, {
          args: [{ decision: 'approve', approver: { id: 'mallory', via: 'cli' } }],
        }),
        (err: Error) =>
          err instanceof WorkflowUpdateFailedError &&
          /mallory is not an approver/.test(String(err.cause)),
      );
      const result = await handle.executeUpdate(decideUpdate, {
        args: [{ decision: 'approve', approver: { id: 'alice', via: 'cli' }, reason: 'ok' }],
      });
      assert.equal(result.decidedBy, 'cli:alice');
      return handle.result();
    });
    assert.equal(state.phase, 'completed');
    assert.deepEqual(await s.db.store.records.approvals('rollout-approve'), [
      { decision: 'approve', decidedBy: 'cli:alice', via: 'cli' },
    ]);
    assert.ok(deps.notices.some((n) => n.kind === 'approval_request'));
  });

  it('a rejection ends the rollout without deploying anything', async () => {
    const deps = testDeps(s.db.store, {
      policies: [fastPolicy('needs_approval')],
      simulator: { clients: 1, devicesPerClient: 10 },
    });
    const state = await s.t.withWorker(deps, async () => {
      const handle = await start('rollout-reject');
      for (
        let i = 0;
        i < 100 && (await handle.query(progressQuery)).phase !== 'awaiting_approval';
        i++
      ) {
        await new Promise((r) => setTimeout(r, 100));
      }
      await handle.executeUpdate(decideUpdate, {
        args: [{ decision: 'reject', approver: { id: 'alice', via: 'cli' }, reason: 'not now' }],
      });
      return handle.result();
    });
    assert.equal(state.phase, 'rejected');
    assert.equal(deps.rmm.stats().deployCalls.size, 0);
    assert.equal((await s.db.store.rollouts.get('rollout-reject'))?.status, 'rejected');
  });
});
