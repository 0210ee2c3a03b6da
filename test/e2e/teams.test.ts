/**
 * The Teams front door end to end: botbuilder's real CloudAdapter behind bot/server.ts, a real
 * Temporal worker running patchCycle, PostgreSQL, and the fake Bot Connector at serviceUrl.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { CardPublisher } from '../../bot/cards/publisher.js';
import { progressQuery } from '../../workflows/messages.js';
import * as fake from '../fakes/teams/activities.js';
import { startFakeConnector, type FakeConnector } from '../fakes/teams/connector.js';
import { postActivity } from '../fakes/teams/tokens.js';
import { testDeps } from '../helpers/deps.js';
import { rolloutSuite } from '../helpers/rollout-suite.js';
import {
  ADA,
  CARD_TYPE,
  CHANNEL,
  TENANT,
  cardOf,
  serveTeams,
  teamsNotifier,
  teamsPolicies as policies,
  textOf,
  until,
  type ServedFrontDoor,
} from '../helpers/teams.js';
import { testLog } from '../helpers/temporal.js';

type Json = Record<string, unknown>;
const MALLORY = {
  id: '29:mallory',
  aadObjectId: '5d1c0b5e-0000-4000-8000-00000000beef',
  name: 'Mallory',
};
// Unique per run: a failed run must not leave a workflow that blocks the next one's start.
const RUN = randomBytes(3).toString('hex');
const ROLLOUT = `rollout-teams-1-${RUN}`;
const refreshOf = (a: Parameters<typeof cardOf>[0]) =>
  (cardOf(a) as { refresh?: { userIds: string[] } } | undefined)?.refresh;

describe('Teams front door', () => {
  const s = rolloutSuite();
  let connector: FakeConnector;
  let bot: ServedFrontDoor;
  let cardId = '';
  const logged: string[] = [];
  const inChannel = (over: Partial<fake.TeamsContext> = {}) =>
    fake.teamsContext({
      serviceUrl: connector.serviceUrl,
      conversationId: CHANNEL,
      tenantId: TENANT,
      ...over,
    });
  const post = (a: unknown) => postActivity(bot.url, a);
  /** A worker whose activities post through their own Teams notifier, as in production. */
  const workerDeps = (devicesPerClient: number, cardUpdateMs = 100) => {
    const deps = testDeps(s.db.store, {
      policies,
      simulator: { clients: 1, devicesPerClient, knownBadPatch: false, offlineRate: 0 },
    });
    deps.notifiers.push(teamsNotifier(s.db.store, testLog));
    deps.timing = { ...deps.timing, cardUpdateMs };
    return deps;
  };
  /** An invoke of the button with this verb on a card the fake connector holds. */
  const click = (
    cardActivityId: string,
    verb: string,
    data: Json,
    user?: fake.TeamsContext['user'],
  ) =>
    fake.actionInvoke(
      inChannel({
        conversationId: `${CHANNEL};messageid=${cardActivityId}`,
        ...(user ? { user } : {}),
      }),
      { verb, data, activityId: cardActivityId },
    );

  before(async () => {
    connector = await startFakeConnector();
    bot = await serveTeams(
      s,
      pino({ level: 'warn' }, { write: (l: string) => void logged.push(l) }),
    );
  });
  after(async () => {
    await bot?.close();
    await connector?.close();
  });

  it('with auth disabled says so loudly, stores where it is installed and says hello', async () => {
    assert.ok(
      logged.some((l) => l.includes('Teams authentication is DISABLED')),
      logged.join('\n'),
    );
    for (const a of [
      fake.conversationUpdateInstall(inChannel()),
      fake.installationUpdate(inChannel()),
    ])
      assert.equal((await post(a)).status, 200);
    const personal = inChannel({ conversationId: 'a:1personal-chat' });
    assert.equal((await post(fake.conversationUpdateInstall(personal))).status, 200);
    const convs = await s.db.store.chat.conversations('teams');
    assert.deepEqual(
      convs.map((c) => [c.conversationId, c.conversationType, c.tenantId, c.reference.serviceUrl]),
      [
        [CHANNEL, 'channel', TENANT, connector.serviceUrl],
        ['a:1personal-chat', 'personal', TENANT, connector.serviceUrl],
      ],
    );
    assert.match(String(connector.activities(CHANNEL)[0]?.text), /Hi, I am patchops[\s\S]*status/);
    const targets = await teamsNotifier(s.db.store, testLog).targets('acme');
    assert.deepEqual(targets, [CHANNEL], 'cards go to channels, not personal chats');
    assert.equal((await post(fake.installationUpdate(personal, { action: 'remove' }))).status, 200);
    assert.equal(await s.db.store.chat.conversation('teams', 'a:1personal-chat'), undefined);
  });

  it('posts the card, refuses an outsider, takes one approval from 20 clicks and updates the card for everyone', async () => {
    // The worker's own card updates wait a minute (flushed when it stops), so every update of
    // the card while the clicks are handled comes from the front door.
    const state = await s.t.withWorker(workerDeps(10, 60_000), async () => {
      const handle = await s.start(ROLLOUT);
      const posted = await until('the approval card', () =>
        connector.activities(CHANNEL).find((a) => textOf(cardOf(a)).includes(ROLLOUT)),
      );
      cardId = posted.id;
      // Ada installed the bot, so her Teams user id is known: the card names her by it.
      assert.deepEqual(refreshOf(posted)?.userIds, [inChannel().user.id]);
      assert.ok(!connector.requests.some((r) => r.operation === 'getConversationMember'));
      const approve = cardOf(posted)?.actions?.find((a) => a.verb === 'approve');
      assert.ok(approve, textOf(posted));
      const data = approve.data as Json;

      const status = fake.message(inChannel({ conversationId: `${CHANNEL};messageid=${cardId}` }), {
        text: 'status',
      });
      assert.equal(status.text, '<at>Patchops</at> status');
      assert.equal((await post(status)).status, 200);
      const reply = connector.requests.find(
        (r) => r.operation === 'replyToActivity' && r.activityId === status.id,
      );
      assert.match(textOf(reply?.body), new RegExp(ROLLOUT));

      const refused = await post(click(cardId, 'approve', data, MALLORY));
      assert.equal(refused.status, 200);
      assert.equal((refused.body as Json).type, CARD_TYPE);
      assert.match(textOf(refused.body), /You are not an approver for client acme/);
      assert.equal((await handle.query(progressQuery)).phase, 'awaiting_approval');

      // 20 quick clicks: half are one invoke delivered again (same activity id), half new ones.
      const sentBefore = connector.requests.length;
      const again = click(cardId, 'approve', data);
      const clicks = Array.from({ length: 20 }, (_, i) =>
        i % 2 ? again : click(cardId, 'approve', data),
      );
      for (const a of await Promise.all(clicks.map(post))) {
        assert.equal(a.status, 200);
        assert.match(textOf(a.body), /approve recorded \(by teams:c33aafc4/);
      }
      await bot.door.idle();
      const duringClicks = connector.requests
        .slice(sentBefore)
        .filter((r) => r.operation === 'updateActivity' && r.activityId === cardId);
      // One update round for the decision, not one per click: repeats change nothing to show.
      assert.ok(
        duringClicks.length >= 1 && duringClicks.length <= 3,
        `${duringClicks.length} card updates`,
      );
      return handle.result();
    });
    assert.equal(state.phase, 'completed');
    assert.deepEqual(await s.db.store.records.approvals(ROLLOUT), [
      { decision: 'approve', decidedBy: `teams:${ADA}`, via: 'teams' },
    ]);
    const audit = await s.db.store.audit.listBySubject('rollout', ROLLOUT);
    assert.equal(audit.filter((e) => e.action === 'chat.unauthorised').length, 1);
    assert.equal(audit.filter((e) => e.action === 'rollout.approve').length, 1);
    await bot.door.idle();
    const shown = await until('the card updated for everyone', () => {
      const c = textOf(cardOf(connector.activity(CHANNEL, cardId)));
      return c.includes(`Approved by ${ADA} (teams)`) && c.includes('Completed') ? c : undefined;
    });
    assert.ok(!shown.includes('"verb":"approve"'), 'a decided card offers no Approve');
    assert.deepEqual(refreshOf(connector.activity(CHANNEL, cardId))?.userIds, [
      inChannel().user.id,
    ]);
    const puts = connector.requests.filter(
      (r) => r.operation === 'updateActivity' && r.activityId === cardId,
    );
    assert.ok(puts.length > 0 && puts.every((r) => r.status === 200));
  });

  it('reject needs a reason; with one the rollout ends rejected and the card says why', async () => {
    const id = `rollout-teams-2-${RUN}`;
    const state = await s.t.withWorker(workerDeps(5), async () => {
      const handle = await s.start(id);
      const posted = await until('the second card', () =>
        connector.activities(CHANNEL).find((a) => textOf(cardOf(a)).includes(id)),
      );
      const found = /"verb":"reject","data":(\{[^}]*\})/.exec(textOf(cardOf(posted)?.actions));
      const data = JSON.parse(found?.[1] ?? 'null') as Json;
      const reject = (reason: string) => post(click(posted.id, 'reject', { ...data, reason }));
      assert.match(textOf((await reject('  ')).body), /needs a reason/);
      assert.equal((await handle.query(progressQuery)).phase, 'awaiting_approval');
      assert.match(textOf((await reject('change freeze')).body), /reject recorded/);
      return handle.result();
    });
    assert.equal(state.phase, 'rejected');
    await bot.door.idle();
    const [msg] = await s.db.store.chat.messages(id, ['card'], 'teams');
    await until('the rejected card', () =>
      /Rejected by c33aafc4[^}]*change freeze/.test(
        textOf(cardOf(connector.activity(CHANNEL, msg?.messageRef ?? ''))),
      ),
    );
  });

  it('a new front door and notifier (a restart) update the card the first one posted', async () => {
    const before = connector.requests.length;
    const publisher = new CardPublisher({
      store: s.db.store,
      notifiers: [teamsNotifier(s.db.store, testLog)],
      log: testLog,
    });
    assert.equal(await publisher.refreshNow(ROLLOUT), 1);
    const puts = connector.requests
      .slice(before)
      .filter((r) => r.operation === 'updateActivity' && r.activityId === cardId);
    assert.ok(puts.length > 0, 'the restarted publisher updated the first card');
    assert.ok(puts.every((r) => r.conversationId === CHANNEL && r.status === 200));

    const second = await serveTeams(s, testLog);
    try {
      const refresh = fake.actionInvoke(inChannel(), {
        verb: 'refresh',
        data: { rolloutId: ROLLOUT, kind: 'rollout' },
        activityId: cardId,
        trigger: 'automatic',
      });
      const r = await postActivity(second.url, refresh);
      assert.equal(r.status, 200);
      assert.match(textOf(r.body), /Completed — Acme/);
      const refreshed = (r.body as { value?: { refresh?: { userIds: string[] } } }).value;
      assert.deepEqual(refreshed?.refresh?.userIds, [inChannel().user.id], 'keeps its refresh');
      const outsiderView = await postActivity(second.url, {
        ...refresh,
        id: 'f:outsider',
        from: MALLORY,
      });
      assert.match(textOf(outsiderView.body), /View only: you are not an approver for client acme/);
      const page = { action: 'details', rolloutId: ROLLOUT, page: 0, kind: 'rollout' };
      const detailsCard = await postActivity(second.url, click(cardId, 'details', page));
      assert.match(textOf(detailsCard.body), /Rollout patches[\s\S]*"verb":"refresh"/);
      const value = { action: 'details', rolloutId: ROLLOUT, page: 0 };
      const details = fake.submitMessage(inChannel(), { value, replyToId: cardId });
      assert.equal((await postActivity(second.url, details)).status, 200);
      const sent = connector.requests.find((x) => x.activityId === details.id);
      assert.match(textOf(sent?.body), /Rollout patches/);
    } finally {
      await second.close();
    }
  });
});
