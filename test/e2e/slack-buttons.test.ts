import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeAction } from '../../bot/cards/model.js';
import { progressQuery, type Progress } from '../../workflows/messages.js';
import type { FakeMessage } from '../fakes/slack/state.js';
import { policy, type TestDeps } from '../helpers/deps.js';
import { rolloutSuite } from '../helpers/rollout-suite.js';
import {
  SLACK_CHANNEL,
  actionIdsOf,
  clickOn,
  elementOf,
  mainCard,
  messageAt,
  selectOn,
  serveSlack,
  type ServedSlack,
} from '../helpers/slack.js';
import { progressUntil, until } from '../helpers/until.js';

/**
 * Every card button besides Approve and Reject (slack.test.ts has those), clicked through
 * signed block_actions requests on the cards the fake Web API received, with a real worker,
 * dev server and PostgreSQL behind them. One worker serves the file; each scenario has a
 * client of its own, so their fleets and policies do not meet.
 */

const APPROVER = 'U0001';
const OUTSIDER = 'U0003';
const RUN = Date.now().toString(36);
const DAY_MS = 86_400_000;
// Rings deploy two or three devices at a time with 300 ms jobs, so a click lands
// mid-rollout; every ring passes its gate whatever fails, and the breaker never trips.
const globalPolicy = policy(`
scope: { level: global }
approval: { default: auto }
rings:
  - { name: pilot, members: { percent: 40 }, soak: 0s, successThreshold: 0, concurrency: 2 }
  - { name: broad, members: { percent: 60 }, soak: 0s, successThreshold: 0, concurrency: 3 }
windows: []
approvers: { slack: { teamId: T0001, users: [${APPROVER}] } }
approvalTimeout: { after: 10m, remindEvery: 5m, outcome: reject }
circuitBreaker: { maxFailureRate: 1, minSamples: 1000 }
reboot: { mode: if_required, userDeferrals: 0 }
`);
/** acme's rollouts wait for a human decision. */
const acmePolicy = policy(`
scope: { level: client, id: acme }
approval: { default: needs_approval }
`);
/** umbrella's second ring starts only when a human promotes it. */
const umbrellaPolicy = policy(`
scope: { level: client, id: umbrella }
rings:
  - { name: pilot, members: { percent: 40 }, soak: 1s, successThreshold: 0, promotion: manual, concurrency: 2 }
  - { name: broad, members: { percent: 60 }, soak: 0s, successThreshold: 0, concurrency: 2 }
`);
const policies = [globalPolicy, acmePolicy, umbrellaPolicy];

describe('Slack card buttons, end to end', () => {
  const s = rolloutSuite();

  // The scenarios run side by side on the one worker: each waits mostly on simulated jobs.
  describe('with one worker for every scenario', { concurrency: true }, () => {
    let slack: ServedSlack;
    let deps: TestDeps;
    let stopWorker: () => void = () => undefined;
    let worker: Promise<void> | undefined;

    before(async () => {
      slack = await serveSlack(s, {
        policies,
        updateGapMs: 50,
        fake: {
          channels: [{ id: SLACK_CHANNEL, name: 'patching', members: [APPROVER, OUTSIDER] }],
        },
      });
      // One client per scenario: acme defers, globex pauses, initech cancels, umbrella
      // promotes, hooli (failures in both rings) and wonka (an early one) raise alerts.
      deps = slack.workerDeps({
        policies,
        simulator: {
          clients: 8,
          devicesPerClient: 8,
          offlineRate: 0,
          userDeferRate: 0,
          knownBadPatch: true,
          failureRate: { perPatch: 0, perDevice: 0 },
          latencyMs: { job: 300 },
        },
      });
      const stopped = new Promise<void>((resolve) => (stopWorker = resolve));
      worker = s.t.withWorker(deps, () => stopped);
    });
    after(async () => {
      stopWorker();
      await worker;
      await slack.close();
    });

    /** The card message as it stands, once `ready` holds for it. */
    const cardWhen = (
      what: string,
      find: () => FakeMessage | undefined,
      ready: (m: FakeMessage) => boolean,
    ) =>
      until(what, () => {
        const m = find();
        return m && ready(m) ? m : undefined;
      });
    const text = (m: FakeMessage) => JSON.stringify(m.blocks ?? []);
    /** A card this rollout posted for `purpose` (promotion_request, failure_alert …). */
    const postedFor = async (rolloutId: string, purpose: string) =>
      (
        await s.db.pool.query<{ message_ref: string | null; idempotency_key: string }>(
          `select message_ref, idempotency_key from chat_messages
           where rollout_id = $1 and purpose = $2 and platform = 'slack' order by id`,
          [rolloutId, purpose],
        )
      ).rows;
    const auditOf = async (rolloutId: string) =>
      (
        await s.db.pool.query<{ action: string; actor: string; data: Record<string, unknown> }>(
          `select action, actor, data from audit_events where rollout_id = $1 order by id`,
          [rolloutId],
        )
      ).rows;

    it('Defer 3 days from the select records one defer, says so on the card, and a retry adds nothing', async () => {
      const id = `rollout-defer-${RUN}`;
      const handle = await s.start(id, 'acme');
      try {
        const card = await cardWhen(
          'the approval card',
          () => mainCard(slack.fake, id),
          (m) => elementOf(m, 'defer') !== undefined,
        );
        const click = selectOn(card, 'defer', 'Defer 3 days', APPROVER);
        assert.equal((await slack.send(click)).status, 200);

        const p = await progressUntil(handle, (x) => x.phase === 'deferred', 'the deferral');
        const { until: deferUntil, ...decision } = p.decision ?? {};
        assert.deepEqual(decision, {
          decision: 'defer',
          decidedBy: `slack:${APPROVER}`,
          status: 'awaiting_approval',
        });
        const approvals = await until('the recorded decision', async () => {
          const rows = await s.db.store.records.approvals(id);
          return rows.length ? rows : undefined;
        });
        assert.deepEqual(approvals, [
          { decision: 'defer', decidedBy: `slack:${APPROVER}`, via: 'slack' },
        ]);
        // The workflow sleeps the three days the option said, on a durable timer.
        const timers = (await handle.fetchHistory()).events!.filter(
          (e) => e.timerStartedEventAttributes,
        );
        const seconds = Number(
          timers.at(-1)?.timerStartedEventAttributes?.startToFireTimeout?.seconds,
        );
        assert.equal(seconds * 1000, 3 * DAY_MS);
        const deferred = (await auditOf(id)).filter((e) => e.action === 'rollout.defer');
        assert.deepEqual(
          deferred.map((e) => [e.actor, e.data.via]),
          [[`slack:${APPROVER}`, 'slack']],
        );
        const updated = await cardWhen(
          'the deferred card',
          () => mainCard(slack.fake, id),
          (m) => text(m).includes(`Deferred by ${APPROVER} (slack)`),
        );
        // Nothing runs to pause, but a deferred rollout can be called off.
        assert.deepEqual(actionIdsOf(updated), ['patchops.cancel', 'patchops.details']);
        assert.match(text(updated), /Deferred — approval will be asked again/);

        // Slack delivers the same click again: nothing more is decided, audited or said.
        const mine = (calls: Array<{ body: unknown }>) =>
          calls.filter((c) => JSON.stringify(c.body).includes(id)).length;
        const updateEvents = async () =>
          (await handle.fetchHistory()).events!.filter(
            (e) => e.workflowExecutionUpdateAcceptedEventAttributes,
          ).length;
        const counts = async () => ({
          approvals: (await s.db.store.records.approvals(id)).length,
          audit: (await auditOf(id)).length,
          updates: await updateEvents(),
          ephemerals: slack.fake.ephemerals.filter((e) => e.user === APPROVER).length,
          posts: mine(slack.fake.callsTo('chat.postMessage')),
        });
        const before = await counts();
        assert.equal(before.updates, 1);
        assert.equal(
          (await slack.send(click, { retryNum: 1, retryReason: 'http_timeout' })).status,
          200,
        );
        // The retry finds this person's decision recorded and gets the first answer: nothing
        // is decided, audited, posted or said again. Given time to do any of that, it has
        // done none. (The card may still get the deferral's own throttled update.)
        await new Promise((r) => setTimeout(r, 1_500));
        assert.deepEqual(await counts(), before);
        assert.equal((await handle.query(progressQuery)).phase, 'deferred');

        // Until when: in PostgreSQL, in the progress query and on the card.
        const row = (
          await s.db.pool.query<{ decided_at: Date; defer_until: Date | null }>(
            `select decided_at, defer_until from approvals where rollout_id = $1`,
            [id],
          )
        ).rows[0]!;
        assert.ok(row.defer_until, 'approvals.defer_until is set');
        const deferMs = row.defer_until.getTime() - row.decided_at.getTime();
        assert.ok(Math.abs(deferMs - 3 * DAY_MS) < 60_000, `${deferMs} ms`);
        assert.equal(deferUntil, row.defer_until.toISOString());
        const at = row.defer_until.toISOString().replace('T', ' ').slice(0, 16);
        assert.ok(
          text(updated).includes(`Deferred by ${APPROVER} (slack)`) &&
            text(updated).includes(`until ${at} UTC`),
          text(updated),
        );
      } finally {
        await handle.terminate('test over: the rollout would sleep for three days');
      }
    });

    it('Pause stops the rollout and offers Resume; Resume lets it finish', async () => {
      const id = `rollout-pause-${RUN}`;
      const handle = await s.start(id, 'globex');
      const card = await cardWhen(
        'the running card',
        () => mainCard(slack.fake, id),
        (m) => elementOf(m, 'pause') !== undefined,
      );
      await progressUntil(handle, (p) => (p.rings[0]?.started ?? 0) >= 1, 'a device started');
      await slack.send(clickOn(card, 'pause', APPROVER));
      const paused = await progressUntil(handle, (p) => p.paused, 'paused');
      const shown = await cardWhen(
        'the paused card',
        () => mainCard(slack.fake, id),
        (m) => elementOf(m, 'resume') !== undefined,
      );
      assert.match(text(shown), /\(paused\)/);
      assert.equal(elementOf(shown, 'pause'), undefined, 'Resume replaces Pause');
      // Paused means no new device starts (one already being started may still be added).
      await new Promise((r) => setTimeout(r, 1_000));
      const later = await handle.query(progressQuery);
      const started = (x: Progress) => x.rings.reduce((n, r) => n + r.started, 0);
      assert.ok(started(later) <= started(paused) + 1, `${started(later)} vs ${started(paused)}`);
      assert.ok(!['completed', 'verifying', 'reporting'].includes(later.phase), later.phase);

      await slack.send(clickOn(shown, 'resume', APPROVER));
      const state = await handle.result();
      assert.equal(state.phase, 'completed');
      assert.equal(state.paused, false);
      const actions = (await auditOf(id)).filter((e) => e.action.endsWith('.requested'));
      assert.deepEqual(
        actions.map((e) => [e.action, e.actor]),
        [
          ['rollout.pause.requested', `slack:${APPROVER}`],
          ['rollout.resume.requested', `slack:${APPROVER}`],
        ],
      );
      const done = await cardWhen(
        'the completed card',
        () => mainCard(slack.fake, id),
        (m) => /Completed/.test(text(m)),
      );
      assert.deepEqual(actionIdsOf(done), ['patchops.details']);
    });

    it('Cancel mid-rollout ends it cancelled; the card says so and loses its buttons', async () => {
      const id = `rollout-cancel-${RUN}`;
      const handle = await s.start(id, 'initech');
      const card = await cardWhen(
        'the running card',
        () => mainCard(slack.fake, id),
        (m) => elementOf(m, 'cancel') !== undefined,
      );
      await progressUntil(handle, (p) => (p.rings[0]?.started ?? 0) >= 1, 'a device started');
      await slack.send(clickOn(card, 'cancel', APPROVER));
      const state = await handle.result();
      assert.equal(state.phase, 'cancelled');
      assert.equal(state.cancelled?.by, `slack:${APPROVER}`);
      const started = state.rings.reduce((n, r) => n + r.started, 0);
      const total = state.rings.reduce((n, r) => n + r.total, 0);
      assert.ok(started < total, `${started} of ${total} started`);
      assert.equal((await s.db.store.rollouts.get(id))?.status, 'cancelled');
      const shown = await cardWhen(
        'the cancelled card',
        () => mainCard(slack.fake, id),
        (m) => /Cancelled/.test(text(m)),
      );
      assert.deepEqual(actionIdsOf(shown), ['patchops.details']);
      assert.ok(
        (await auditOf(id)).some(
          (e) => e.action === 'rollout.cancel.requested' && e.actor === `slack:${APPROVER}`,
        ),
      );
    });

    it('Promote on the promotion card: refused for a non-approver, starts the next ring for an approver', async () => {
      const id = `rollout-promote-${RUN}`;
      const handle = await s.start(id, 'umbrella');
      const [posted] = await until('the promotion request', async () => {
        const rows = await postedFor(id, 'promotion_request');
        return rows[0]?.message_ref ? rows : undefined;
      });
      const card = await cardWhen(
        'the promotion card',
        () => messageAt(slack.fake, posted!.message_ref!),
        (m) => elementOf(m, 'promote') !== undefined,
      );
      assert.equal(card.thread_ts, mainCard(slack.fake, id)?.ts, 'in the rollout card thread');
      assert.equal(decodeAction(elementOf(card, 'promote')?.element.value)?.ring, 'broad');
      assert.equal((await handle.query(progressQuery)).phase, 'awaiting_promotion');

      // Someone who is not an approver: told why, audited, nothing promoted.
      await slack.send(clickOn(card, 'promote', OUTSIDER));
      const eph = await until('the refusal', () =>
        slack.fake.ephemerals.find((e) => e.user === OUTSIDER),
      );
      assert.match(eph.text, /not an approver for client umbrella/);
      const refused = (await auditOf(id)).filter((e) => e.action === 'chat.unauthorised');
      assert.deepEqual(
        refused.map((e) => [e.actor, e.data.attempted]),
        [[`slack:${OUTSIDER}`, 'promote rings']],
      );
      const waiting = await handle.query(progressQuery);
      assert.equal(waiting.phase, 'awaiting_promotion');
      assert.equal(waiting.rings[1]?.started, 0);

      await slack.send(clickOn(card, 'promote', APPROVER));
      const state = await handle.result();
      assert.equal(state.phase, 'completed');
      assert.equal(state.rings[1]?.started, state.rings[1]?.total);
      assert.ok((state.rings[1]?.total ?? 0) > 0);
      assert.deepEqual(
        slack.fake.ephemerals.filter((e) => e.user === APPROVER && e.text.includes(id)),
        [],
        'the approver was not told anything went wrong',
      );
      const after = await cardWhen(
        'the promotion card after',
        () => messageAt(slack.fake, posted!.message_ref!),
        (m) => elementOf(m, 'promote') === undefined,
      );
      assert.doesNotMatch(text(after), /patchops\.promote/);
      const promoted = (await auditOf(id)).filter((e) => e.action === 'rollout.promote');
      assert.deepEqual(
        promoted.map((e) => [e.actor, e.data.ring]),
        [[`slack:${APPROVER}`, 'broad']],
      );

      // The workflow records who promoted, whichever front door they used.
      const promotions = (await s.db.store.records.approvals(id)).filter(
        (a) => a.decision === 'promote',
      );
      assert.deepEqual(promotions, [
        { decision: 'promote', decidedBy: `slack:${APPROVER}`, via: 'slack' },
      ]);
    });

    it('a failure alert is posted once per failing ring, and its Pause pauses the rollout', async () => {
      const id = `rollout-alert-${RUN}`;
      const handle = await s.start(id, 'hooli');
      const [first] = await until('the failure alert', async () => {
        const rows = await postedFor(id, 'failure_alert');
        return rows[0]?.message_ref ? rows : undefined;
      });
      const alert = await cardWhen(
        'the alert card',
        () => messageAt(slack.fake, first!.message_ref!),
        (m) => elementOf(m, 'pause') !== undefined,
      );
      assert.equal(alert.thread_ts, mainCard(slack.fake, id)?.ts, 'in the rollout card thread');
      assert.deepEqual(actionIdsOf(alert), ['patchops.pause', 'patchops.cancel']);

      await slack.send(clickOn(alert, 'pause', APPROVER));
      const paused = await progressUntil(handle, (p) => p.paused, 'paused from the alert');
      assert.ok(['deploying', 'soaking'].includes(paused.phase), paused.phase);
      const resumable = await cardWhen(
        'the alert offering Resume',
        () => messageAt(slack.fake, first!.message_ref!),
        (m) => elementOf(m, 'resume') !== undefined,
      );
      await slack.send(clickOn(resumable, 'resume', APPROVER));
      const state = await handle.result();
      assert.equal(state.phase, 'completed');

      // hooli's fleet (seed 42, rings salted with the client id) has the known-bad patch in both rings.
      const failing = state.rings.filter((r) => r.failed > 0).map((r) => r.name);
      assert.deepEqual(failing, ['pilot', 'broad'], JSON.stringify(state.rings));
      const alerts = await postedFor(id, 'failure_alert');
      assert.deepEqual(
        alerts.map((a) => a.idempotency_key.replace(`${id}:failures:`, '')).sort(),
        failing.map((ring) => `${ring}:slack:${SLACK_CHANNEL}`).sort(),
        'one alert per ring with failures',
      );
      for (const a of alerts) assert.ok(messageAt(slack.fake, a.message_ref!)?.thread_ts);

      // Each alert names the ring that failed.
      for (const ring of failing) {
        const key = `${id}:failures:${ring}:slack:${SLACK_CHANNEL}`;
        const post = slack.fake
          .callsTo('chat.postMessage')
          .find((c) => JSON.stringify(c.body.metadata ?? {}).includes(key));
        assert.match(String(post?.body.text), new RegExp(`failed in ring ${ring}\\b`));
      }
    });

    it("the failure alert's Cancel ends the rollout, and the alert loses its buttons", async () => {
      const id = `rollout-alert-cancel-${RUN}`;
      const handle = await s.start(id, 'wonka');
      const [posted] = await until('the failure alert', async () => {
        const rows = await postedFor(id, 'failure_alert');
        return rows[0]?.message_ref ? rows : undefined;
      });
      const alert = await cardWhen(
        'the alert card',
        () => messageAt(slack.fake, posted!.message_ref!),
        (m) => elementOf(m, 'cancel') !== undefined,
      );
      await slack.send(clickOn(alert, 'cancel', APPROVER));
      const state = await handle.result();
      assert.equal(state.phase, 'cancelled');
      assert.equal(state.cancelled?.by, `slack:${APPROVER}`);
      const started = state.rings.reduce((n, r) => n + r.started, 0);
      const total = state.rings.reduce((n, r) => n + r.total, 0);
      assert.ok(started < total, `${started} of ${total} started`);
      // Like the rollout card, a finished alert keeps only "View details".
      await cardWhen(
        'the alert after the cancel',
        () => messageAt(slack.fake, posted!.message_ref!),
        (m) => actionIdsOf(m).join() === 'patchops.details',
      );
      await cardWhen(
        'the cancelled card',
        () => mainCard(slack.fake, id),
        (m) => /Cancelled/.test(text(m)),
      );
    });
  });
});
