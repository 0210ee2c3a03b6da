import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createAlertActivities } from '../../../activities/alerts.js';
import { createLogItsm } from '../../../adapters/itsm/log.js';
import { startFakeSlack, type FakeSlack } from '../../fakes/slack/web-api.js';
import {
  seedComplianceFleet,
  slackConfigFor,
  slackNotifierWithImages,
} from '../../helpers/compliance-fleet.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { policy, testDeps } from '../../helpers/deps.js';
import { testLog } from '../../helpers/temporal.js';

const ACME_POLICY = policy(
  `
scope: { level: client, id: acme }
tickets: { incidentOnFailure: true }
`,
  'acme.yaml',
);

describe('compliance alerts (fleet of test/helpers/compliance-fleet.ts, seeded as of now)', () => {
  let db: TestDatabase;
  let slack: FakeSlack;
  let send: ReturnType<typeof createAlertActivities>['sendComplianceAlerts'];
  const messages = () => slack.messages.get('C0001') ?? [];
  const incidents = async () =>
    (await db.store.tickets.ofRollout('r1')).filter((t) => t.role === 'incident');

  before(async () => {
    db = await createTestDatabase();
    await seedComplianceFleet(db.store, new Date());
    // r1 has a change ticket, so alerts on its pairs can be raised as an incident there.
    await db.store.tickets.save({
      rolloutId: 'r1',
      kind: 'log',
      role: 'change',
      externalId: 'LOG-r1',
      number: 'LOG-r1',
      url: null,
      key: 'r1:ticket:open',
    });
    slack = await startFakeSlack();
    const deps = testDeps(db.store, { policies: [ACME_POLICY] });
    const activities = createAlertActivities({
      ...deps,
      itsm: createLogItsm(testLog),
      notifiers: [slackNotifierWithImages(slackConfigFor(slack.url))],
    });
    send = (a) => activities.sendComplianceAlerts(a);
  });
  after(async () => {
    await slack.close();
    await db.drop();
  });

  it('posts each problem once: SLA due or breached, failed, not seen; one incident per rollout', async () => {
    const r = await send({ clientId: 'acme' });
    // d1 pC overdue since t−6d, d3 pK due at t+12h, d3 pK failed, d4 unseen for 10 days.
    assert.deepEqual(r, { raised: 4, sent: 4, posts: 1, incidents: 1 });
    assert.equal(messages().length, 1);
    const text = messages()[0]!.text;
    assert.match(text, /Compliance alerts for acme\* \(4 new\)/);
    assert.match(text, /SLA breached: d1\.example – Patch pC overdue by 6d/);
    assert.match(text, /SLA due: d3\.example – Patch pK \(KEV\) due in 12h/);
    assert.match(text, /Failed: d3\.example – Patch pK \(KEV\): exit code 100/);
    assert.match(text, /Not seen: d4\.example – no scan for 10d/);
    // d2 pL (due t+19d) and d4 pL (no due date) are not due within a day.
    assert.doesNotMatch(text, /pL/);
    assert.equal((await incidents()).length, 1);
  });

  it('running the check again posts nothing and opens nothing', async () => {
    assert.deepEqual(await send({ clientId: 'acme' }), {
      raised: 0,
      sent: 0,
      posts: 0,
      incidents: 0,
    });
    assert.equal(messages().length, 1);
    assert.equal((await incidents()).length, 1);
    assert.equal(slack.callsTo('chat.postMessage').length, 1);
  });

  it('a new failure of the same pair is a new alert; a client without the ITSM setting gets chat only', async () => {
    await db.pool.query(
      `update device_patches set state_changed_at = now(), last_error = 'exit code 1' where device_id = 'd3' and patch_id = 'pK'`,
    );
    assert.deepEqual(await send({ clientId: 'acme' }), {
      raised: 1,
      sent: 1,
      posts: 1,
      incidents: 1,
    });
    assert.match(
      messages()[1]!.text,
      /\(1 new\)\n• Failed: d3\.example – Patch pK \(KEV\): exit code 1$/,
    );
    // beta: b1 pK overdue; no tickets section in any beta policy.
    assert.deepEqual(await send({ clientId: 'beta' }), {
      raised: 1,
      sent: 1,
      posts: 1,
      incidents: 0,
    });
    assert.equal(messages().length, 3);
  });

  it('a post claimed by an attempt that died before recording it is found, not repeated', async () => {
    await db.pool.query(
      `update devices set last_seen_at = now() - interval '30 days' where id = 'd1'`,
    );
    const before = slack.callsTo('chat.postMessage').length;
    // The first attempt claims and posts, then dies before it records the post.
    const [pending] = await db.store.alerts.unsent('acme');
    assert.equal(pending, undefined);
    await db.store.alerts.raise({
      asOf: new Date(),
      dueWithinHours: 24,
      notSeenDays: 7,
      clientId: 'acme',
    });
    const [alert] = await db.store.alerts.unsent('acme');
    assert.ok(alert);
    const key = `alerts:acme:${alert.id}-${alert.id}:slack:C0001`;
    await db.store.alerts.claimPost({
      platform: 'slack',
      conversation: 'C0001',
      purpose: 'compliance_alert',
      key,
    });
    const notifier = slackNotifierWithImages(slackConfigFor(slack.url));
    await notifier.post(
      'C0001',
      { rolloutId: '', clientId: 'acme', kind: 'failure_alert', text: 'first attempt' },
      { key },
    );
    // The retry finds the claim open, looks the message up by its key and records it.
    assert.deepEqual(await send({ clientId: 'acme' }), {
      raised: 0,
      sent: 1,
      posts: 1,
      incidents: 0,
    });
    assert.equal(slack.callsTo('chat.postMessage').length, before + 1);
    assert.equal(await db.store.alerts.postsLike(key), 1);
  });
});
