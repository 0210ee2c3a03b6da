import assert from 'node:assert/strict';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { LogLevel } from '@slack/bolt';
import { ErrorCode, WebClient, type Logger, type WebAPIPlatformError } from '@slack/web-api';
import WebSocket from 'ws';
import {
  appHomeOpened,
  blockActions,
  slashCommand,
  urlVerification,
} from '../fakes/slack/payloads.js';
import { envelopeOf, frameText } from '../fakes/slack/socket-envelopes.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack/web-api.js';

const quiet: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.ERROR,
  setName: () => undefined,
};
const client = (fake: FakeSlack, token: string) =>
  new WebClient(token, { slackApiUrl: fake.url, retryConfig: { retries: 0 }, logger: quiet });

async function slackError(call: Promise<unknown>): Promise<string | undefined> {
  const err = (await call.then(
    () => assert.fail('expected the call to fail'),
    (e: unknown) => e,
  )) as WebAPIPlatformError;
  assert.equal(err.code, ErrorCode.PlatformError);
  return err.data.error;
}

/** A raw WebSocket client that collects the server's text frames. */
async function connect(url: string): Promise<{ ws: WebSocket; frames: unknown[] }> {
  const ws = new WebSocket(url);
  const frames: unknown[] = [];
  ws.on('message', (data) => frames.push(JSON.parse(frameText(data))));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, frames };
}

const refusal = (url: string) =>
  new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('unexpected-response', (_req: ClientRequest, res: IncomingMessage) =>
      resolve(res.statusCode ?? 0),
    );
    ws.once('error', () => undefined);
    ws.once('open', () => reject(new Error('the upgrade was accepted')));
  });

const until = async (ok: () => boolean) => {
  for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(ok());
};

describe('fake Slack Socket Mode', () => {
  let fake: FakeSlack;
  before(async () => {
    fake = await startFakeSlack({ socketPingMs: 50 });
  });
  after(() => fake.close());

  it('apps.connections.open wants an app-level token in the Authorization header', async () => {
    const res = await client(fake, 'xapp-test').apps.connections.open();
    assert.match(
      res.url ?? '',
      /^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=[0-9a-f-]{36}&app_id=A0001$/,
    );
    assert.deepEqual(res.response_metadata?.scopes, ['connections:write']);
    assert.equal(
      await slackError(client(fake, 'xoxb-test').apps.connections.open()),
      'not_allowed_token_type',
    );
    assert.equal(
      await slackError(client(fake, 'xapp-other').apps.connections.open()),
      'invalid_auth',
    );
    assert.equal(
      await slackError(client(fake, 'xapp-test').chat.postMessage({ channel: 'C0001', text: 'x' })),
      'not_allowed_token_type',
    );
    const form = await fetch(`${fake.url}apps.connections.open`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'token=xapp-test',
    });
    assert.equal(((await form.json()) as { error: string }).error, 'not_authed');
    fake.appScopes.length = 0;
    try {
      assert.equal(
        await slackError(client(fake, 'xapp-test').apps.connections.open()),
        'missing_scope',
      );
    } finally {
      fake.appScopes.push('connections:write');
    }
  });

  it('says hello on connect, refuses unknown and reused tickets, and pings', async () => {
    const { url } = await client(fake, 'xapp-test').apps.connections.open();
    const { ws, frames } = await connect(url!);
    let pinged = 0;
    ws.on('ping', () => (pinged += 1));
    await until(() => frames.length > 0);
    const hello = frames[0] as Record<string, unknown>;
    assert.deepEqual(Object.keys(hello).sort(), [
      'connection_info',
      'debug_info',
      'num_connections',
      'type',
    ]);
    assert.equal(hello.type, 'hello');
    assert.equal(hello.num_connections, 1);
    assert.deepEqual(hello.connection_info, { app_id: 'A0001' });
    assert.equal(
      (hello.debug_info as { approximate_connection_time: number }).approximate_connection_time,
      18060,
    );
    assert.equal(await refusal(url!), 401, 'a ticket is good for one connection');
    assert.equal(await refusal(url!.replace(/ticket=[^&]+/, 'ticket=nope')), 401);
    assert.equal(fake.socketMode.refused, 2);
    await until(() => pinged > 0);
    ws.close(1000);
    await until(() => fake.socketMode.openCount === 0);
    assert.equal(fake.socketMode.connections.at(-1)?.closeCode, 1000);
  });

  it('delivers envelopes with JSON payloads, matches acks, and asks to reconnect', async () => {
    const { url } = await client(fake, 'xapp-test').apps.connections.open();
    const { ws, frames } = await connect(url!);
    await fake.socketMode.connected(2);
    const cmd = fake.socketMode.deliver(
      slashCommand({ command: '/patch', text: 'help', user: 'U0001', channel: 'C0001' }),
    );
    await until(() => frames.length === 2);
    const sent = frames[1] as Record<string, unknown>;
    assert.deepEqual(Object.keys(sent).sort(), [
      'accepts_response_payload',
      'envelope_id',
      'payload',
      'retry_attempt',
      'retry_reason',
      'type',
    ]);
    assert.equal(sent.type, 'slash_commands');
    assert.equal(sent.accepts_response_payload, true);
    assert.equal(sent.retry_attempt, 0);
    assert.equal(sent.retry_reason, '');
    assert.equal((sent.payload as { text: string }).text, 'help');
    ws.send(JSON.stringify({ envelope_id: cmd.envelope.envelope_id, payload: { text: 'usage' } }));
    assert.deepEqual((await cmd.acked()).payload, { text: 'usage' });

    const again = fake.socketMode.redeliver(cmd);
    assert.equal(again.envelope.retry_attempt, 1);
    assert.equal(again.envelope.retry_reason, 'timeout');
    ws.send(JSON.stringify({ envelope_id: cmd.envelope.envelope_id }));
    assert.equal((await again.acked()).payload, undefined);
    ws.send(JSON.stringify({ envelope_id: cmd.envelope.envelope_id, payload: {} }));
    ws.send('not json');
    await until(() => fake.socketMode.otherFrames.length === 1);
    assert.equal(fake.socketMode.strayAcks.length, 1, 'a third ack of a twice-sent envelope');

    const silent = fake.socketMode.deliver(appHomeOpened({ user: 'U0001' }));
    assert.equal(silent.envelope.accepts_response_payload, false);
    await assert.rejects(silent.acked(50), /not acked|the ack of events_api envelope/);

    assert.equal(fake.socketMode.disconnect(), 1);
    await until(() => frames.length === 5);
    assert.deepEqual(frames[4], {
      type: 'disconnect',
      reason: 'refresh_requested',
      debug_info: { host: 'applink-fake-2' },
    });
    ws.close(1000);
    await until(() => fake.socketMode.openCount === 0);
    assert.throws(
      () => fake.socketMode.deliver(appHomeOpened({ user: 'U0001' })),
      /no open connection/,
    );
  });

  it('turns HTTP payload builders into Socket Mode envelopes', () => {
    const click = envelopeOf(
      blockActions({
        user: 'U1',
        channel: 'C0001',
        messageTs: '1.2',
        actionId: 'patchops.approve',
      }),
    );
    assert.equal(click.type, 'interactive');
    assert.equal(click.payload.type, 'block_actions');
    const cmd = envelopeOf(
      slashCommand({ command: '/patch', text: 'x', user: 'U1', channel: 'C1' }),
    );
    assert.equal(cmd.type, 'slash_commands');
    assert.equal(cmd.payload.command, '/patch');
    const ev = envelopeOf(appHomeOpened({ user: 'U1' }));
    assert.equal(ev.type, 'events_api');
    assert.equal((ev.payload.event as { type: string }).type, 'app_home_opened');
    assert.throws(() => envelopeOf(urlVerification('c')), /url_verification is not delivered/);
  });
});
