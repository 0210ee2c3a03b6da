import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startBotServer } from '../../bot/server.js';
import { createSlackFrontDoor } from '../../bot/slack/app.js';
import { SlackSocketModeError } from '../../bot/slack/socket-mode.js';
import { progressQuery } from '../../workflows/messages.js';
import { blockActions, slashCommand, type SlackPayload } from '../fakes/slack/payloads.js';
import type { FakeMessage } from '../fakes/slack/state.js';
import { cliEnv, runCli } from '../helpers/cli.js';
import { policy } from '../helpers/deps.js';
import { rolloutSuite } from '../helpers/rollout-suite.js';
import { APP_TOKEN, serveSlackSocket, type SocketSlack } from '../helpers/slack-socket.js';
import { testLog } from '../helpers/temporal.js';

const CHANNEL = 'C0001';
const APPROVER = 'U0001';
const OUTSIDER = 'U0003';
const RUN = Date.now().toString(36);

const approvalPolicy = policy(`
scope: { level: global }
approval: { default: needs_approval }
rings:
  - { name: pilot, members: { percent: 30 }, soak: 0s, successThreshold: 0.5, concurrency: 5 }
  - { name: broad, members: { percent: 70 }, soak: 0s, successThreshold: 0.5, concurrency: 10 }
windows: []
approvers: { slack: { teamId: T0001, users: [${APPROVER}] } }
approvalTimeout: { after: 10m, remindEvery: 5m, outcome: reject }
circuitBreaker: { maxFailureRate: 0.9, minSamples: 5 }
reboot: { mode: if_required, userDeferrals: 0 }
`);

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined) {
  const end = Date.now() + 30_000;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** `user` clicks the card's Approve button: the block_actions payload Slack would send. */
function approveClick(card: FakeMessage, user: string): SlackPayload {
  const blocks = (card.blocks ?? []) as { elements?: { action_id: string; value?: string }[] }[];
  const button = blocks
    .flatMap((b) => b.elements ?? [])
    .find((e) => e.action_id === 'patchops.approve');
  assert.ok(button?.value, 'the card has an Approve button');
  return blockActions({
    user,
    channel: card.channel,
    messageTs: card.ts,
    actionId: button.action_id,
    value: button.value,
    buttonText: 'Approve',
    message: { text: card.text, blocks: card.blocks },
  });
}

describe('Slack front door in Socket Mode: real Bolt + SocketModeClient, fake Slack, worker, dev server', () => {
  const s = rolloutSuite();
  let slack: SocketSlack;

  before(async () => {
    slack = await serveSlackSocket(s, {
      policies: [approvalPolicy],
      channel: CHANNEL,
      fake: { channels: [{ id: CHANNEL, name: 'patching', members: [APPROVER, OUTSIDER] }] },
    });
  });
  after(() => slack.close());

  const cardOf = (id: string) =>
    (slack.fake.messages.get(CHANNEL) ?? []).find(
      (m) => !m.thread_ts && JSON.stringify(m.blocks ?? []).includes(id),
    );
  const ask = async (user: string, text: string) => {
    const n = slack.sink.bodies.length;
    const d = slack.fake.socketMode.deliver(
      slashCommand({
        command: '/patch',
        text,
        user,
        channel: CHANNEL,
        responseUrl: slack.sink.url,
      }),
    );
    const ack = await d.acked(3_000);
    assert.ok(ack.at - d.sentAt < 3_000, 'acked within Slack’s 3 seconds');
    const reply = (await until(`the reply to "${text}"`, () => slack.sink.bodies[n])) as {
      text: string;
      response_type: string;
    };
    return { d, ack, reply };
  };

  it('connects with the app-level token through apps.connections.open and serves no HTTP', async () => {
    assert.equal(slack.front.handler, undefined);
    const server = await startBotServer({ slack: slack.front.handler }, '127.0.0.1', 0, (err) =>
      testLog.error({ err }),
    );
    const res = await fetch(`${server.url}/slack/events`, { method: 'POST', body: '{}' });
    await server.close();
    assert.equal(res.status, 404);

    const opens = slack.fake.callsTo('apps.connections.open');
    assert.deepEqual(
      opens.map((c) => [c.token, c.status, c.error]),
      [[APP_TOKEN, 200, undefined]],
    );
    const others = slack.fake.calls.filter((c) => c.method !== 'apps.connections.open');
    assert.ok(
      others.every((c) => c.token === 'xoxb-test'),
      'Web API calls use the bot token',
    );
    const [conn] = slack.fake.socketMode.connections;
    assert.equal(slack.fake.socketMode.connections.length, 1);
    assert.equal(conn?.appId, 'A0001');
    assert.equal(conn?.closedAt, undefined);
  });

  it('card → outsider click refused → Approve acked and decides once, a redelivery decides nothing', async () => {
    const id = `rollout-slack-socket-${RUN}`;
    const deps = slack.workerDeps({
      policies: [approvalPolicy],
      simulator: { clients: 1, devicesPerClient: 12, knownBadPatch: false, offlineRate: 0 },
    });
    await s.t.withWorker(deps, async () => {
      const handle = await s.start(id);
      const card = await until('the approval card', () => {
        const m = cardOf(id);
        return m && JSON.stringify(m.blocks).includes('patchops.approve') ? m : undefined;
      });
      assert.ok(slack.fake.callsTo('chat.postMessage').some((c) => c.token === 'xoxb-test'));

      const refused = slack.fake.socketMode.deliver(approveClick(card, OUTSIDER));
      assert.equal(refused.envelope.type, 'interactive');
      assert.equal(refused.envelope.payload.type, 'block_actions');
      await refused.acked(3_000);
      const eph = await until('the refusal', () =>
        slack.fake.ephemerals.find((e) => e.user === OUTSIDER),
      );
      assert.match(eph.text, /not an approver for client acme/);
      assert.equal((await handle.query(progressQuery)).phase, 'awaiting_approval');

      const click = slack.fake.socketMode.deliver(approveClick(card, APPROVER));
      const ack = await click.acked(3_000);
      assert.ok(ack.at - click.sentAt < 3_000);
      // Slack redelivers an envelope whose ack it did not see, with retry_attempt 1.
      const again = slack.fake.socketMode.redeliver(click);
      assert.equal(again.envelope.retry_attempt, 1);
      assert.equal(again.envelope.envelope_id, click.envelope.envelope_id);
      await again.acked(3_000);
      assert.equal((await handle.result()).phase, 'completed');
    });
    const rows = await s.db.pool.query<{ decided_by: string; decision: string }>(
      `select decided_by, decision from approvals where rollout_id = $1`,
      [id],
    );
    assert.deepEqual(rows.rows, [{ decided_by: `slack:${APPROVER}`, decision: 'approve' }]);
    const audit = await s.db.pool.query(
      `select actor from audit_events where action = 'chat.unauthorised'`,
    );
    assert.deepEqual(audit.rows, [{ actor: `slack:${OUTSIDER}` }]);

    const final = await until('the updated card', async () => {
      await slack.publisher.flush();
      const m = cardOf(id);
      return m && JSON.stringify(m.blocks).includes('Completed') ? m : undefined;
    });
    const text = JSON.stringify(final.blocks);
    assert.doesNotMatch(text, /patchops\.approve/);
    assert.match(text, new RegExp(`Approved by ${APPROVER} \\(slack\\)`));
    assert.ok(slack.fake.callsTo('chat.update').length >= 1);
    assert.deepEqual(slack.fake.socketMode.strayAcks, [], 'every ack matched a delivery');
  });

  // After the rollout: an approver's help lists approve only once a client exists.
  it('/patch help: acked over the socket within 3 s, answered on response_url', async () => {
    const { ack, reply } = await ask(APPROVER, 'help');
    assert.deepEqual(ack.payload, {}, 'an empty ack; the answer goes to response_url');
    assert.equal(reply.response_type, 'ephemeral');
    assert.match(reply.text, /\/patch approve ROLLOUT/);
    const outsider = (await ask(OUTSIDER, 'help')).reply;
    assert.doesNotMatch(outsider.text, /\/patch approve/);
  });

  it('reconnects after a disconnect message and handles later envelopes', async () => {
    const sm = slack.fake.socketMode;
    const opens = slack.fake.callsTo('apps.connections.open').length;
    assert.equal(sm.disconnect('refresh_requested'), 1);
    const old = sm.connections.at(-1)!;
    await until('the old socket to close', () => old.closedAt);
    assert.equal(old.closeCode, 1000, 'the client closed it cleanly');
    const next = await sm.connected(sm.connections.length + 1, 20_000);
    assert.equal(slack.fake.callsTo('apps.connections.open').length, opens + 1);
    assert.equal(sm.refused, 0, 'a fresh ticket, not the old one');
    const { ack, reply } = await ask(APPROVER, 'help');
    assert.equal(ack.connection, next.id);
    assert.match(reply.text, /\/patch approve ROLLOUT/);
  });

  it('start() with a revoked app-level token fails naming SLACK_APP_TOKEN', async () => {
    const front = createSlackFrontDoor({
      config: { ...slack.config, appToken: 'xapp-revoked' },
      runner: undefined as never,
      publisher: undefined as never,
      store: s.db.store,
      policies: [approvalPolicy],
      log: testLog,
    });
    await assert.rejects(front.start(), (err: unknown) => {
      assert.ok(err instanceof SlackSocketModeError);
      assert.equal(err.code, 'SLACK_APP_TOKEN_REJECTED');
      assert.match(err.message, /SLACK_APP_TOKEN \(invalid_auth\)/);
      return true;
    });
    await front.stop();
  });

  it('`patchops bot` refuses Socket Mode without SLACK_APP_TOKEN', async () => {
    const r = await runCli(
      ['bot'],
      cliEnv({ SLACK_BOT_TOKEN: 'xoxb-test', PATCHOPS_SLACK_MODE: 'socket' }),
    );
    assert.equal(r.code, 78, r.stderr);
    assert.match(r.stderr, /SLACK_APP_TOKEN: Socket Mode needs an app-level token/);
    assert.doesNotMatch(r.stderr, /xoxb-test/);
  });

  it('no token, ticket, verification token or response_url reached the logs', () => {
    const text = slack.logLines.join('');
    assert.match(text, /Received a message on the WebSocket/, 'the client did log envelopes');
    for (const secret of [APP_TOKEN, 'xoxb-test', 'fake-verification-token', slack.sink.url])
      assert.ok(!text.includes(secret), `${secret} is in the logs`);
    assert.doesNotMatch(text, /ticket=(?!\[redacted\])/);
  });

  it('stop() during a reconnect waits for it, then leaves no socket open', async () => {
    const sm = slack.fake.socketMode;
    const opens = slack.fake.callsTo('apps.connections.open').length;
    slack.fake.setDelay('apps.connections.open', 1_500);
    sm.disconnect('refresh_requested');
    await until('the reconnect to ask for a URL', () =>
      slack.fake.callsTo('apps.connections.open').length > opens ? true : undefined,
    );
    await slack.front.stop();
    const count = sm.connections.length;
    await until('the fake to see the socket closed', () => sm.openCount === 0);
    await sleep(2_000);
    assert.equal(sm.openCount, 0, 'no socket opened after stop()');
    assert.equal(sm.connections.length, count);
    assert.ok(sm.connections.every((c) => c.closeCode === 1000));
  });
});
