import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ItsmError } from '../../adapters/itsm/types.js';
import { RolloutControls } from '../../bot/commands/controls.js';
import {
  cancelUpdate,
  decideUpdate,
  pauseUpdate,
  progressQuery,
  promoteUpdate,
  resumeUpdate,
  type Approver,
} from '../../workflows/messages.js';
import { policy, testDeps } from '../helpers/deps.js';
import { rolloutSuite } from '../helpers/rollout-suite.js';

const approvals = policy(`
scope: { level: global }
approval: { default: needs_approval }
rings:
  - { name: pilot, members: { percent: 50 }, soak: 0s, successThreshold: 0, concurrency: 1 }
  - { name: broad, members: { percent: 50 }, soak: 0s, successThreshold: 0, concurrency: 1 }
windows: []
approvers: { cli: [alice] }
approvalTimeout: { after: 1h, remindEvery: 30m, outcome: reject }
circuitBreaker: { maxFailureRate: 1, minSamples: 1000 }
reboot: { mode: if_required, userDeferrals: 0 }
`);

const alice: Approver = { id: 'alice', via: 'cli' };
const mallory: Approver = { id: 'mallory', via: 'cli' };

/** The validator's refusal: its type and message (a rejected update leaves no history). */
async function refusal(
  p: Promise<unknown>,
): Promise<{ type: string | undefined; message: string }> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof WorkflowUpdateFailedError, String(err));
    const cause = err.cause;
    assert.ok(cause instanceof ApplicationFailure, String(cause));
    return { type: cause.type ?? undefined, message: cause.message };
  }
  assert.fail('the update was accepted');
}

describe('pause, resume and cancel are Updates with validators', () => {
  const s = rolloutSuite();

  it('refuses strangers, nonsense and repeats of state; one update id is one action and one audit row', async () => {
    const deps = testDeps(s.db.store, {
      policies: [approvals],
      simulator: { clients: 1, devicesPerClient: 4, knownBadPatch: false, offlineRate: 0 },
    });
    const id = 'ctl-updates';
    await s.t.withWorker(deps, async () => {
      const handle = await s.start(id);
      for (let i = 0; (await handle.query(progressQuery)).phase !== 'awaiting_approval'; i++) {
        assert.ok(i < 300, 'approval asked');
        await new Promise((r) => setTimeout(r, 100));
      }
      const stranger = await refusal(
        handle.executeUpdate(pauseUpdate, { args: [{ approver: mallory }] }),
      );
      assert.deepEqual(stranger, {
        type: 'NOT_AUTHORISED',
        message: 'cli user mallory is not an approver for client acme',
      });
      assert.equal(
        (
          await refusal(
            handle.executeUpdate(decideUpdate, {
              args: [{ decision: 'approve', approver: mallory }],
            }),
          )
        ).type,
        'NOT_AUTHORISED',
      );
      assert.deepEqual(
        await refusal(handle.executeUpdate(resumeUpdate, { args: [{ approver: alice }] })),
        {
          type: 'INVALID_STATE',
          message: `rollout ${id} is not paused (it is awaiting_approval)`,
        },
      );
      // A 100 KB ring name gets a short answer, not a Temporal error quoting it back.
      const huge = await refusal(
        handle.executeUpdate(promoteUpdate, {
          args: [{ ring: 'x'.repeat(100_000), approver: alice }],
        }),
      );
      assert.equal(huge.type, 'INVALID_INPUT');
      assert.ok(huge.message.length < 100, huge.message);

      // The same update id twice: one pause, one audit row, the first result both times.
      const first = await handle.executeUpdate(pauseUpdate, {
        updateId: 'pause-once',
        args: [{ approver: alice }],
      });
      const again = await handle.executeUpdate(pauseUpdate, {
        updateId: 'pause-once',
        args: [{ approver: alice }],
      });
      assert.deepEqual(first, {
        action: 'pause',
        by: 'cli:alice',
        phase: 'awaiting_approval',
        paused: true,
      });
      assert.deepEqual(again, first);
      assert.equal((await handle.query(progressQuery)).paused, true);
      assert.match(
        (await refusal(handle.executeUpdate(pauseUpdate, { args: [{ approver: alice }] }))).message,
        /is already paused/,
      );
      const resumed = await handle.executeUpdate(resumeUpdate, { args: [{ approver: alice }] });
      assert.equal(resumed.paused, false);

      const cancelled = await handle.executeUpdate(cancelUpdate, {
        updateId: 'cancel-once',
        args: [{ approver: alice, reason: 'change freeze' }],
      });
      assert.equal(cancelled.action, 'cancel');
      const state = await handle.result();
      assert.equal(state.phase, 'cancelled');
      assert.deepEqual(state.cancelled, { by: 'cli:alice', reason: 'change freeze' });
    });
    const trail = (await s.db.store.audit.listBySubject('rollout', id)).filter((e) =>
      ['rollout.paused', 'rollout.resumed'].includes(e.action),
    );
    assert.deepEqual(
      trail.map((e) => `${e.action} ${e.actor}`),
      ['rollout.paused cli:alice', 'rollout.resumed cli:alice'],
    );
    assert.equal((await s.db.store.rollouts.get(id))?.status, 'cancelled');
  });

  it('the command layer authorises, audits a request once per update id and a refusal once per interval', async () => {
    const deps = testDeps(s.db.store, {
      policies: [approvals],
      simulator: { clients: 1, devicesPerClient: 4, knownBadPatch: false, offlineRate: 0 },
    });
    const id = 'ctl-layer';
    let now = Date.UTC(2026, 11, 1, 9, 0, 0);
    const controls = new RolloutControls({
      temporal: s.t.client,
      store: s.db.store,
      policies: [approvals],
      now: () => now,
    });
    const cli = (name: string) => ({ who: { id: name, via: 'cli' as const }, osUser: 'opsuser' });
    await s.t.withWorker(deps, async () => {
      const handle = await s.start(id);
      for (let i = 0; (await handle.query(progressQuery)).phase !== 'awaiting_approval'; i++) {
        assert.ok(i < 300, 'approval asked');
        await new Promise((r) => setTimeout(r, 100));
      }
      // Three refused clicks in one interval are one audit row; the next interval another.
      for (let i = 0; i < 3; i++) {
        const r = await controls.control(cli('nobody-at-all'), id, 'cancel', `click-${i}`);
        assert.equal(r.outcome, 'refused');
        assert.match(r.text, /not an approver for client acme/);
      }
      now += 10 * 60_000;
      await controls.control(cli('nobody-at-all'), id, 'cancel', 'click-later');
      assert.equal((await handle.query(progressQuery)).phase, 'awaiting_approval');

      const pause = await controls.control(cli('alice'), id, 'pause', 'run-1');
      assert.equal(pause.outcome, 'ok', pause.text);
      const repeat = await controls.control(cli('alice'), id, 'pause', 'run-1');
      assert.equal(repeat.outcome, 'ok', 'a retried request gets the first outcome');
      const twice = await controls.control(cli('alice'), id, 'pause', 'run-2');
      assert.deepEqual(
        [twice.outcome, twice.text],
        ['conflict', `${id}: rollout ${id} is already paused`],
      );
      assert.equal(
        (await controls.control(cli('alice'), 'nosuch', 'pause', 'k')).outcome,
        'not_found',
      );
      const approved = await controls.decide(cli('alice'), { rolloutId: id, decision: 'reject' });
      assert.equal(approved.outcome, 'ok', approved.text);
      assert.equal((await handle.result()).phase, 'rejected');
      const late = await controls.control(cli('alice'), id, 'cancel', 'run-3');
      assert.deepEqual(
        [late.outcome, late.text],
        ['conflict', `rollout ${id} is rejected: there is nothing to cancel`],
      );
    });
    const audit = await s.db.store.audit.listBySubject('rollout', id);
    const refused = audit.filter((e) => e.action === 'cli.unauthorised');
    assert.deepEqual(
      refused.map((e) => [e.actor, e.data.attempted, e.data.osUser]),
      [
        ['cli:nobody-at-all', 'cancel rollouts', 'opsuser'],
        ['cli:nobody-at-all', 'cancel rollouts', 'opsuser'],
      ],
    );
    const requested = audit.filter((e) => e.action.endsWith('.requested'));
    assert.deepEqual(
      requested.map((e) => [e.action, e.actor, e.data.as, e.data.osUser]),
      [
        ['rollout.pause.requested', 'cli:alice', 'alice', 'opsuser'],
        ['rollout.reject.requested', 'cli:alice', 'alice', 'opsuser'],
      ],
    );
    assert.equal(audit.filter((e) => e.action === 'rollout.paused').length, 1);
  });

  it('a rollout that fails in planning is recorded failed with the reason', async () => {
    const deps = testDeps(s.db.store, {
      policies: [approvals],
      simulator: { clients: 1, devicesPerClient: 2, knownBadPatch: false, offlineRate: 0 },
    });
    // An ITSM that refuses the credentials: the change ticket, part of planning, cannot open.
    deps.itsm = {
      ...deps.itsm,
      open: () => Promise.reject(new ItsmError('AUTH_FAILED', 'GitHub said: Bad credentials')),
    };
    const id = 'ctl-plan-fails';
    const err = await s.t.withWorker(deps, async () =>
      (await s.start(id)).result().then(
        () => assert.fail('the rollout did not fail'),
        (e: unknown) => e,
      ),
    );
    assert.ok(err instanceof WorkflowFailedError);
    assert.match(err.cause?.message ?? '', /^planning failed: .*Bad credentials/);
    const row = await s.db.store.rollouts.get(id);
    assert.equal(row?.status, 'failed');
    assert.match(String(row?.summary.note), /^planning failed: .*Bad credentials/);

    // A client the RMM does not know fails at once, before any row exists to record it in.
    const unknown = await s.t.withWorker(deps, async () =>
      (await s.start('ctl-no-client', 'nosuch')).result().then(
        () => assert.fail('the rollout did not fail'),
        (e: unknown) => e,
      ),
    );
    assert.ok(unknown instanceof WorkflowFailedError);
    assert.match(
      String((unknown.cause?.cause as Error | undefined)?.message),
      /client nosuch is not known/,
    );
    assert.equal(await s.db.store.rollouts.get('ctl-no-client'), undefined);
  });
});
