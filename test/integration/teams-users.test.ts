/**
 * Approvers' AAD object ids → Teams user ids (MRIs) for refresh.userIds, against the real
 * chat_users table: what is stored is used first, unknown approvers are asked of the Connector
 * once, a "not a member" answer is believed for a while, and no AAD id ever comes out.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { TeamsUsers, type MemberLookup } from '../../bot/teams/users.js';
import * as fake from '../fakes/teams/activities.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const aad = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const mri = (n: number) => `29:1user-${n}`;
const CHANNEL = '19:refresh@thread.tacv2';

/** A Connector member lookup over a roster, failing as botbuilder's RestError does. */
function connector(roster: Map<string, string>, failing = new Set<string>()) {
  const asked: string[] = [];
  const member: MemberLookup = async (id) => {
    asked.push(id);
    await Promise.resolve();
    if (failing.has(id)) throw Object.assign(new Error('busy'), { statusCode: 503 });
    const found = roster.get(id);
    if (!found)
      throw Object.assign(new Error(`${id} is not in the conversation`), {
        statusCode: 404,
        code: 'MemberNotFoundInConversation',
      });
    return { id: found, aadObjectId: id, name: `User ${found}` };
  };
  return { asked, member };
}

describe('Teams users: refresh.userIds from approvers', () => {
  let db: TestDatabase;
  let clock = 1_000_000;
  const log = pino({ level: 'silent' });
  const users = () => new TeamsUsers({ store: db.store.chat, log, now: () => clock });
  const count = async () =>
    Number((await db.pool.query<{ n: string }>(`select count(*) as n from chat_users`)).rows[0]?.n);

  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => db.drop());

  it('stores a user idempotently: one row, the newest MRI, a name kept when none is given', async () => {
    const u = {
      platform: 'teams' as const,
      tenantId: TENANT,
      aadObjectId: aad(1),
      userRef: mri(1),
    };
    await db.store.chat.saveUser({ ...u, name: 'Ada' });
    await db.store.chat.saveUser({ ...u, name: 'Ada' });
    await db.store.chat.saveUser({ ...u, userRef: '29:1user-1-new' });
    assert.equal(await count(), 1);
    const row = await db.pool.query(`select user_ref, name from chat_users`);
    assert.deepEqual(row.rows, [{ user_ref: '29:1user-1-new', name: 'Ada' }]);
    assert.deepEqual(
      await db.store.chat.userRefs('teams', TENANT, [aad(1), aad(2)]),
      new Map([[aad(1), '29:1user-1-new']]),
    );
    assert.deepEqual(await db.store.chat.userRefs('teams', 'other-tenant', [aad(1)]), new Map());
    await db.pool.query(`delete from chat_users`);
  });

  it('learns from activities, writing a burst of clicks from one user once', async () => {
    const dir = users();
    const ctx = fake.teamsContext({ serviceUrl: 'http://127.0.0.1:1/', tenantId: TENANT });
    const clicks = Array.from({ length: 20 }, () =>
      fake.actionInvoke(ctx, { verb: 'approve', activityId: '1' }),
    );
    const written = await Promise.all(clicks.map((c) => dir.learn(c)));
    assert.equal(
      written.reduce((a, b) => a + b, 0),
      1,
    );
    const seen = async () =>
      (await db.pool.query<{ seen_at: Date }>(`select seen_at from chat_users`)).rows[0]?.seen_at;
    const first = await seen();
    assert.equal(await dir.learn(clicks[0]!), 0, 'seen recently: not written again');
    clock += 3_600_001;
    assert.equal(await dir.learn(clicks[0]!), 1, 'an hour on, seen_at moves');
    assert.ok((await seen())! >= first!);
    const renamed = fake.message({ ...ctx, user: { ...ctx.user, name: 'Ada L.' } }, { text: 'x' });
    assert.equal(await dir.learn(renamed), 1, 'a changed name is written');
    assert.equal(await count(), 1);
    const refs = await db.store.chat.userRefs('teams', TENANT, [ctx.user.aadObjectId]);
    assert.equal(refs.get(ctx.user.aadObjectId), ctx.user.id);
  });

  it('maps stored approvers without asking, asks once for the unknown, leaves out non-members', async () => {
    const dir = users();
    await dir.save({ tenantId: TENANT, aadObjectId: aad(10), mri: mri(10) });
    const c = connector(new Map([[aad(11), mri(11)]]));
    const approvers = [aad(12), aad(10), aad(11)];
    const ask = { conversation: CHANNEL, member: c.member };

    assert.deepEqual(await dir.refreshIds(TENANT, approvers, ask), [mri(10), mri(11)]);
    assert.deepEqual(c.asked, [aad(12), aad(11)], 'the stored one is not asked');
    const stored = await db.store.chat.userRefs('teams', TENANT, approvers);
    assert.equal(stored.get(aad(11)), mri(11), 'the answer is stored');

    // Card updates after that: Bob from the table, Carol's 404 remembered.
    for (let i = 0; i < 5; i++)
      assert.deepEqual(await dir.refreshIds(TENANT, approvers, ask), [mri(10), mri(11)]);
    assert.equal(c.asked.length, 2, 'nothing asked again within the hour');
    // A process that never asked (a restarted worker) still has Bob from PostgreSQL.
    assert.deepEqual(await users().refreshIds(TENANT, approvers), [mri(10), mri(11)]);

    clock += 3_600_001;
    assert.deepEqual(await dir.refreshIds(TENANT, approvers, ask), [mri(10), mri(11)]);
    assert.deepEqual(c.asked.slice(2), [aad(12)], 'an hour on, the non-member is asked again');

    // Carol joins (membersAdded): learned, she is in the next card without a question.
    await dir.save({ tenantId: TENANT, aadObjectId: aad(12), mri: mri(12) });
    assert.deepEqual(await dir.refreshIds(TENANT, approvers, ask), [mri(12), mri(10), mri(11)]);
    assert.equal(c.asked.length, 3);
  });

  it('a non-member in one conversation is still asked about in another', async () => {
    const dir = users();
    const roster = connector(new Map());
    await dir.refreshIds(TENANT, [aad(20)], { conversation: CHANNEL, member: roster.member });
    await dir.refreshIds(TENANT, [aad(20)], {
      conversation: '19:other@thread.v2',
      member: roster.member,
    });
    assert.deepEqual(roster.asked, [aad(20), aad(20)]);
  });

  it('without asking, only stored approvers appear; never an AAD id', async () => {
    const dir = users();
    const ids = await dir.refreshIds(TENANT, [aad(30), aad(10)]);
    assert.deepEqual(ids, [mri(10)]);
    assert.ok(ids.every((id) => id.startsWith('29:')));
  });

  it('other failures are asked again a minute later; a wrong answer is not stored', async () => {
    const dir = users();
    const c = connector(new Map(), new Set([aad(40)]));
    const ask = { conversation: CHANNEL, member: c.member };
    assert.deepEqual(await dir.refreshIds(TENANT, [aad(40)], ask), []);
    assert.deepEqual(await dir.refreshIds(TENANT, [aad(40)], ask), []);
    assert.equal(c.asked.length, 1);
    clock += 60_001;
    await dir.refreshIds(TENANT, [aad(40)], ask);
    assert.equal(c.asked.length, 2);

    const liar: MemberLookup = () => Promise.resolve({ id: mri(99), aadObjectId: aad(98) });
    const notMri: MemberLookup = () => Promise.resolve({ id: aad(41), aadObjectId: aad(41) });
    assert.deepEqual(
      await dir.refreshIds(TENANT, [aad(41)], { conversation: 'a', member: liar }),
      [],
    );
    assert.deepEqual(
      await dir.refreshIds(TENANT, [aad(41)], { conversation: 'b', member: notMri }),
      [],
    );
    assert.equal((await db.store.chat.userRefs('teams', TENANT, [aad(41)])).size, 0);
  });

  it('renders at the same time share one question per user', async () => {
    const dir = users();
    const c = connector(new Map([[aad(50), mri(50)]]));
    const ask = { conversation: CHANNEL, member: c.member };
    const all = await Promise.all(
      Array.from({ length: 10 }, () => dir.refreshIds(TENANT, [aad(50)], ask)),
    );
    assert.ok(all.every((ids) => ids.length === 1 && ids[0] === mri(50)));
    assert.deepEqual(c.asked, [aad(50)]);
  });

  it('a render that read the table before another stored the answer does not ask again', async () => {
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let reads = 0;
    // The real repository; only the second render's table read is held back until the first is done.
    const store = {
      saveUser: db.store.chat.saveUser.bind(db.store.chat),
      userRefs: async (...a: Parameters<typeof db.store.chat.userRefs>) => {
        // Counted when called, not when PostgreSQL answers: the answers may come back in
        // either order, and holding the first render's read would leave nothing to release it.
        const call = ++reads;
        const refs = await db.store.chat.userRefs(...a);
        if (call === 2) await gate;
        return refs;
      },
    };
    const dir = new TeamsUsers({ store, log, now: () => clock });
    const c = connector(new Map([[aad(60), mri(60)]]));
    const ask = { conversation: CHANNEL, member: c.member };
    const first = dir.refreshIds(TENANT, [aad(60), aad(61)], ask);
    const second = dir.refreshIds(TENANT, [aad(60), aad(61)], ask);
    assert.deepEqual(await first, [mri(60)]);
    release();
    assert.deepEqual(await second, [mri(60)]);
    assert.deepEqual(c.asked.sort(), [aad(60), aad(61)], 'each asked once');
  });

  it('keeps at most 60, in policy order, and stops asking once it has them', async () => {
    const dir = users();
    const approvers = Array.from({ length: 70 }, (_, i) => aad(100 + i));
    // 58 stored; the Connector knows everyone else.
    for (const id of approvers.slice(0, 58))
      await dir.save({ tenantId: TENANT, aadObjectId: id, mri: `29:1${id}` });
    const c = connector(new Map(approvers.map((id) => [id, `29:1${id}`])));
    const ids = await dir.refreshIds(TENANT, approvers, {
      conversation: CHANNEL,
      member: c.member,
    });
    assert.equal(ids.length, 60);
    assert.deepEqual(
      ids,
      approvers.slice(0, 60).map((id) => `29:1${id}`),
    );
    assert.equal(c.asked.length, 4, 'one batch of questions filled the 2 places left');
  });
});
