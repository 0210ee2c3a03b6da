/**
 * Adaptive Card refresh.userIds on the wire: policy lists Teams approvers by AAD object id, the
 * card must name them by Teams user id (MRI). The bot learns MRIs from activities; a worker asks
 * the fake Bot Connector (GET /v3/conversations/{team}/members/{aadObjectId}) for approvers who
 * never spoke, stores the answer and leaves out anyone who is not a member.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CardPublisher } from '../../bot/cards/publisher.js';
import { createTeamsAdapter } from '../../bot/teams/adapter.js';
import { createTeamsNotifier } from '../../bot/teams/notifier.js';
import * as fake from '../fakes/teams/activities.js';
import {
  startFakeConnector,
  type FakeConnector,
  type TeamsMember,
} from '../fakes/teams/connector.js';
import { postActivity } from '../fakes/teams/tokens.js';
import { policy, testDeps } from '../helpers/deps.js';
import { rolloutSuite } from '../helpers/rollout-suite.js';
import {
  ADA,
  CHANNEL,
  OPEN_TEAMS,
  TENANT,
  cardOf,
  serveTeams,
  textOf,
  until,
  type ServedFrontDoor,
} from '../helpers/teams.js';
import { testLog } from '../helpers/temporal.js';

/** The team the channel belongs to: its id is the General channel's, not CHANNEL. */
const TEAM = '19:2b7fd1d0a4d34b3d8e51c7e0d9b1f0aa@thread.tacv2';
// Unique per run: a failed run must not leave a workflow that blocks the next one's start.
const ROLLOUT = `rollout-teams-refresh-${randomBytes(3).toString('hex')}`;
const member = (id: string, aadObjectId: string, name: string): TeamsMember => ({
  id,
  aadObjectId,
  name,
  userPrincipalName: `${name.toLowerCase()}@contoso.example`,
  tenantId: TENANT,
  userRole: 'user',
});
/** In the team, never spoke to the bot. */
const BOB = member('29:1bobXq2Lw0T9d7Yc', '0b0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d', 'Bob');
/** An approver in policy who is not in the team (yet). */
const CAROL = member('29:1carolP4kZ8vN3s', 'ca401c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d', 'Carol');

const policies = [
  policy(`
scope: { level: global }
approval: { default: needs_approval }
rings:
  - { name: pilot, members: { percent: 50 }, soak: 0s, successThreshold: 0.5, concurrency: 5 }
windows: []
approvers: { teams: { tenantId: ${TENANT}, users: [${ADA}, ${BOB.aadObjectId}, ${CAROL.aadObjectId}] } }
approvalTimeout: { after: 10m, remindEvery: 5m, outcome: reject }
circuitBreaker: { maxFailureRate: 0.9, minSamples: 5 }
reboot: { mode: if_required, userDeferrals: 0 }
`),
];

const refreshOf = (a: Parameters<typeof cardOf>[0]) =>
  (cardOf(a) as { refresh?: { userIds: string[]; action: { verb: string } } } | undefined)?.refresh;

describe('Teams card refresh names approvers by Teams user id', () => {
  const s = rolloutSuite();
  let connector: FakeConnector;
  let bot: ServedFrontDoor;
  const inChannel = () =>
    fake.teamsContext({
      serviceUrl: connector.serviceUrl,
      conversationId: CHANNEL,
      teamId: TEAM,
      tenantId: TENANT,
    });
  /** Ada: the builders' default user, who installs the bot. */
  const adaMri = () => inChannel().user.id;
  const memberAsks = () =>
    connector.requests.filter((r) => r.operation === 'getConversationMember');

  before(async () => {
    connector = await startFakeConnector();
    bot = await serveTeams(s, testLog);
  });
  after(async () => {
    await bot?.close();
    await connector?.close();
  });

  it('lists MRIs: learned ones, asked ones, never a non-member; asks once; learns who joins', async () => {
    const ada = member(adaMri(), ADA, 'Ada');
    connector.setMembers(TEAM, [ada, BOB]);
    for (const a of [
      fake.conversationUpdateInstall(inChannel()),
      fake.installationUpdate(inChannel()),
    ])
      assert.equal((await postActivity(bot.url, a)).status, 200);
    assert.equal((await s.db.store.chat.conversation('teams', CHANNEL))?.teamId, TEAM);

    // A worker process: its own notifier and user directory, as `patchops worker` builds them.
    const notifier = createTeamsNotifier({
      ...createTeamsAdapter(OPEN_TEAMS, testLog),
      store: s.db.store,
      policies,
      log: testLog,
    });
    const deps = testDeps(s.db.store, {
      policies,
      simulator: { clients: 1, devicesPerClient: 4, knownBadPatch: false, offlineRate: 0 },
    });
    deps.notifiers.push(notifier);
    deps.timing = { ...deps.timing, cardUpdateMs: 100 };

    await s.t.withWorker(deps, async () => {
      const handle = await s.start(ROLLOUT);
      try {
        const posted = await until('the approval card', () =>
          connector.activities(CHANNEL).find((a) => textOf(cardOf(a)).includes(ROLLOUT)),
        );
        const refresh = refreshOf(posted);
        assert.equal(refresh?.action.verb, 'refresh');
        assert.deepEqual(refresh?.userIds, [adaMri(), BOB.id], 'Ada learned, Bob asked, no Carol');
        assert.ok(!textOf(refresh).includes(ADA), 'no AAD id in userIds');
        const asked = memberAsks()
          .map((r) => [r.method, r.conversationId, r.memberId, r.status])
          .sort();
        assert.deepEqual(
          asked,
          [
            ['GET', TEAM, BOB.aadObjectId, 200],
            ['GET', TEAM, CAROL.aadObjectId, 404],
          ].sort(),
          'asked in the team, by AAD id, only for approvers it did not know',
        );
        const stored = await s.db.store.chat.userRefs('teams', TENANT, [BOB.aadObjectId]);
        assert.equal(stored.get(BOB.aadObjectId), BOB.id);

        // Later updates of the card ask nothing: Bob is stored, Carol's 404 is remembered.
        // (The card is on the connector a moment before its reference is recorded.)
        await until('the card recorded', async () => {
          const [m] = await s.db.store.chat.messages(ROLLOUT, ['card'], 'teams');
          return m?.messageRef;
        });
        const publisher = new CardPublisher({
          store: s.db.store,
          notifiers: [notifier],
          log: testLog,
        });
        const puts = () =>
          connector.requests.filter(
            (r) => r.operation === 'updateActivity' && r.activityId === posted.id,
          );
        const before = puts().length;
        assert.equal(await publisher.refreshNow(ROLLOUT), 1);
        assert.equal(await publisher.refreshNow(ROLLOUT), 1);
        assert.ok(puts().length >= before + 2);
        assert.equal(memberAsks().length, 2);
        assert.deepEqual(refreshOf(connector.activity(CHANNEL, posted.id))?.userIds, [
          adaMri(),
          BOB.id,
        ]);

        // Carol joins the team: the bot learns her MRI and the next update lists her, unasked.
        connector.setMembers(TEAM, [ada, BOB, CAROL]);
        const joined = fake.membersAdded(inChannel(), [CAROL]);
        assert.equal((await postActivity(bot.url, joined)).status, 200);
        await publisher.refreshNow(ROLLOUT);
        const withCarol = [adaMri(), BOB.id, CAROL.id];
        await until('the card listing Carol', () => {
          const ids = refreshOf(connector.activity(CHANNEL, posted.id))?.userIds;
          return textOf(ids) === textOf(withCarol);
        });
        assert.equal(memberAsks().length, 2);
      } finally {
        await handle.terminate('test done');
      }
    });
  });
});
