import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Notice } from '../../adapters/chat/types.js';
import { createSlackNotifier, slackWebClient } from '../../bot/slack/notifier.js';
import { checkSlackScopes } from '../../bot/slack/scopes.js';
import type { SlackConfig } from '../../cli/config-chat.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack/web-api.js';
import { sampleCard } from '../helpers/cards.js';

/** A progress notice carrying the sample card. */
function cardNotice(): Notice {
  const card = sampleCard();
  return { rolloutId: card.rolloutId, clientId: 'acme', kind: 'progress', text: 'x', card };
}

describe('Slack notifier', () => {
  let fake: FakeSlack;
  let config: SlackConfig;
  before(async () => {
    fake = await startFakeSlack({ tierScale: 1 / 60 }); // "per minute" means per second here
    config = {
      botToken: 'xoxb-test',
      signingSecret: 's',
      appToken: undefined,
      mode: 'http',
      apiUrl: fake.url,
      channels: { acme: 'C0001', '*': 'C0002' },
      allowedChannels: [],
      allowedTeams: [],
    };
  });
  after(() => fake.close());

  it('routes clients to their channel, posts the card with its key as metadata, finds it again', async () => {
    const n = createSlackNotifier(config, slackWebClient(config));
    assert.deepEqual(await n.targets('acme'), ['C0001']);
    assert.deepEqual(await n.targets('globex'), ['C0002']);
    const card = sampleCard();
    const posted = await n.post(
      'C0001',
      { rolloutId: card.rolloutId, clientId: 'acme', kind: 'approval_request', text: 'x', card },
      { key: 'k-1' },
    );
    const msg = fake.messages.get('C0001')?.find((m) => m.ts === posted.messageRef);
    assert.ok(msg?.blocks?.length);
    // A retried activity whose first attempt died after posting finds the message instead of posting again.
    assert.deepEqual(await n.find?.('C0001', 'k-1'), posted);
    assert.equal(await n.find?.('C0001', 'k-unknown'), undefined);
  });

  it("doctor reads the token's scopes from auth.test and names what is missing", async () => {
    const client = slackWebClient(config);
    assert.deepEqual((await checkSlackScopes(client)).missing, []);
    const all = [...fake.scopes];
    fake.scopes.splice(
      0,
      fake.scopes.length,
      ...all.filter((x) => x !== 'usergroups:read' && x !== 'channels:history'),
    );
    try {
      assert.deepEqual((await checkSlackScopes(client)).missing.sort(), [
        'channels:history',
        'usergroups:read',
      ]);
    } finally {
      fake.scopes.splice(0, fake.scopes.length, ...all);
    }
  });

  it('spaces chat.update calls to stay under the workspace-wide Tier 3 limit', async () => {
    const n = createSlackNotifier(config, slackWebClient(config), { updateGapMs: 300 });
    const notice = cardNotice();
    const a = await n.post('C0001', notice, { key: 'k-gap' });
    const before = fake.callsTo('chat.update').length;
    await Promise.all([1, 2, 3].map(() => n.update(a, notice)));
    const at = fake
      .callsTo('chat.update')
      .slice(before)
      .map((c) => c.at);
    assert.equal(at.length, 3);
    assert.ok(
      at[1]! - at[0]! >= 280 && at[2]! - at[1]! >= 280,
      `gaps ${at[1]! - at[0]!}, ${at[2]! - at[1]!}`,
    );
  });

  it('waits out a 429 on one call without stalling other calls', async () => {
    const n = createSlackNotifier(config, slackWebClient(config), { updateGapMs: 0 });
    const notice = cardNotice();
    const a = await n.post('C0001', notice, { key: 'k-a' });
    const before = fake.callsTo('chat.update').length;
    fake.setRateLimit('chat.update', { perMinute: 1 });
    const t0 = Date.now();
    const updates = Promise.all([n.update(a, notice), n.update(a, notice)]).then(
      () => Date.now() - t0,
    );
    await new Promise((r) => setTimeout(r, 50));
    const t1 = Date.now();
    await n.post('C0002', notice, { key: 'k-b' });
    const otherMs = Date.now() - t1;
    const updatesMs = await updates;
    assert.ok(
      fake.callsTo('chat.update').some((c) => c.status === 429),
      'the fake rate-limited an update',
    );
    assert.ok(updatesMs >= 900, `the limited update waited Retry-After (${updatesMs} ms)`);
    assert.ok(otherMs < 500, `an unrelated post went through meanwhile (${otherMs} ms)`);
    const mine = fake.callsTo('chat.update').slice(before);
    assert.equal(mine.filter((c) => c.status === 200).length, 2);
    fake.setRateLimit('chat.update', null);
  });
});
