import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { App, LogLevel, verifySlackRequest } from '@slack/bolt';
import { ErrorCode, WebClient, type Logger, type WebAPIPlatformError } from '@slack/web-api';
import {
  appHomeOpened,
  blockActions,
  slashCommand,
  urlVerification,
  viewSubmission,
} from '../fakes/slack/payloads.js';
import { postToBolt, signSlackRequest } from '../fakes/slack/sign.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack/web-api.js';
import { DEFAULT_SCOPES, FAKE_WORKSPACE } from '../fakes/slack/workspace.js';

/** WebClient logs Slack's `[ERROR]`/`[WARN]` response messages and every retry; not here. */
const quiet: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.ERROR,
  setName: () => undefined,
};

const noRetry = (fake: FakeSlack, token = 'xoxb-test') =>
  new WebClient(token, { slackApiUrl: fake.url, retryConfig: { retries: 0 }, logger: quiet });

/** The Slack error code of a rejected WebClient call. */
async function slackError(call: Promise<unknown>): Promise<WebAPIPlatformError['data']> {
  const err = (await call.then(
    () => assert.fail('expected the call to fail'),
    (e: unknown) => e,
  )) as WebAPIPlatformError;
  assert.equal(err.code, ErrorCode.PlatformError);
  return err.data;
}

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
const button = (text: string) => ({
  type: 'actions',
  elements: [{ type: 'button', action_id: 'approve', text: { type: 'plain_text', text } }],
});

describe('fake Slack Web API driven by the real WebClient', () => {
  let fake: FakeSlack;
  let client: WebClient;
  before(async () => {
    fake = await startFakeSlack();
    client = noRetry(fake);
  });
  after(() => fake.close());

  it('answers auth.test and reports the granted scopes in x-oauth-scopes', async () => {
    assert.match(fake.url, /^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
    const res = await client.auth.test();
    assert.equal(res.team_id, 'T0001');
    assert.equal(res.user_id, FAKE_WORKSPACE.botUserId);
    assert.equal(res.bot_id, FAKE_WORKSPACE.botId);
    assert.deepEqual(res.response_metadata?.scopes, [...DEFAULT_SCOPES]);
    const raw = await fetch(`${fake.url}auth.test`, { method: 'POST' });
    assert.equal(raw.headers.get('x-oauth-scopes'), DEFAULT_SCOPES.join(','));
    assert.deepEqual(await raw.json(), { ok: false, error: 'not_authed' });
  });

  it('keeps posted and updated messages, with blocks decoded from the form body', async () => {
    const posted = await client.chat.postMessage({
      channel: 'C0001',
      text: 'KB5034441 needs approval',
      blocks: [section('*KB5034441* needs approval'), button('Approve')],
    });
    assert.match(posted.ts ?? '', /^\d{10}\.\d{6}$/);
    const [call] = fake.callsTo('chat.postMessage');
    assert.equal(call?.token, 'xoxb-test');
    assert.equal(call?.status, 200);
    assert.ok(Array.isArray(call?.body.blocks), 'WebClient form-encodes blocks as a JSON string');
    const second = await client.chat.postMessage({ channel: 'C0001', text: 'second' });
    assert.ok((second.ts ?? '') > (posted.ts ?? ''), 'ts is unique and increasing');

    await client.chat.update({ channel: 'C0001', ts: posted.ts!, text: 'Approved by <@U0001>' });
    const [first] = fake.messages.get('C0001') ?? [];
    assert.equal(first?.text, 'Approved by <@U0001>');
    assert.equal(first?.blocks, undefined, 'text without blocks replaces the blocks');
    const missing = await slackError(
      client.chat.update({ channel: 'C0001', ts: '1.2', text: 'x' }),
    );
    assert.equal(missing.error, 'message_not_found');

    // Slack truncates text over 40,000 characters and warns instead of failing.
    const long = await client.chat.postMessage({ channel: 'C0002', text: 'a'.repeat(40_001) });
    assert.equal(long.warning, 'message_truncated');
    assert.equal(fake.messages.get('C0002')?.[0]?.text.length, 40_000);
  });

  it('rejects 51 blocks and a 76-character button label with invalid_blocks', async () => {
    const tooMany = Array.from({ length: 51 }, (_, i) => section(`line ${i}`));
    const many = await slackError(
      client.chat.postMessage({ channel: 'C0001', text: 'x', blocks: tooMany }),
    );
    assert.equal(many.error, 'invalid_blocks');
    assert.match(String(many.response_metadata?.messages), /\[json-pointer:\/blocks\]/);
    await client.chat.postMessage({ channel: 'C0001', text: 'x', blocks: tooMany.slice(0, 50) });

    const long = await slackError(
      client.chat.postMessage({ channel: 'C0001', text: 'x', blocks: [button('a'.repeat(76))] }),
    );
    assert.equal(long.error, 'invalid_blocks');
    assert.match(String(long.response_metadata?.messages), /elements\/0\/text\/text/);
    await client.chat.postMessage({
      channel: 'C0001',
      text: 'x',
      blocks: [button('a'.repeat(75))],
    });
  });

  it('rejects 3,001 characters of section text and a 2,001-character button value', async () => {
    const text = await slackError(
      client.chat.postMessage({ channel: 'C0001', text: 'x', blocks: [section('a'.repeat(3001))] }),
    );
    assert.equal(text.error, 'invalid_blocks');
    assert.match(String(text.response_metadata?.messages), /blocks\/0\/text/);
    await client.chat.postMessage({
      channel: 'C0001',
      text: 'x',
      blocks: [section('a'.repeat(3000))],
    });

    const valued = (value: string) => ({
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: 'approve',
          text: { type: 'plain_text', text: 'Approve' },
          value,
        },
      ],
    });
    const value = await slackError(
      client.chat.postMessage({ channel: 'C0001', text: 'x', blocks: [valued('v'.repeat(2001))] }),
    );
    assert.equal(value.error, 'invalid_blocks');
    assert.match(String(value.response_metadata?.messages), /elements\/0\/value/);
    await client.chat.postMessage({
      channel: 'C0001',
      text: 'x',
      blocks: [valued('v'.repeat(2000))],
    });
  });

  it('checks views: 25-character modal title is invalid_arguments, trigger ids are required', async () => {
    const view = {
      type: 'modal' as const,
      title: { type: 'plain_text' as const, text: 'x'.repeat(25) },
      blocks: [],
    };
    const bad = await slackError(client.views.open({ trigger_id: '1.2.abc', view }));
    assert.equal(bad.error, 'invalid_arguments');
    assert.match(String(bad.response_metadata?.messages), /\/view\/title\/text/);
    const noTrigger = await slackError(client.apiCall('views.open', { view }));
    assert.equal(noTrigger.error, 'invalid_arguments');
    const badTrigger = await slackError(client.views.open({ trigger_id: 'trig-1', view }));
    assert.equal(badTrigger.error, 'invalid_trigger_id');
    const opened = await client.views.open({
      trigger_id: '1.2.abc',
      view: { ...view, title: { type: 'plain_text', text: 'Defer' } },
    });
    assert.match(opened.view?.id ?? '', /^V/);
    await client.views.publish({
      user_id: 'U0001',
      view: { type: 'home', blocks: [section('hi')] },
    });
    assert.equal(fake.homeViews.get('U0001')?.type, 'home');
  });

  it('refuses unknown tokens and methods', async () => {
    assert.equal((await slackError(noRetry(fake, 'xoxb-nope').auth.test())).error, 'invalid_auth');
    assert.equal((await slackError(client.apiCall('patches.deploy'))).error, 'unknown_method');
  });

  it('lists user group members and knows unknown groups', async () => {
    fake.setUsergroup('S0APPROVERS', ['U0001', 'U0002']);
    const res = await client.usergroups.users.list({ usergroup: 'S0APPROVERS' });
    assert.deepEqual(res.users, ['U0001', 'U0002']);
    const err = await slackError(client.usergroups.users.list({ usergroup: 'S0NOPE' }));
    assert.equal(err.error, 'no_such_subteam');
    fake.scopes = fake.scopes.filter((s) => s !== 'usergroups:read');
    const scoped = await slackError(client.usergroups.users.list({ usergroup: 'S0APPROVERS' }));
    assert.deepEqual(
      [scoped.error, (scoped as { needed?: string }).needed],
      ['missing_scope', 'usergroups:read'],
    );
    fake.scopes = [...DEFAULT_SCOPES];
  });
});

describe('fake Slack pagination and rate limits', () => {
  const channels = Array.from({ length: 5 }, (_, i) => ({ id: `C10${i}`, name: `client-${i}` }));
  let fake: FakeSlack;
  before(async () => {
    // Tier windows shrink from a minute to a second so the test stays fast.
    fake = await startFakeSlack({ channels, rateLimits: true, tierScale: 1 / 60 });
  });
  after(() => fake.close());

  it('pages conversations.list with next_cursor until it is empty', async () => {
    const client = noRetry(fake);
    const names: string[] = [];
    for await (const page of client.paginate('conversations.list', { limit: 2 })) {
      const { channels: listed = [] } = page as { channels?: { name: string }[] };
      names.push(...listed.map((c) => c.name));
    }
    assert.deepEqual(
      names,
      channels.map((c) => c.name),
    );
    assert.equal(fake.callsTo('conversations.list').length, 3);
  });

  it('answers 429 with Retry-After once a tier is exceeded', async () => {
    // Real one-minute windows, so a slow machine cannot slip out of the window mid-test.
    const strict = await startFakeSlack({ rateLimits: true });
    try {
      const client = new WebClient('xoxb-test', {
        slackApiUrl: strict.url,
        rejectRateLimitedCalls: true,
        logger: quiet,
      });
      for (let i = 0; i < 50; i += 1) await client.conversations.info({ channel: 'C0001' }); // Tier 3
      const err = (await client.conversations
        .info({ channel: 'C0001' })
        .catch((e: unknown) => e)) as {
        code: string;
        retryAfter: number;
      };
      assert.equal(err.code, ErrorCode.RateLimitedError);
      assert.ok(err.retryAfter > 0 && err.retryAfter <= 60, `retryAfter ${err.retryAfter}`);
      const raw = await fetch(`${strict.url}conversations.info?channel=C0001`, {
        headers: { authorization: 'Bearer xoxb-test' },
      });
      assert.equal(raw.status, 429);
      assert.match(raw.headers.get('retry-after') ?? '', /^\d+$/);
      assert.deepEqual(await raw.json(), { ok: false, error: 'ratelimited' });
      assert.equal(strict.rateLimited, 2);
      assert.equal(strict.callsTo('conversations.info').at(-1)?.status, 429);
      // Another method has its own budget.
      await client.conversations.members({ channel: 'C0001' });
    } finally {
      await strict.close();
    }
  });

  it('lets a default WebClient wait out Retry-After and succeed', async () => {
    fake.setRateLimit('usergroups.users.list', { perMinute: 1 }); // 1 per second here
    fake.setUsergroup('S0001', ['U0001']);
    const client = new WebClient('xoxb-test', { slackApiUrl: fake.url, logger: quiet });
    const started = Date.now();
    await client.usergroups.users.list({ usergroup: 'S0001' });
    const res = await client.usergroups.users.list({ usergroup: 'S0001' });
    assert.deepEqual(res.users, ['U0001']);
    assert.deepEqual(
      fake.callsTo('usergroups.users.list').map((c) => c.status),
      [200, 429, 200],
    );
    assert.ok(Date.now() - started >= 1000, 'WebClient slept for Retry-After before retrying');
  });
});

describe('signed requests to a real Bolt HTTP receiver', () => {
  const secret = 'fake-signing-secret';
  let fake: FakeSlack;
  let app: App;
  let url: string;
  const seen: Record<string, unknown> = {};
  before(async () => {
    fake = await startFakeSlack();
    app = new App({
      token: 'xoxb-test',
      signingSecret: secret,
      logLevel: LogLevel.ERROR,
      clientOptions: { slackApiUrl: fake.url },
    });
    app.command('/patch', async ({ ack, command, client }) => {
      await ack();
      await client.chat.postMessage({
        channel: command.channel_id,
        text: `status ${command.text}`,
      });
    });
    app.action('approve', async ({ ack, body }) => {
      await ack();
      seen.action = body;
    });
    app.view('defer', async ({ ack, view }) => {
      seen.view = view;
      await ack({ response_action: 'errors', errors: { days: 'At most 30 days' } });
    });
    app.event('app_home_opened', async ({ event, client, context }) => {
      seen.retryNum = context.retryNum;
      await client.views.publish({
        user_id: event.user,
        view: { type: 'home', blocks: [section('Home')] },
      });
    });
    const server = await app.start({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  });
  after(async () => {
    await app.stop();
    await fake.close();
  });

  const until = async (done: () => boolean) => {
    for (let i = 0; i < 100 && !done(); i += 1) await new Promise((r) => setTimeout(r, 20));
    assert.ok(done(), 'condition not reached in 2 s');
  };

  it('signs exactly as Bolt verifies, and a tampered body fails', () => {
    const body = slashCommand({
      command: '/patch',
      text: 'status acme',
      user: 'U0001',
      channel: 'C0001',
    }).body;
    const headers = signSlackRequest(secret, body);
    const verify = (b: string, h = headers) =>
      verifySlackRequest({
        signingSecret: secret,
        body: b,
        headers: { ...h, 'x-slack-request-timestamp': Number(h['x-slack-request-timestamp']) },
      });
    verify(body);
    assert.throws(() => verify(`${body}x`), /signature mismatch/);
    const stale = signSlackRequest(secret, body, Math.floor(Date.now() / 1000) - 600);
    assert.throws(() => verify(body, stale), /stale/);
  });

  it('delivers commands, actions, submissions, events and the URL handshake', async () => {
    const challenge = await postToBolt(url, secret, urlVerification('c-123'));
    assert.deepEqual([challenge.status, challenge.json], [200, { challenge: 'c-123' }]);

    const cmd = await postToBolt(
      url,
      secret,
      slashCommand({ command: '/patch', text: 'acme', user: 'U0001', channel: 'C0001' }),
    );
    assert.equal(cmd.status, 200);
    await until(() => (fake.messages.get('C0001') ?? []).some((m) => m.text === 'status acme'));

    await postToBolt(
      url,
      secret,
      blockActions({
        user: 'U0001',
        channel: 'C0001',
        messageTs: '1700000000.000100',
        actionId: 'approve',
        value: 'plan-7',
      }),
    );
    await until(() => seen.action !== undefined);
    assert.equal((seen.action as { actions: { value: string }[] }).actions[0]?.value, 'plan-7');

    const values = { days: { days_input: { type: 'plain_text_input', value: '45' } } };
    const sub = await postToBolt(
      url,
      secret,
      viewSubmission({ user: 'U0001', callbackId: 'defer', privateMetadata: 'plan-7', values }),
    );
    assert.deepEqual(sub.json, { response_action: 'errors', errors: { days: 'At most 30 days' } });
    assert.equal((seen.view as { private_metadata: string }).private_metadata, 'plan-7');

    await postToBolt(url, secret, appHomeOpened({ user: 'U0002' }), {
      retryNum: 1,
      retryReason: 'http_timeout',
    });
    await until(() => fake.homeViews.has('U0002'));
    assert.equal(seen.retryNum, 1);
  });

  it('is refused by Bolt when the signature is wrong', async () => {
    const res = await postToBolt(url, secret, urlVerification('c'), { signature: 'v0=deadbeef' });
    assert.equal(res.status, 401);
  });
});
