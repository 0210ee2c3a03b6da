/**
 * The Teams fakes, driven by botbuilder's real CloudAdapter and ConnectorClient: proves the fake
 * connector speaks the wire format the SDK expects, and records what tests will assert on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import {
  ActivityHandler,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  TeamsInfo,
  TurnContext,
  type Activity,
  type AdaptiveCardInvokeResponse,
  type ConversationReference,
} from 'botbuilder';
import {
  actionInvoke,
  conversationUpdateInstall,
  installationUpdate,
  message,
  submitMessage,
  teamsContext,
  type TeamsContext,
} from '../fakes/teams/activities.js';
import { startFakeConnector, type FakeConnector } from '../fakes/teams/connector.js';
import { startBotServer, type BotServer } from '../fakes/teams/http-shim.js';
import {
  garbageToken,
  postActivity,
  startOpenIdMetadata,
  tokenForAudience,
  type OpenIdMetadata,
} from '../fakes/teams/tokens.js';

const CHANNEL_CONV = '19:0a1b2c3d4e5f@thread.tacv2;messageid=1699999999999';
const card = (text: string) => ({
  contentType: 'application/vnd.microsoft.card.adaptive',
  content: { type: 'AdaptiveCard', version: '1.5', body: [{ type: 'TextBlock', text }] },
});
const cardText = (a: Partial<Activity> | undefined) =>
  (a?.attachments?.[0]?.content as { body: { text: string }[] } | undefined)?.body[0]?.text;

/** Auth disabled: no MicrosoftAppId, so no inbound JWT check and no outbound token. */
const openAdapter = () => new CloudAdapter(new ConfigurationBotFrameworkAuthentication({}));

/** Just the part of ConnectorClient this test calls, read from the turn state. */
interface Conversations {
  conversations: { sendToConversation(id: string, a: Partial<Activity>): Promise<{ id: string }> };
}

describe('fake Teams connector with botbuilder CloudAdapter (auth disabled)', () => {
  let connector: FakeConnector;
  let ref: ConversationReference;
  before(async () => {
    connector = await startFakeConnector({
      members: [{ id: '29:ada', name: 'Ada', aadObjectId: 'aad-ada', userPrincipalName: 'ada@x' }],
    });
    ref = {
      channelId: 'msteams',
      serviceUrl: connector.serviceUrl,
      conversation: { id: CHANNEL_CONV, isGroup: true, conversationType: 'channel', name: '' },
      bot: { id: '28:bot', name: 'Patchops' },
      user: { id: '29:ada', name: 'Ada' },
    };
  });
  after(() => connector.close());

  it('round-trips send, update, delete and a 404 update with decoded conversation ids', async () => {
    const adapter = openAdapter();
    let posted = '';
    await adapter.continueConversationAsync('', ref, async (ctx) => {
      // The continuation activity has a random id, so sendActivity() becomes a *reply* to it.
      const sent = await ctx.sendActivity({ attachments: [card('pending')] });
      assert.ok(sent?.id);
      posted = sent.id;
      await ctx.updateActivity({ id: posted, type: 'message', attachments: [card('approved')] });
      // sendToConversation (a new top-level activity) needs the connector client itself.
      const client = ctx.turnState.get<Conversations>(ctx.adapter.ConnectorClientKey);
      const top = await client.conversations.sendToConversation(CHANNEL_CONV, {
        type: 'message',
        text: 'top level',
      });
      await ctx.deleteActivity(top.id);
      await assert.rejects(
        ctx.updateActivity({ id: 'no-such-activity', type: 'message', text: 'x' }),
        (err: { statusCode?: number; code?: string }) =>
          err.statusCode === 404 && err.code === 'ActivityNotFound',
      );
    });
    const ops = connector.requests.map((r) => [r.operation, r.status]);
    assert.deepEqual(ops, [
      ['replyToActivity', 201],
      ['updateActivity', 200],
      ['sendToConversation', 201],
      ['deleteActivity', 200],
      ['updateActivity', 404],
    ]);
    for (const r of connector.requests) {
      assert.equal(r.conversationId, CHANNEL_CONV);
      assert.match(
        r.path,
        /^\/v3\/conversations\/19%3A0a1b2c3d4e5f%40thread\.tacv2%3Bmessageid%3D/,
      );
      assert.equal(r.authorization, undefined, 'auth disabled: no bearer token sent');
    }
    assert.match(connector.requests[0]?.activityId ?? '', /^[0-9a-f-]{36}$/, 'continuation id');
    assert.equal(connector.requests[1]?.activityId, posted);
    assert.deepEqual(
      connector.activities(CHANNEL_CONV).map((a) => a.id),
      [posted],
    );
    assert.equal(cardText(connector.activity(CHANNEL_CONV, posted)), 'approved');
  });

  it('answers 429 with Retry-After, which the real client honours before retrying', async () => {
    connector.throttle(1, 1);
    const earlier = connector.requests.length;
    const started = Date.now();
    await openAdapter().continueConversationAsync('', ref, async (ctx) => {
      await ctx.sendActivity('after throttling');
    });
    const statuses = connector.requests.slice(earlier).map((r) => r.status);
    assert.deepEqual(statuses, [429, 201]);
    assert.ok(Date.now() - started >= 900, 'waited for Retry-After: 1');
  });

  it('serves Teams members (with aadObjectId) and MemberNotFoundInConversation', async () => {
    await openAdapter().continueConversationAsync('', ref, async (ctx) => {
      const ada = await TeamsInfo.getMember(ctx, '29:ada');
      assert.equal(ada.aadObjectId, 'aad-ada');
      assert.equal(ada.userPrincipalName, 'ada@x');
      await assert.rejects(TeamsInfo.getMember(ctx, '29:nobody'), {
        code: 'MemberNotFoundInConversation',
      });
    });
  });

  it('finds a member by Entra ID object id or UPN, answers 404 for others and records each ask', async () => {
    const earlier = connector.requests.length;
    await openAdapter().continueConversationAsync('', ref, async (ctx) => {
      const client = ctx.turnState.get<{
        conversations: {
          getConversationMember(c: string, m: string): Promise<Record<string, unknown>>;
        };
      }>(ctx.adapter.ConnectorClientKey);
      const byAad = await client.conversations.getConversationMember(CHANNEL_CONV, 'AAD-ADA');
      assert.deepEqual(
        { id: byAad.id, name: byAad.name, aadObjectId: byAad.aadObjectId },
        { id: '29:ada', name: 'Ada', aadObjectId: 'aad-ada' },
      );
      const byUpn = await client.conversations.getConversationMember(CHANNEL_CONV, 'ada@x');
      assert.equal(byUpn.id, '29:ada');
      await assert.rejects(client.conversations.getConversationMember(CHANNEL_CONV, 'aad-eve'), {
        statusCode: 404,
        code: 'MemberNotFoundInConversation',
      });
    });
    const asked = connector.requests.slice(earlier);
    assert.deepEqual(
      asked.map((r) => [r.method, r.operation, r.conversationId, r.memberId, r.status]),
      [
        ['GET', 'getConversationMember', CHANNEL_CONV, 'AAD-ADA', 200],
        ['GET', 'getConversationMember', CHANNEL_CONV, 'ada@x', 200],
        ['GET', 'getConversationMember', CHANNEL_CONV, 'aad-eve', 404],
      ],
    );
  });

  it('creates a channel thread for TeamsInfo.sendMessageToTeamsChannel', async () => {
    const channel = '19:ffee@thread.tacv2';
    let thread = '';
    let returnedId: string | undefined;
    await openAdapter().continueConversationAsync('', ref, async (ctx) => {
      // With CloudAdapter it needs a non-empty app id (any string while auth is disabled);
      // with '' it falls back to BotFrameworkAdapter.createConnectorClient and throws.
      const message = { type: 'message', text: 'new thread' } as Activity;
      const [reference, id] = await TeamsInfo.sendMessageToTeamsChannel(ctx, message, channel, 'x');
      thread = reference.conversation.id;
      returnedId = id;
    });
    const created = connector.requests.at(-1);
    assert.equal(created?.operation, 'createConversation');
    assert.match(thread, /^19:ffee@thread\.tacv2;messageid=\d+$/);
    // botbuilder 4.23's CloudAdapterBase.createCreateActivity uses the conversation id as the
    // activity id, so the "activity id" TeamsInfo returns is the thread's conversation id.
    assert.equal(returnedId, thread);
    assert.deepEqual(
      connector.activities(thread).map((a) => a.text),
      ['new thread'],
    );
  });
});

/** A bot that answers the way patchops will: strip the mention, reply, return a card. */
class ProbeBot extends ActivityHandler {
  readonly seen: Partial<Activity>[] = [];
  constructor() {
    super();
    this.onMessage(async (ctx, next) => {
      this.seen.push(ctx.activity);
      const text = TurnContext.removeRecipientMention(ctx.activity)?.trim() ?? '';
      if (text) await ctx.sendActivity(`echo: ${text}`);
      await next();
    });
    this.onMembersAdded(async (ctx, next) => {
      this.seen.push(ctx.activity);
      await next();
    });
    this.onInstallationUpdateAdd(async (ctx, next) => {
      this.seen.push(ctx.activity);
      await next();
    });
  }
  protected override onAdaptiveCardInvoke(ctx: TurnContext): Promise<AdaptiveCardInvokeResponse> {
    this.seen.push(ctx.activity);
    return Promise.resolve({
      statusCode: 200,
      type: 'application/vnd.microsoft.card.adaptive',
      value: card('approved').content,
    });
  }
}

describe('real CloudAdapter over node:http receiving builder output', () => {
  let connector: FakeConnector;
  let server: BotServer;
  let ctx: TeamsContext;
  const bot = new ProbeBot();
  before(async () => {
    connector = await startFakeConnector();
    const adapter = openAdapter();
    server = await startBotServer((req, res) => adapter.process(req, res, (c) => bot.run(c)));
    ctx = teamsContext({ serviceUrl: connector.serviceUrl });
  });
  after(async () => {
    await server.close();
    await connector.close();
  });

  it('delivers a channel @mention and the reply reaches the fake connector', async () => {
    const inbound = message(ctx, { text: 'status KB5034441' });
    assert.equal(inbound.text, '<at>Patchops</at> status KB5034441');
    const res = await postActivity(server.url, inbound, { authorization: garbageToken() });
    assert.equal(res.status, 200, 'auth disabled: even a garbage token is not checked');
    const reply = connector.requests.at(-1);
    assert.equal(reply?.operation, 'replyToActivity');
    assert.equal(reply.conversationId, ctx.conversationId);
    assert.equal(reply.activityId, inbound.id);
    assert.equal((reply.body as Activity).text, 'echo: status KB5034441');
  });

  it('returns the adaptiveCard/action invoke response as the HTTP body', async () => {
    const invoke = actionInvoke(ctx, { verb: 'approve', data: { plan: 'p1' }, activityId: '42' });
    const res = await postActivity(server.url, invoke);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      statusCode: 200,
      type: 'application/vnd.microsoft.card.adaptive',
      value: card('approved').content,
    });
    assert.deepEqual(bot.seen.at(-1)?.value, {
      action: { type: 'Action.Execute', verb: 'approve', data: { plan: 'p1' } },
      trigger: 'manual',
    });
  });

  it('routes Action.Submit, install conversationUpdate and installationUpdate', async () => {
    const personal = {
      ...ctx,
      conversationId: 'a:1personal',
      conversationType: 'personal' as const,
    };
    for (const activity of [
      submitMessage(ctx, { value: { verb: 'reject' }, replyToId: '42' }),
      conversationUpdateInstall(ctx),
      conversationUpdateInstall(personal),
      installationUpdate(ctx),
    ]) {
      assert.equal((await postActivity(server.url, activity)).status, 200);
      assert.equal(bot.seen.at(-1)?.id, activity.id, `${activity.type} reached its handler`);
    }
    const [submit, team, chat] = bot.seen.slice(-4);
    assert.deepEqual(submit?.value, { verb: 'reject' });
    assert.equal(submit?.text, undefined);
    assert.equal((team?.channelData as { eventType: string }).eventType, 'teamMemberAdded');
    assert.deepEqual(
      chat?.membersAdded?.map((m) => m.id),
      [`28:${ctx.botAppId}`, ctx.user.id],
    );
  });
});

describe('CloudAdapter with auth on, against a local OpenID metadata endpoint', () => {
  let metadata: OpenIdMetadata;
  let server: BotServer;
  let turns = 0;
  const ctx = teamsContext({ serviceUrl: 'http://127.0.0.1:9/' });
  const inbound = message(ctx, { text: 'status' });
  before(async () => {
    // CloudAdapter.process console.error()s every rejected request; the assertions say enough.
    mock.method(console, 'error', () => undefined);
    metadata = await startOpenIdMetadata();
    const auth = metadata.authConfig({ appId: ctx.botAppId, password: 'unused' });
    const adapter = new CloudAdapter(new ConfigurationBotFrameworkAuthentication(auth));
    server = await startBotServer((req, res) =>
      adapter.process(req, res, () => Promise.resolve(void turns++)),
    );
  });
  after(async () => {
    mock.restoreAll();
    await server.close();
    await metadata.close();
  });
  const post = (authorization?: string) =>
    postActivity(server.url, inbound, authorization === undefined ? {} : { authorization });
  const valid = { serviceUrl: ctx.serviceUrl };

  it('accepts a token signed by the published key for the bot', async () => {
    assert.equal((await post(tokenForAudience(ctx.botAppId, valid))).status, 200);
    assert.equal(turns, 1);
  });

  it('answers 401 to missing, garbage, mis-addressed, unknown-key and expired tokens', async () => {
    const cases = {
      missing: undefined,
      garbage: garbageToken(),
      audience: tokenForAudience('00000000-0000-0000-0000-000000000000', valid),
      issuer: tokenForAudience(ctx.botAppId, { ...valid, issuer: 'https://sts.example' }),
      serviceUrl: tokenForAudience(ctx.botAppId, { serviceUrl: 'https://evil.example/' }),
      kid: tokenForAudience(ctx.botAppId, { ...valid, kid: 'unpublished' }),
      expired: tokenForAudience(ctx.botAppId, { ...valid, expiresInSeconds: -600 }),
    };
    for (const [name, token] of Object.entries(cases)) {
      assert.equal((await post(token)).status, 401, name);
    }
    assert.equal(turns, 1, 'no rejected request reached the bot');
  });

  it('botbuilder answers 500, not 401, to a forged signature under a published kid', async () => {
    const res = await post(tokenForAudience(ctx.botAppId, { ...valid, forgeSignature: true }));
    assert.deepEqual([res.status, res.body], [500, 'invalid signature']);
    assert.equal(turns, 1);
  });
});
