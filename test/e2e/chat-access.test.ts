/**
 * Who sees what in chat, end to end: two clients (acme, globex) with their own approvers,
 * viewers and card channels, the real Slack (Bolt) and Teams (CloudAdapter) front doors on one
 * bot server, fake Slack Web API and Bot Connector, a real worker and PostgreSQL. Every read
 * path is asked by an approver, a viewer, a stranger in the client's channel and a stranger in
 * a DM; an approver's Slack id sent from another workspace approves nothing.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { before, describe, it } from 'node:test';
import { CardPublisher } from '../../bot/cards/publisher.js';
import { CommandRunner } from '../../bot/commands/runner.js';
import { CHAT_LIMITS } from '../../bot/commands/parse.js';
import { startBotServer, type BotServer } from '../../bot/server.js';
import { createSlackFrontDoor, type SlackFrontDoor } from '../../bot/slack/app.js';
import { createSlackNotifier, slackWebClient } from '../../bot/slack/notifier.js';
import { createTeamsAdapter } from '../../bot/teams/adapter.js';
import { createTeamsFrontDoor, type TeamsFrontDoor } from '../../bot/teams/bot.js';
import { createTeamsNotifier } from '../../bot/teams/notifier.js';
import type { SlackConfig } from '../../cli/config-chat.js';
import type { patchCycle } from '../../workflows/index.js';
import { decideUpdate, progressQuery } from '../../workflows/messages.js';
import {
  appHomeOpened,
  blockActions,
  slashCommand,
  viewBlockActions,
} from '../fakes/slack/payloads.js';
import { postToBolt } from '../fakes/slack/sign.js';
import type { FakeMessage } from '../fakes/slack/state.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack/web-api.js';
import * as teams from '../fakes/teams/activities.js';
import { startFakeConnector, type FakeConnector } from '../fakes/teams/connector.js';
import { postActivity } from '../fakes/teams/tokens.js';
import { policy, testDeps } from '../helpers/deps.js';
import { rolloutSuite } from '../helpers/rollout-suite.js';
import { clickOn, elementOf, startResponseSink, type ResponseSink } from '../helpers/slack.js';
import { OPEN_TEAMS, cardOf, repliesTo, textOf } from '../helpers/teams.js';
import { testLog } from '../helpers/temporal.js';
import { until } from '../helpers/until.js';

const RUN = randomBytes(3).toString('hex');
const ACME = `rollout-access-acme-${RUN}`;
const GLOBEX = `rollout-access-globex-${RUN}`;
const SECRET = 'access-signing-secret';

// Slack: one MSP workspace (T0001, the bot's), and T0002 where some other U0ACME lives.
const HOME = 'T0001';
const ELSEWHERE = 'T0002';
const [ACME_APPROVER, GLOBEX_APPROVER, ACME_VIEWER, NOC, STRANGER] = [
  'U0ACME',
  'U0GLOBEX',
  'U0AVIEW',
  'U0NOC',
  'U0STRANGER',
];
const C_ACME = 'C0ACME';
const C_GLOBEX = 'C0GLOBEX';
const DM = 'D0DIRECT';

// Teams: acme's approvers are in TENANT_A, globex's in TENANT_G; cards follow the tenant.
const TENANT_A = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const TENANT_G = '0e1d2c3b-4a59-4687-9a6b-5c4d3e2f1a0b';
const person = (n: number, name: string) => ({
  id: `29:person-${n}`,
  aadObjectId: `${String(n).repeat(8)}-646d-4543-9d4c-abd28e4d2110`,
  name,
});
const ADA = person(1, 'Ada (acme approver)');
const BEA = person(2, 'Bea (globex approver)');
const CAL = person(3, 'Cal (acme viewer)');
const DAN = person(4, 'Dan (nobody)');
const CH_A = '19:acmechannel0000000000000000000000@thread.tacv2';
const CH_G = '19:globexchannel00000000000000000000@thread.tacv2';

const policies = [
  policy(`
scope: { level: global }
approval: { default: needs_approval }
rings:
  - { name: pilot, members: { percent: 50 }, soak: 0s, successThreshold: 0.5, concurrency: 5 }
  - { name: broad, members: { percent: 50 }, soak: 0s, successThreshold: 0.5, concurrency: 5 }
windows: []
approvalTimeout: { after: 10m, remindEvery: 5m, outcome: reject }
viewers: { slack: { teamId: ${HOME}, users: [${NOC}] } }
`),
  policy(`
scope: { level: client, id: acme }
approvers:
  slack: { teamId: ${HOME}, users: [${ACME_APPROVER}] }
  teams: { tenantId: ${TENANT_A}, users: [${ADA.aadObjectId}] }
viewers:
  slack: { teamId: ${HOME}, users: [${ACME_VIEWER}] }
  teams: { tenantId: ${TENANT_A}, users: [${CAL.aadObjectId}] }
`),
  policy(`
scope: { level: client, id: globex }
approvers:
  slack: { teamId: ${HOME}, users: [${GLOBEX_APPROVER}] }
  teams: { tenantId: ${TENANT_G}, users: [${BEA.aadObjectId}] }
`),
];

/** The one refusal for "no such thing" and "not yours to see", with the id asked for. */
const hidden = (id: string) => `No client or rollout "${id}" that you can see here.`;

describe('chat read access per client, Slack and Teams', () => {
  const s = rolloutSuite();
  let fake: FakeSlack;
  let connector: FakeConnector;
  let sink: ResponseSink;
  let server: BotServer;
  let slackDoor: SlackFrontDoor;
  let teamsDoor: TeamsFrontDoor;
  let events: string;
  let stopWorker: () => void = () => undefined;
  let worker: Promise<void> | undefined;
  const cards = new Map<string, FakeMessage>();
  let frontPublisher: CardPublisher | undefined;

  const config: SlackConfig = {
    botToken: 'xoxb-test',
    signingSecret: SECRET,
    appToken: undefined,
    mode: 'http',
    apiUrl: undefined,
    channels: { acme: C_ACME, globex: C_GLOBEX },
    allowedChannels: [],
    allowedTeams: [HOME, ELSEWHERE],
  };

  before(async () => {
    fake = await startFakeSlack({
      channels: [
        { id: C_ACME, name: 'acme', members: [ACME_APPROVER, STRANGER] },
        { id: C_GLOBEX, name: 'globex', members: [GLOBEX_APPROVER, STRANGER] },
      ],
    });
    config.apiUrl = fake.url;
    connector = await startFakeConnector();
    sink = await startResponseSink();
    const store = s.db.store;
    const slackNotifier = () => createSlackNotifier(config, slackWebClient(config));
    const teamsNotifier = () =>
      createTeamsNotifier({
        ...createTeamsAdapter(OPEN_TEAMS, testLog),
        store,
        policies,
        log: testLog,
      });
    const runner = new CommandRunner({
      temporal: s.t.client,
      taskQueue: s.t.taskQueue,
      store,
      policies,
      log: testLog,
    });
    const publisher = (frontPublisher = new CardPublisher({
      store,
      notifiers: [slackNotifier(), teamsNotifier()],
      log: testLog,
      updateIntervalMs: 100,
    }));
    const common = { runner, publisher, store, policies, log: testLog };
    slackDoor = createSlackFrontDoor({ ...common, config });
    teamsDoor = createTeamsFrontDoor({ ...common, config: OPEN_TEAMS });
    await slackDoor.start();
    server = await startBotServer(
      { slack: slackDoor.handler, teams: teamsDoor.handler },
      '127.0.0.1',
      0,
      (err) => testLog.error({ err }),
    );
    events = `${server.url}/slack/events`;
    // The bot is in one Teams channel per tenant.
    for (const [conversationId, tenantId] of [
      [CH_A, TENANT_A],
      [CH_G, TENANT_G],
    ] as const) {
      const install = teams.conversationUpdateInstall(
        teams.teamsContext({ serviceUrl: connector.serviceUrl, conversationId, tenantId }),
      );
      assert.equal((await postActivity(`${server.url}/api/messages`, install)).status, 200);
    }

    const deps = testDeps(store, {
      policies,
      simulator: {
        clients: 2,
        devicesPerClient: 4,
        knownBadPatch: false,
        offlineRate: 0,
        userDeferRate: 0,
      },
    });
    deps.notifiers.push(slackNotifier(), teamsNotifier());
    deps.timing = { ...deps.timing, cardUpdateMs: 100 };
    const stopped = new Promise<void>((resolve) => (stopWorker = resolve));
    worker = s.t.withWorker(deps, () => stopped);
    await Promise.all([s.start(ACME, 'acme'), s.start(GLOBEX, 'globex')]);
    for (const [id, channel] of [
      [ACME, C_ACME],
      [GLOBEX, C_GLOBEX],
    ] as const) {
      const card = await until(`${id}'s approval card in ${channel}`, () =>
        (fake.messages.get(channel) ?? []).find(
          (m) => !m.thread_ts && JSON.stringify(m.blocks).includes(id) && elementOf(m, 'approve'),
        ),
      );
      cards.set(id, card);
    }
  });
  s.beforeTeardown(async () => {
    for (const id of [ACME, GLOBEX])
      await s.t.client.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined);
    stopWorker();
    await worker;
    await teamsDoor?.idle();
    await server?.close();
    await slackDoor?.stop();
    await frontPublisher?.flush();
    await fake?.close();
    await connector?.close();
    sink?.server.close();
  });

  // ---- Slack ---------------------------------------------------------------------------

  /** `/patch <text>` as `user` of `team` in `channel`; answers the reply text. */
  const patch = async (text: string, user: string, channel = DM, team = HOME) => {
    const n = sink.bodies.length;
    const r = await postToBolt(
      events,
      SECRET,
      slashCommand({ command: '/patch', text, user, channel, team, responseUrl: sink.url }),
    );
    assert.equal(r.status, 200, r.body);
    const reply = await until(`the reply to "/patch ${text}"`, () => sink.bodies[n]);
    return (reply as { text: string }).text;
  };
  const rolloutsIn = (text: string) =>
    [ACME, GLOBEX].filter((id) => text.includes(id)).map((id) => (id === ACME ? 'acme' : 'globex'));

  it('/patch status lists, in a DM, only the rollouts of clients the person may see', async () => {
    assert.deepEqual(rolloutsIn(await patch('status', ACME_APPROVER)), ['acme']);
    assert.deepEqual(rolloutsIn(await patch('status', GLOBEX_APPROVER)), ['globex']);
    assert.deepEqual(rolloutsIn(await patch('status', ACME_VIEWER)), ['acme']);
    assert.deepEqual(rolloutsIn(await patch('status', NOC)), ['acme', 'globex']);
    const stranger = await patch('status', STRANGER);
    assert.deepEqual(rolloutsIn(stranger), []);
    assert.match(stranger, /You can see no client here/);
    // The approver's id from another workspace is someone else.
    assert.deepEqual(rolloutsIn(await patch('status', ACME_APPROVER, DM, ELSEWHERE)), []);
  });

  it("/patch status in a client's channel shows that client to anyone there, and no other", async () => {
    assert.deepEqual(rolloutsIn(await patch('status', STRANGER, C_ACME)), ['acme']);
    assert.deepEqual(rolloutsIn(await patch('status', STRANGER, C_GLOBEX)), ['globex']);
    assert.equal(await patch(`status ${GLOBEX}`, STRANGER, C_ACME), hidden(GLOBEX));
  });

  it('/patch status ROLLOUT or CLIENT: the card for readers, one refusal for the rest', async () => {
    assert.match(await patch(`status ${ACME}`, ACME_APPROVER), new RegExp(ACME));
    assert.match(await patch(`status ${ACME}`, ACME_VIEWER), new RegExp(ACME));
    // Not visible and not existing read the same.
    assert.equal(await patch(`status ${ACME}`, GLOBEX_APPROVER), hidden(ACME));
    assert.equal(await patch(`status ${ACME}-nope`, GLOBEX_APPROVER), hidden(`${ACME}-nope`));
    assert.equal(await patch('status acme', GLOBEX_APPROVER), hidden('acme'));
    assert.equal(await patch('status initech', GLOBEX_APPROVER), hidden('initech'));
    assert.equal(await patch(`status ${ACME}`, ACME_APPROVER, DM, ELSEWHERE), hidden(ACME));
    assert.deepEqual(rolloutsIn(await patch('status globex', GLOBEX_APPROVER)), ['globex']);
  });

  it('/patch report shows only the clients the person may see', async () => {
    const clientsIn = (text: string) =>
      ['acme', 'globex'].filter((c) => new RegExp(`• ${c} / `).test(text));
    assert.deepEqual(clientsIn(await patch('report', ACME_APPROVER)), ['acme']);
    assert.deepEqual(clientsIn(await patch('report', GLOBEX_APPROVER)), ['globex']);
    assert.deepEqual(clientsIn(await patch('report', NOC)), ['acme', 'globex']);
    assert.deepEqual(clientsIn(await patch('report', STRANGER, C_GLOBEX)), ['globex']);
    assert.match(
      await patch('report', STRANGER),
      /^No devices known yet for the clients you can see/,
    );
    assert.equal(await patch('report acme', GLOBEX_APPROVER), hidden('acme'));
    assert.equal(await patch('report acme', STRANGER, C_GLOBEX), hidden('acme'));
    assert.deepEqual(clientsIn(await patch('report acme', STRANGER, C_ACME)), ['acme']);
  });

  /** Clicks View details of `rolloutId` as `user`, from `channel`; whether a modal opened. */
  const details = async (rolloutId: string, user: string, channel: string) => {
    const card = cards.get(rolloutId)!;
    const opened = fake.callsTo('views.open').length;
    const warned = fake.ephemerals.length;
    const click = clickOn({ ...card, channel }, 'details', user);
    assert.equal((await postToBolt(events, SECRET, click)).status, 200);
    const outcome = await until('a modal or a refusal', () =>
      fake.callsTo('views.open').length > opened
        ? 'opened'
        : fake.ephemerals.length > warned
          ? fake.ephemerals.at(-1)!.text
          : undefined,
    );
    return outcome;
  };

  it('View details opens for readers; the same click from elsewhere is refused without saying why', async () => {
    assert.equal(await details(ACME, STRANGER, C_ACME), 'opened');
    assert.equal(
      await details(ACME, STRANGER, C_GLOBEX),
      'No rollout by that id that you can see here.',
    );
    assert.equal(
      await details(GLOBEX, ACME_APPROVER, C_ACME),
      'No rollout by that id that you can see here.',
    );
    assert.equal(await details(GLOBEX, GLOBEX_APPROVER, C_ACME), 'opened', 'an approver anywhere');

    // Paging inside the modal: the modal remembers the channel it was opened from.
    const view = [...fake.views.values()].at(-1)!;
    assert.match(String(view.private_metadata), /C0GLOBEX|C0ACME/);
    const page = JSON.stringify({ action: 'details', rolloutId: ACME, page: 0 });
    const updated = fake.callsTo('views.update').length;
    const modal = { ...view, private_metadata: JSON.stringify({ channel: C_ACME }) };
    const inModal = viewBlockActions({
      user: STRANGER,
      view: modal,
      actionId: 'patchops.details',
      value: page,
    });
    assert.equal((await postToBolt(events, SECRET, inModal)).status, 200);
    await until('views.update', () => fake.callsTo('views.update').length > updated);
    const elsewhere = { ...view, private_metadata: JSON.stringify({ channel: C_GLOBEX }) };
    const refused = viewBlockActions({
      user: STRANGER,
      view: elsewhere,
      actionId: 'patchops.details',
      value: page,
    });
    assert.equal((await postToBolt(events, SECRET, refused)).status, 200);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(fake.callsTo('views.update').length, updated + 1, 'no page for a non-reader');
  });

  it('App Home lists only what the person approves or views', async () => {
    const home = async (user: string, team = HOME) => {
      const n = fake.callsTo('views.publish').length;
      assert.equal((await postToBolt(events, SECRET, appHomeOpened({ user, team }))).status, 200);
      await until('views.publish', () => fake.callsTo('views.publish').length > n);
      return JSON.stringify(fake.callsTo('views.publish').at(-1)!.body);
    };
    const shown = (text: string) => rolloutsIn(text);
    assert.deepEqual(shown(await home(ACME_APPROVER)), ['acme']);
    assert.deepEqual(shown(await home(GLOBEX_APPROVER)), ['globex']);
    assert.deepEqual(shown(await home(NOC)), ['acme', 'globex']);
    const stranger = await home(STRANGER);
    assert.deepEqual(shown(stranger), []);
    assert.ok(!/• acme|• globex/.test(stranger), 'no compliance lines either');
    assert.deepEqual(shown(await home(ACME_APPROVER, ELSEWHERE)), []);
  });

  it('too-long chat input is refused naming the field and the limit; nothing changes', async () => {
    const long = 'x'.repeat(CHAT_LIMITS.rolloutId + 1);
    assert.match(
      await patch(`approve ${long}`, ACME_APPROVER),
      /^rolloutId is too long: at most 200 characters/,
    );
    assert.match(
      await patch(`reject ${ACME} ${'y'.repeat(CHAT_LIMITS.reason + 1)}`, ACME_APPROVER),
      /^reason is too long: at most 500 characters/,
    );
    const card = cards.get(ACME)!;
    const warned = fake.ephemerals.length;
    const click = blockActions({
      user: ACME_APPROVER,
      channel: C_ACME,
      messageTs: card.ts,
      actionId: 'patchops.promote',
      value: JSON.stringify({ action: 'promote', rolloutId: ACME, ring: 'r'.repeat(65) }),
    });
    assert.equal((await postToBolt(events, SECRET, click)).status, 200);
    const said = await until('the refusal', () => fake.ephemerals[warned]);
    assert.match(said.text, /^ring is too long: at most 64 characters/);
    const phase = await s.t.client.workflow.getHandle<typeof patchCycle>(ACME).query(progressQuery);
    assert.equal(phase.phase, 'awaiting_approval');
  });

  // ---- Teams ---------------------------------------------------------------------------

  const teamsUrl = () => `${server.url}/api/messages`;
  const personal = (who: typeof ADA, tenantId: string) =>
    teams.teamsContext({
      serviceUrl: connector.serviceUrl,
      conversationId: `a:1personal-${who.aadObjectId}`,
      tenantId,
      user: who,
    });
  const inChannel = (who: typeof ADA, channel: string, tenantId: string) =>
    teams.teamsContext({
      serviceUrl: connector.serviceUrl,
      conversationId: channel,
      tenantId,
      user: who,
      botName: 'patchops',
    });
  const say = async (text: string, ctx: teams.TeamsContext) => {
    const m = teams.message(ctx, { text });
    const r = await postActivity(teamsUrl(), m);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return repliesTo(connector, m.id).join('\n');
  };
  const invoke = async (ctx: teams.TeamsContext, verb: string, data: Record<string, unknown>) => {
    const r = await postActivity(
      teamsUrl(),
      teams.actionInvoke(ctx, { verb, data, activityId: '1' }),
    );
    return r as { status: number; body: { statusCode?: number; type?: string; value?: unknown } };
  };

  it('Teams messages: status and report show each person their clients', async () => {
    assert.deepEqual(rolloutsIn(await say('status', personal(ADA, TENANT_A))), ['acme']);
    assert.deepEqual(rolloutsIn(await say('status', personal(BEA, TENANT_G))), ['globex']);
    assert.deepEqual(rolloutsIn(await say('status', personal(CAL, TENANT_A))), ['acme']);
    assert.deepEqual(rolloutsIn(await say('status', personal(DAN, TENANT_A))), []);
    assert.deepEqual(rolloutsIn(await say('status', personal(ADA, TENANT_G))), [], 'wrong tenant');
    assert.deepEqual(rolloutsIn(await say('status', inChannel(DAN, CH_A, TENANT_A))), ['acme']);
    assert.deepEqual(rolloutsIn(await say('status', inChannel(DAN, CH_G, TENANT_G))), ['globex']);
    assert.equal(await say(`status ${ACME}`, personal(BEA, TENANT_G)), hidden(ACME));
    assert.equal(await say('report globex', personal(ADA, TENANT_A)), hidden('globex'));
    assert.match(await say('report', personal(ADA, TENANT_A)), /• acme \/ /);
    assert.doesNotMatch(await say('report', personal(ADA, TENANT_A)), /• globex \/ /);
  });

  it('Teams card refresh and details: readers get the card, others one neutral message', async () => {
    const refresh = { rolloutId: ACME, kind: 'rollout' };
    const ok = await invoke(personal(CAL, TENANT_A), 'refresh', refresh);
    assert.equal(ok.body.type, 'application/vnd.microsoft.card.adaptive');
    assert.match(textOf(ok.body.value), new RegExp(ACME));
    const inChannelOk = await invoke(inChannel(DAN, CH_A, TENANT_A), 'refresh', refresh);
    assert.equal(inChannelOk.body.type, 'application/vnd.microsoft.card.adaptive');

    const NOT_VISIBLE = 'Nothing to show: no rollout by that id that you can see here.';
    for (const ctx of [
      personal(DAN, TENANT_A),
      personal(BEA, TENANT_G),
      inChannel(DAN, CH_G, TENANT_G),
    ]) {
      const r = await invoke(ctx, 'refresh', refresh);
      assert.equal(r.status, 200);
      assert.deepEqual(
        [r.body.type, r.body.value],
        ['application/vnd.microsoft.activity.message', NOT_VISIBLE],
      );
      const d = await invoke(ctx, 'details', { action: 'details', rolloutId: ACME, page: 0 });
      assert.deepEqual(
        [d.body.type, d.body.value],
        ['application/vnd.microsoft.activity.message', NOT_VISIBLE],
      );
    }
    const unknown = await invoke(personal(DAN, TENANT_A), 'refresh', { rolloutId: `${ACME}-nope` });
    assert.equal(
      unknown.body.value,
      NOT_VISIBLE,
      'the same words for a rollout that does not exist',
    );
    const d = await invoke(personal(CAL, TENANT_A), 'details', {
      action: 'details',
      rolloutId: ACME,
      page: 0,
    });
    assert.equal(d.body.type, 'application/vnd.microsoft.card.adaptive');

    // A click on approve by a non-reader: refused without naming the client, and nothing decided.
    const approve = await invoke(personal(DAN, TENANT_A), 'approve', {
      action: 'approve',
      rolloutId: ACME,
      round: 0,
    });
    assert.equal(approve.body.value, NOT_VISIBLE);
    const card = cardOf(connector.activities(CH_A).find((a) => textOf(cardOf(a)).includes(ACME)));
    assert.ok(card, 'the acme card went to the acme tenant channel');
    assert.ok(!connector.activities(CH_A).some((a) => textOf(cardOf(a)).includes(GLOBEX)));
  });

  it('Teams: an invoke without an action is a 400 with a reason, not a 501', async () => {
    const a = teams.actionInvoke(personal(ADA, TENANT_A), { verb: 'refresh', activityId: '1' });
    a.value = { action: null, trigger: 'manual' };
    const r = await postActivity(teamsUrl(), a);
    assert.equal(r.status, 400);
    assert.match(textOf(r.body), /carries no action/);
    const nameless = teams.actionInvoke(personal(ADA, TENANT_A), {
      verb: 'refresh',
      activityId: '1',
    });
    delete nameless.name;
    const n = await postActivity(teamsUrl(), nameless);
    assert.equal(n.status, 400);
    assert.match(textOf(n.body), /names no action/);
    const long = await invoke(personal(ADA, TENANT_A), 'promote', {
      action: 'promote',
      rolloutId: ACME,
      ring: 'r'.repeat(CHAT_LIMITS.ring + 1),
    });
    assert.match(textOf(long.body.value), /^"ring is too long: at most 64 characters/);
  });

  // ---- the cross-workspace approval ----------------------------------------------------

  it("an approver's Slack id from another workspace approves nothing; from the right one it does", async () => {
    const handle = s.t.client.workflow.getHandle<typeof patchCycle>(ACME);
    // Typed in a DM from the other workspace: refused, and not even told the rollout exists.
    assert.equal(await patch(`approve ${ACME}`, ACME_APPROVER, DM, ELSEWHERE), hidden(ACME));
    // Clicked on the card in acme's channel (a Slack Connect guest, say): refused.
    const card = cards.get(ACME)!;
    const warned = fake.ephemerals.length;
    const click = clickOn(card, 'approve', ACME_APPROVER);
    const body = new URLSearchParams(click.body);
    const payload = JSON.parse(body.get('payload')!) as {
      team: { id: string };
      user: { team_id: string };
    };
    payload.team.id = ELSEWHERE;
    payload.user.team_id = ELSEWHERE;
    body.set('payload', JSON.stringify(payload));
    assert.equal(
      (await postToBolt(events, SECRET, { ...click, body: body.toString() })).status,
      200,
    );
    const refusal = await until('the refusal', () => fake.ephemerals[warned]);
    assert.match(refusal.text, /not an approver for client acme/);
    // And the workflow itself, asked directly, refuses the other workspace's id too.
    await assert.rejects(
      handle.executeUpdate(decideUpdate, {
        args: [
          { decision: 'approve', approver: { id: ACME_APPROVER, via: 'slack', tenant: ELSEWHERE } },
        ],
      }),
      (err: Error) =>
        err instanceof WorkflowUpdateFailedError &&
        /not an approver/.test(String(err.cause?.message)),
    );
    assert.equal((await handle.query(progressQuery)).phase, 'awaiting_approval');
    assert.deepEqual(await s.db.store.records.approvals(ACME), []);

    // The same id from the workspace the policy names approves.
    assert.equal(
      (await postToBolt(events, SECRET, clickOn(card, 'approve', ACME_APPROVER))).status,
      200,
    );
    await until('the approval', async () => (await s.db.store.records.approvals(ACME)).length > 0);
    assert.deepEqual(
      (await s.db.store.records.approvals(ACME)).map((a) => [a.decision, a.decidedBy]),
      [['approve', `slack:${ACME_APPROVER}`]],
    );
  });
});
