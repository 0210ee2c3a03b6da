/**
 * Decisions from Teams cards beyond the Universal Actions happy path: the Action.Submit fallback
 * (a message with `value`, as older clients send a click) and a person from another tenant who
 * carries an approver's AAD object id. Real CloudAdapter over HTTP, fake Bot Connector, real
 * worker and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { progressQuery } from '../../workflows/messages.js';
import * as fake from '../fakes/teams/activities.js';
import { startFakeConnector, type FakeConnector } from '../fakes/teams/connector.js';
import { postActivity } from '../fakes/teams/tokens.js';
import { rolloutSuite } from '../helpers/rollout-suite.js';
import {
  ADA,
  CHANNEL,
  TENANT,
  cardOf,
  repliesTo,
  serveTeams,
  teamsWorkerDeps,
  textOf,
  until,
  type ServedFrontDoor,
} from '../helpers/teams.js';
import { testLog } from '../helpers/temporal.js';

type Json = Record<string, unknown>;
const run = randomBytes(3).toString('hex');
/** Another organisation's tenant, whose directory happens to hold an object with Ada's id. */
const OTHER_TENANT = '0e1d2c3b-4a59-4687-9a6b-5c4d3e2f1a0b';

describe('Teams card decisions: Action.Submit and other tenants', () => {
  const s = rolloutSuite();
  let connector: FakeConnector;
  let bot: ServedFrontDoor;
  const post = (a: unknown) => postActivity(bot.url, a);
  /** The card's thread, as Teams names the conversation of a click on it. */
  const onCard = (cardId: string, over: Partial<fake.TeamsContext> = {}) =>
    fake.teamsContext({
      serviceUrl: connector.serviceUrl,
      conversationId: `${CHANNEL};messageid=${cardId}`,
      tenantId: TENANT,
      ...over,
    });
  /** Starts a rollout and answers its posted card's id and its Approve button's data. */
  const cardFor = async (id: string) => {
    const handle = await s.start(id);
    const posted = await until('the approval card', () =>
      connector.activities(CHANNEL).find((a) => textOf(cardOf(a)).includes(id)),
    );
    const approve = cardOf(posted)?.actions?.find((a) => a.verb === 'approve');
    assert.ok(approve, textOf(cardOf(posted)));
    return { handle, cardId: posted.id, data: approve.data as Json };
  };
  const decisions = async (id: string) =>
    (await s.db.store.audit.listBySubject('rollout', id)).filter(
      (e) => e.action === 'rollout.approve',
    );

  before(async () => {
    connector = await startFakeConnector();
    bot = await serveTeams(s, testLog);
    const install = fake.conversationUpdateInstall(
      fake.teamsContext({
        serviceUrl: connector.serviceUrl,
        conversationId: CHANNEL,
        tenantId: TENANT,
      }),
    );
    assert.equal((await post(install)).status, 200);
  });
  after(async () => {
    await bot?.close();
    await connector?.close();
  });

  it('an Action.Submit approve decides once; its redelivery and a second click decide nothing', async () => {
    const id = `rollout-teams-submit-${run}`;
    const state = await s.t.withWorker(teamsWorkerDeps(s), async () => {
      const { handle, cardId, data } = await cardFor(id);
      // Teams sends the button's data as `value` of a message without text, replying to the card.
      const submit = fake.submitMessage(onCard(cardId), { value: data, replyToId: cardId });
      assert.equal(submit.text, undefined);
      assert.equal((await post(submit)).status, 200);
      assert.match(repliesTo(connector, submit.id).join('\n'), /approve recorded \(by teams:c33/);
      assert.deepEqual(await s.db.store.records.approvals(id), [
        { decision: 'approve', decidedBy: `teams:${ADA}`, via: 'teams' },
      ]);

      const again = fake.submitMessage(onCard(cardId), { value: data, replyToId: cardId });
      for (const a of [submit, again]) {
        const before = repliesTo(connector, a.id).length;
        assert.equal((await post(a)).status, 200);
        const replies = repliesTo(connector, a.id);
        assert.equal(replies.length, before + 1);
        assert.match(replies.at(-1) ?? '', /approve recorded \(by teams:c33/, 'the first outcome');
      }
      return handle.result();
    });
    assert.equal(state.phase, 'completed');
    assert.equal((await s.db.store.records.approvals(id)).length, 1, 'one decision');
    assert.equal((await decisions(id)).length, 1, 'one audited decision');
    await bot.door.idle();
    const [msg] = await s.db.store.chat.messages(id, ['card'], 'teams');
    await until('the card shows the decision to everyone', () =>
      textOf(cardOf(connector.activity(CHANNEL, msg?.messageRef ?? ''))).includes(
        `Approved by ${ADA} (teams)`,
      ),
    );
  });

  it("someone from another tenant with an approver's AAD id cannot decide, is told so and is audited", async () => {
    const id = `rollout-teams-tenant-${run}`;
    const state = await s.t.withWorker(teamsWorkerDeps(s), async () => {
      const { handle, cardId, data } = await cardFor(id);
      const impostor = onCard(cardId, {
        tenantId: OTHER_TENANT,
        user: { id: '29:1fabrikam-ada', aadObjectId: ADA, name: 'Ada (Fabrikam)' },
      });
      const click = fake.actionInvoke(impostor, { verb: 'approve', data, activityId: cardId });
      assert.equal(click.from?.aadObjectId, ADA);
      assert.equal((click.channelData as { tenant: { id: string } }).tenant.id, OTHER_TENANT);
      const r = await post(click);
      assert.equal(r.status, 200);
      // From another tenant they may not even see the rollout: refused in words that do not
      // say whether it exists (nor whose it is), and audited all the same.
      const hidden = 'Nothing to show: no rollout by that id that you can see here.';
      assert.equal((r.body as Json).type, 'application/vnd.microsoft.activity.message');
      assert.equal((r.body as Json).value, hidden);

      // The other ways in are shut as well: the Action.Submit fallback and a typed command.
      const submit = fake.submitMessage(impostor, { value: data, replyToId: cardId });
      assert.equal((await post(submit)).status, 200);
      assert.equal(
        repliesTo(connector, submit.id).join('\n'),
        `No client or rollout "${id}" that you can see here.`,
      );
      const typed = fake.message(impostor, { text: `approve ${id}` });
      assert.equal((await post(typed)).status, 200);
      assert.equal(
        repliesTo(connector, typed.id).join('\n'),
        `No client or rollout "${id}" that you can see here.`,
      );

      assert.equal((await handle.query(progressQuery)).phase, 'awaiting_approval');
      assert.deepEqual(await s.db.store.records.approvals(id), []);
      const refused = (await s.db.store.audit.listBySubject('rollout', id)).filter(
        (e) => e.action === 'chat.unauthorised',
      );
      // Audited once per person, target and interval (RolloutControls), not once per try.
      assert.ok(refused.length >= 1 && refused.length <= 3, JSON.stringify(refused));
      for (const e of refused) {
        assert.equal(e.actor, `teams:${ADA}`);
        assert.equal(e.data.tenant, OTHER_TENANT, 'the audit names the foreign tenant');
      }
      // The real Ada, in the approvers' tenant, still can.
      const real = await post(
        fake.actionInvoke(onCard(cardId), { verb: 'approve', data, activityId: cardId }),
      );
      assert.match(textOf(real.body), /approve recorded/);
      return handle.result();
    });
    assert.equal(state.phase, 'completed');
    assert.equal((await decisions(id)).length, 1);
  });
});
