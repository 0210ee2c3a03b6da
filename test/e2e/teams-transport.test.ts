/**
 * The Teams front door on the wire: JWT validation with an app id configured (botbuilder's
 * CloudAdapter against a local OpenID metadata endpoint), and 429 handling towards the Connector.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { TeamsConfig } from '../../cli/config-chat.js';
import { progressQuery } from '../../workflows/messages.js';
import * as fake from '../fakes/teams/activities.js';
import { startFakeConnector, type FakeConnector } from '../fakes/teams/connector.js';
import {
  garbageToken,
  postActivity,
  startOpenIdMetadata,
  tokenForAudience,
} from '../fakes/teams/tokens.js';
import { rolloutSuite } from '../helpers/rollout-suite.js';
import {
  CHANNEL,
  TENANT,
  serveTeams,
  teamsNotifier,
  cardOf,
  teamsWorkerDeps,
  textOf,
  until,
} from '../helpers/teams.js';
import { testLog } from '../helpers/temporal.js';

const CHANNEL2 = '19:0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f@thread.tacv2';

describe('Teams front door on the wire', () => {
  const s = rolloutSuite();
  let connector: FakeConnector;
  const inChannel = (over: Partial<fake.TeamsContext> = {}) =>
    fake.teamsContext({
      serviceUrl: connector.serviceUrl,
      conversationId: CHANNEL,
      tenantId: TENANT,
      ...over,
    });

  before(async () => {
    connector = await startFakeConnector();
  });
  /** A front door with a fresh app id whose tokens are checked against a local OpenID issuer. */
  const serveWithAuth = async () => {
    const openId = await startOpenIdMetadata();
    const appId = randomUUID();
    const password = randomUUID();
    const config: TeamsConfig = {
      appId,
      appPassword: password,
      tenantId: undefined,
      appType: 'MultiTenant',
      authDisabled: false,
    };
    const bot = await serveTeams(s, testLog, {
      config,
      authOverrides: openId.authConfig({ appId, password }),
    });
    return { openId, appId, bot };
  };
  after(async () => connector?.close());

  it("with an app id: 401 for no token, a garbage token, another app's token or a forged one; nothing stored", async () => {
    const { openId, appId, bot } = await serveWithAuth();
    try {
      const ctx = inChannel({ botAppId: appId, conversationId: '19:locked@thread.tacv2' });
      const sent = connector.requests.length;
      const serviceUrl = connector.serviceUrl;
      for (const authorization of [
        undefined,
        garbageToken(),
        tokenForAudience(randomUUID(), { serviceUrl }),
        tokenForAudience(appId, { serviceUrl, forgeSignature: true }),
      ]) {
        const r = await postActivity(
          bot.url,
          fake.conversationUpdateInstall(ctx),
          authorization ? { authorization } : {},
        );
        assert.equal(r.status, 401, `${authorization?.slice(0, 24)}: ${JSON.stringify(r.body)}`);
      }
      assert.equal(
        await s.db.store.chat.conversation('teams', '19:locked@thread.tacv2'),
        undefined,
      );
      assert.equal(connector.requests.length, sent, 'nothing was sent');
      // The same kind of activity with a valid token for this app gets in: the 401s were the tokens.
      const authorization = tokenForAudience(appId, { serviceUrl });
      const ok = await postActivity(bot.url, fake.installationUpdate(ctx), { authorization });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.ok(await s.db.store.chat.conversation('teams', '19:locked@thread.tacv2'));
    } finally {
      await bot.close();
      await openId.close();
    }
  });

  it('with an app id: a card click (adaptiveCard/action) without a valid token gets 401 and decides nothing', async () => {
    const { openId, appId, bot } = await serveWithAuth();
    const id = `rollout-teams-401-${randomUUID().slice(0, 8)}`;
    const channel = '19:locked-cards@thread.tacv2';
    const serviceUrl = connector.serviceUrl;
    const valid = () => ({ authorization: tokenForAudience(appId, { serviceUrl }) });
    try {
      const installed = fake.installationUpdate(
        inChannel({ botAppId: appId, conversationId: channel }),
      );
      assert.equal((await postActivity(bot.url, installed, valid())).status, 200);
      await s.t.withWorker(teamsWorkerDeps(s), async () => {
        const handle = await s.start(id);
        const posted = await until('the approval card', () =>
          connector.activities(channel).find((a) => textOf(cardOf(a)).includes(id)),
        );
        const approve = cardOf(posted)?.actions?.find((a) => a.verb === 'approve');
        assert.ok(approve);
        const ctx = inChannel({
          botAppId: appId,
          conversationId: `${channel};messageid=${posted.id}`,
        });
        const click = () =>
          fake.actionInvoke(ctx, {
            verb: 'approve',
            data: approve.data as Record<string, unknown>,
            activityId: posted.id,
          });
        const refusedIds: string[] = [];
        for (const authorization of [
          undefined,
          garbageToken(),
          tokenForAudience(appId, { serviceUrl, forgeSignature: true }),
        ]) {
          const a = click();
          refusedIds.push(a.id);
          const r = await postActivity(bot.url, a, authorization ? { authorization } : {});
          assert.equal(r.status, 401, `${authorization?.slice(0, 24)}: ${JSON.stringify(r.body)}`);
        }
        assert.equal((await handle.query(progressQuery)).phase, 'awaiting_approval');
        assert.deepEqual(await s.db.store.records.approvals(id), []);
        const audit = await s.db.store.audit.listBySubject('rollout', id);
        assert.ok(!audit.some((e) => e.action.startsWith('chat.')), 'not even a refusal on record');
        assert.ok(
          !connector.requests.some((r) => refusedIds.includes(r.activityId ?? '')),
          'no answer was sent',
        );
        // The same click with a valid token decides: the 401s were the tokens.
        const ok = await postActivity(bot.url, click(), valid());
        assert.equal(ok.status, 200, JSON.stringify(ok.body));
        assert.match(JSON.stringify(ok.body), /approve recorded/);
        assert.equal((await handle.result()).phase, 'completed');
      });
    } finally {
      await bot.close();
      await openId.close();
    }
  });

  it('a body that is no activity gets 400 naming what is missing, not a 500 the Connector would retry', async () => {
    const bot = await serveTeams(s, testLog);
    try {
      const sent = connector.requests.length;
      const empty = await postActivity(bot.url, {});
      assert.equal(empty.status, 400);
      const message = (empty.body as { error: { message: string } }).error.message;
      for (const field of ['activity.type', 'activity.serviceUrl', 'activity.conversation'])
        assert.ok(message.includes(field), message);
      const noConversation = await postActivity(bot.url, {
        type: 'message',
        serviceUrl: connector.serviceUrl,
      });
      assert.equal(noConversation.status, 400);
      assert.match(JSON.stringify(noConversation.body), /activity\.conversation/);
      assert.equal(connector.requests.length, sent, 'nothing was sent');
      // The same route still takes a real activity.
      const ok = await postActivity(bot.url, fake.installationUpdate(inChannel()));
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
    } finally {
      await bot.close();
    }
  });

  it('waits out a 429 for that post only; another conversation is not held up', async () => {
    const bot = await serveTeams(s, testLog);
    try {
      for (const conversationId of [CHANNEL, CHANNEL2])
        assert.equal(
          (
            await postActivity(
              bot.url,
              fake.conversationUpdateInstall(inChannel({ conversationId })),
            )
          ).status,
          200,
        );
    } finally {
      await bot.close();
    }
    const n = teamsNotifier(s.db.store, testLog);
    const notice = (text: string) => ({
      rolloutId: 'r',
      clientId: 'acme',
      kind: 'summary' as const,
      text,
    });
    connector.throttle(1, 2);
    const t0 = Date.now();
    const slow = n.post(CHANNEL, notice('throttled'), { key: 'k1' }).then(() => Date.now() - t0);
    await until('the 429', () => connector.requests.some((r) => r.status === 429));
    const fast = await n
      .post(CHANNEL2, notice('not throttled'), { key: 'k2' })
      .then(() => Date.now() - t0);
    const slowMs = await slow;
    assert.ok(fast < 1500 && slowMs >= 1900, `fast ${fast} ms, throttled ${slowMs} ms`);
    assert.ok(connector.activities(CHANNEL).some((a) => a.text === 'throttled'));

    // Past the SDK's own three retries, the notifier's retry keeps going (and says so).
    const warned: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void warned.push(line) });
    connector.throttle(6, 0);
    await teamsNotifier(s.db.store, log).post(CHANNEL, notice('after six 429s'), { key: 'k3' });
    assert.ok(connector.activities(CHANNEL).some((a) => a.text === 'after six 429s'));
    assert.ok(
      warned.some((l) => l.includes('retrying this call')),
      warned.join('\n'),
    );
  });
});
