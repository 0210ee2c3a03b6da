import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { CardPublisher } from '../../bot/cards/publisher.js';
import { progressQuery } from '../../workflows/messages.js';
import { postToBolt } from '../fakes/slack/sign.js';
import {
  appHomeOpened,
  slashCommand,
  urlVerification,
  viewSubmission,
} from '../fakes/slack/payloads.js';
import type { FakeSlack } from '../fakes/slack/web-api.js';
import { policy } from '../helpers/deps.js';
import { rolloutSuite } from '../helpers/rollout-suite.js';
import {
  SLACK_CHANNEL as CHANNEL,
  SLACK_SECRET as SECRET,
  clickOn,
  elementOf,
  mainCard,
  serveSlack,
  startResponseSink,
  type ResponseSink,
  type ServedSlack,
} from '../helpers/slack.js';
import { testLog } from '../helpers/temporal.js';
import { until } from '../helpers/until.js';

const APPROVER = 'U0001'; // listed by id
const GROUP_APPROVER = 'U0002'; // member of the approvers user group
const OUTSIDER = 'U0003';
const RUN = Date.now().toString(36);
const REJECT_ID = `rollout-slack-reject-${RUN}`;

const approvalPolicy = policy(`
scope: { level: global }
approval: { default: needs_approval }
rings:
  - { name: pilot, members: { percent: 30 }, soak: 0s, successThreshold: 0.5, concurrency: 5 }
  - { name: broad, members: { percent: 70 }, soak: 0s, successThreshold: 0.5, concurrency: 10 }
windows: []
approvers: { slack: { teamId: T0001, users: [${APPROVER}], usergroups: [S0APPROVE] } }
approvalTimeout: { after: 10m, remindEvery: 5m, outcome: reject }
circuitBreaker: { maxFailureRate: 0.9, minSamples: 5 }
reboot: { mode: if_required, userDeferrals: 0 }
`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cardOf = (fake: FakeSlack, rolloutId: string) => mainCard(fake, rolloutId);

describe('Slack front door with the real Bolt receiver, worker and dev server', () => {
  const s = rolloutSuite();
  let slack: ServedSlack;
  let fake: FakeSlack;
  let sink: ResponseSink;
  let events: string;
  let publisher: CardPublisher;

  before(async () => {
    slack = await serveSlack(s, {
      policies: [approvalPolicy],
      fake: {
        // Slack's documented per-method limits, so `rateLimited === 0` below can fail.
        rateLimits: true,
        usergroups: { S0APPROVE: [GROUP_APPROVER] },
        channels: [
          { id: CHANNEL, name: 'patching', members: [APPROVER, GROUP_APPROVER, OUTSIDER] },
        ],
      },
    });
    ({ fake, events, publisher } = slack);
    sink = await startResponseSink();
  });
  after(async () => {
    await slack.close();
    sink.server.close();
  });

  const workerDeps = () =>
    slack.workerDeps({
      policies: [approvalPolicy],
      simulator: { clients: 1, devicesPerClient: 12, knownBadPatch: false, offlineRate: 0 },
    });

  it('answers url_verification and refuses forged, stale and future-dated requests', async () => {
    const ok = await postToBolt(events, SECRET, urlVerification('chal-123'));
    assert.equal(ok.status, 200);
    assert.match(ok.body, /chal-123/);
    const before = fake.calls.length;
    const click = () =>
      slashCommand({
        command: '/patch',
        text: 'rollout acme',
        user: APPROVER,
        channel: CHANNEL,
        responseUrl: sink.url,
      });
    const now = Math.floor(Date.now() / 1000);
    assert.equal((await postToBolt(events, 'wrong-secret', click())).status, 401);
    assert.equal(
      (await postToBolt(events, SECRET, click(), { signature: 'v0=deadbeef' })).status,
      401,
    );
    assert.equal(
      (await postToBolt(events, SECRET, click(), { timestamp: now - 10 * 60 })).status,
      401,
    );
    assert.equal(
      (await postToBolt(events, SECRET, click(), { timestamp: now + 10 * 60 })).status,
      401,
    );
    await sleep(300);
    assert.equal(fake.calls.length, before, 'no Slack call was made for a refused request');
    const started = s.t.client.workflow.list({ query: `TaskQueue = '${s.t.taskQueue}'` });
    for await (const wf of started) assert.fail(`a refused request started ${wf.workflowId}`);
    assert.equal(sink.bodies.length, 0);
  });

  it('card → outsider refused → 20 duplicate clicks → one decision → card updated in place', async () => {
    const deps = workerDeps();
    const id = `rollout-slack-e2e-${RUN}`;
    let cardTs = '';
    await s.t.withWorker(deps, async () => {
      const handle = await s.start(id);
      const card = await until('the approval card', () => {
        const m = cardOf(fake, id);
        return elementOf(m, 'approve') ? m : undefined;
      });
      cardTs = card.ts;
      // Each call is a new click (its own action_ts) on the button as posted.
      const click = (user: string) => clickOn(card, 'approve', user);

      // An outsider: acked, told why (ephemeral), audited, and nothing decided.
      const refused = await postToBolt(events, SECRET, click(OUTSIDER));
      assert.equal(refused.status, 200);
      const eph = await until('the ephemeral refusal', () =>
        fake.ephemerals.find((e) => e.user === OUTSIDER),
      );
      assert.match(eph.text, /not an approver for client acme/);
      assert.equal((await handle.query(progressQuery)).phase, 'awaiting_approval');
      const audit = await s.db.pool.query(
        `select actor from audit_events where action = 'chat.unauthorised'`,
      );
      assert.deepEqual(audit.rows, [{ actor: `slack:${OUTSIDER}` }]);

      // The same click delivered 20 times (some as retries) plus separate double clicks.
      const same = click(GROUP_APPROVER);
      const acks = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          i % 2 === 0
            ? postToBolt(events, SECRET, same, { retryNum: i / 2, retryReason: 'http_timeout' })
            : postToBolt(events, SECRET, click(GROUP_APPROVER)),
        ),
      );
      for (const a of acks) assert.equal(a.status, 200);
      const state = await handle.result();
      assert.equal(state.phase, 'completed');
    });
    const approvals = await s.db.store.records.approvals(id);
    assert.deepEqual(approvals, [
      { decision: 'approve', decidedBy: `slack:${GROUP_APPROVER}`, via: 'slack' },
    ]);
    // One card, updated in place: no buttons left, says who decided, shows the outcome.
    const updated = await until('the final card', async () => {
      await publisher.flush();
      const m = cardOf(fake, id);
      return m && JSON.stringify(m.blocks).includes('Completed') ? m : undefined;
    });
    const text = JSON.stringify(updated.blocks);
    assert.doesNotMatch(text, /patchops\.approve/);
    assert.match(text, new RegExp(`Approved by ${GROUP_APPROVER} \\(slack\\)`));
    // This card's updates only (the file runs other rollouts): the worker's as the rollout
    // moved, and the front door's after the click. The 20 repeats must not each re-render it.
    const cardUpdates = fake.callsTo('chat.update').filter((c) => c.body.ts === cardTs);
    const clickUpdates = slack.frontDoorUpdates.filter((ts) => ts === cardTs).length;
    assert.ok(clickUpdates >= 1, 'the click re-rendered the card');
    assert.ok(clickUpdates <= 3, `${clickUpdates} chat.update calls on one card after the clicks`);
    assert.ok(cardUpdates.length >= clickUpdates);
    const topLevel = (fake.messages.get(CHANNEL) ?? []).filter(
      (m) => !m.thread_ts && JSON.stringify(m.blocks ?? []).includes(id),
    );
    assert.equal(topLevel.length, 1, 'one card per rollout, updated in place');
    assert.equal(fake.rateLimited, 0, "every call stayed within Slack's documented rate limits");
  });

  it('reject opens a modal; its submission rejects with the reason', async () => {
    const deps = workerDeps();
    const id = REJECT_ID;
    await s.t.withWorker(deps, async () => {
      const handle = await s.start(id);
      const card = await until('the approval card', () => {
        const m = cardOf(fake, id);
        return elementOf(m, 'reject') ? m : undefined;
      });
      const opened = fake.callsTo('views.open').length;
      await postToBolt(events, SECRET, clickOn(card, 'reject', APPROVER));
      const call = await until('views.open', () => fake.callsTo('views.open')[opened]);
      const view = call.body.view as { private_metadata: string; callback_id: string };
      assert.equal(view.callback_id, 'patchops.reject');
      // The same submission from a workspace that is not allowed decides nothing.
      const foreign = await postToBolt(
        events,
        SECRET,
        viewSubmission({
          user: APPROVER,
          team: 'T0BAD',
          callbackId: 'patchops.reject',
          privateMetadata: view.private_metadata,
          values: { reason: { value: { type: 'plain_text_input', value: 'from elsewhere' } } },
        }),
      );
      assert.equal(foreign.status, 200);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal((await handle.query(progressQuery)).phase, 'awaiting_approval');
      const submit = await postToBolt(
        events,
        SECRET,
        viewSubmission({
          user: APPROVER,
          callbackId: 'patchops.reject',
          privateMetadata: view.private_metadata,
          values: { reason: { value: { type: 'plain_text_input', value: 'CAB said no' } } },
        }),
      );
      assert.equal(submit.status, 200);
      assert.equal((await handle.result()).phase, 'rejected');
    });
    const row = await s.db.pool.query<{ reason: string; decided_by: string }>(
      `select reason, decided_by from approvals where rollout_id = $1`,
      [id],
    );
    assert.deepEqual(row.rows, [{ reason: 'CAB said no', decided_by: `slack:${APPROVER}` }]);
  });

  it('/patch help shows only what the user may run; unknown input gets usage; App Home is published', async () => {
    const ask = async (user: string, text: string) => {
      const n = sink.bodies.length;
      const r = await postToBolt(
        events,
        SECRET,
        slashCommand({ command: '/patch', text, user, channel: CHANNEL, responseUrl: sink.url }),
      );
      assert.equal(r.status, 200);
      const t0 = Date.now();
      const reply = await until(`reply to "${text}"`, () => sink.bodies[n]);
      if (Date.now() - t0 > 2000) testLog.warn({ text, ms: Date.now() - t0 }, 'slow reply');
      return reply as {
        text: string;
        response_type: string;
      };
    };
    const outsiderHelp = await ask(OUTSIDER, 'help');
    assert.equal(outsiderHelp.response_type, 'ephemeral');
    assert.match(outsiderHelp.text, /\/patch status/);
    assert.doesNotMatch(outsiderHelp.text, /\/patch approve/);
    assert.match((await ask(APPROVER, 'help')).text, /\/patch approve ROLLOUT/);
    const unknown = await ask(APPROVER, 'deploy everything now');
    assert.match(unknown.text, /unknown command "deploy"/);
    assert.match(unknown.text, /Usage:/);
    assert.match((await ask(OUTSIDER, 'rollout acme')).text, /not an approver for client acme/);
    assert.match((await ask(APPROVER, `status ${REJECT_ID}`)).text, /Rejected/);

    const home = await postToBolt(events, SECRET, appHomeOpened({ user: APPROVER }));
    assert.equal(home.status, 200);
    const view = await until('App Home', () => fake.homeViews.get(APPROVER));
    assert.match(JSON.stringify(view), /Compliance per client/);
  });

  it('a request from another workspace is acknowledged and nothing else happens', async () => {
    const n = sink.bodies.length;
    const calls = fake.calls.length;
    const r = await postToBolt(
      events,
      SECRET,
      slashCommand({
        command: '/patch',
        text: 'status',
        user: APPROVER,
        team: 'T0OTHER',
        channel: CHANNEL,
        responseUrl: sink.url,
      }),
    );
    // Acknowledged (so Slack does not retry) with an empty body, and refused at the door:
    // no reply, no Web API call.
    assert.equal(r.status, 200);
    assert.equal(r.body, '');
    await new Promise((res) => setTimeout(res, 1_000));
    assert.equal(sink.bodies.length, n, 'no reply to the stranger');
    assert.equal(fake.calls.length, calls, 'no Slack Web API call');
  });
});
