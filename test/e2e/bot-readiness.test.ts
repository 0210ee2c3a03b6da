/**
 * The chat front doors stay up and tell the truth: Slack unreachable at start (served at once,
 * /healthz 503 naming slack, quick 503s, ready once Slack answers), SIGTERM ends `patchops bot`
 * quickly, and strangers (another Slack workspace, another Teams tenant) are refused at the door.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer as createTcpServer, connect, type Server as TcpServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { CardPublisher } from '../../bot/cards/publisher.js';
import { CommandRunner } from '../../bot/commands/runner.js';
import { startBotServer, type BotServer } from '../../bot/server.js';
import { createSlackFrontDoor, type SlackFrontDoor } from '../../bot/slack/app.js';
import type { SlackConfig, TeamsConfig } from '../../cli/config-chat.js';
import { slashCommand } from '../fakes/slack/payloads.js';
import { postToBolt } from '../fakes/slack/sign.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack/web-api.js';
import * as fake from '../fakes/teams/activities.js';
import { startFakeConnector, type FakeConnector } from '../fakes/teams/connector.js';
import { postActivity, startOpenIdMetadata, tokenForAudience } from '../fakes/teams/tokens.js';
import { cliEnv, startCli } from '../helpers/cli.js';
import { policy } from '../helpers/deps.js';
import { rolloutSuite } from '../helpers/rollout-suite.js';
import { SLACK_SECRET, startResponseSink, type ResponseSink } from '../helpers/slack.js';
import { TENANT, serveTeams } from '../helpers/teams.js';
import { until } from '../helpers/until.js';

const OTHER_TENANT = '0b5e0e1c-7f3a-4c0e-9d51-3c2a4f1e8b77';
const INTERNAL_TEXT = /Error:|\bat .+\(.+:\d+:\d+\)|stack|TypeError|ECONNREFUSED/;

const slackPolicy = policy(`
scope: { level: global }
approval: { default: needs_approval }
approvers: { slack: { teamId: T0001, users: [U0001] } }
`);

/** A port nothing listens on yet (the OS gave it to us and took it back). */
async function freePort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Slack "coming up": a TCP forwarder on `port` to the fake's real port. */
async function forward(port: number, to: number): Promise<TcpServer> {
  const server = createTcpServer((sock) => {
    const up = connect(to, '127.0.0.1');
    sock.pipe(up).pipe(sock);
    sock.on('error', () => up.destroy());
    up.on('error', () => sock.destroy());
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return server;
}

async function health(url: string) {
  const r = await fetch(`${url}/healthz`);
  return {
    status: r.status,
    body: (await r.json()) as Record<string, { ready: boolean; error?: string }>,
  };
}

function captureLog() {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
  return { log, lines };
}

describe('chat front doors: readiness, shutdown and the door', () => {
  const s = rolloutSuite();
  let fakeSlack: FakeSlack;
  let sink: ResponseSink;
  const closers: Array<() => Promise<unknown>> = [];
  before(async () => {
    fakeSlack = await startFakeSlack();
    sink = await startResponseSink();
    closers.push(
      () => fakeSlack.close(),
      () => new Promise((r) => sink.server.close(r)),
    );
  });
  after(async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  });

  const slackDoor = (apiUrl: string, log: pino.Logger, allowedTeams: string[] = []) => {
    const config: SlackConfig = {
      botToken: 'xoxb-test',
      signingSecret: SLACK_SECRET,
      appToken: undefined,
      mode: 'http',
      apiUrl,
      channels: { '*': 'C0001' },
      allowedChannels: [],
      allowedTeams,
    };
    const runner = new CommandRunner({
      temporal: s.t.client,
      taskQueue: s.t.taskQueue,
      store: s.db.store,
      policies: [slackPolicy],
      log,
    });
    const publisher = new CardPublisher({ store: s.db.store, notifiers: [], log });
    return createSlackFrontDoor({
      config,
      runner,
      publisher,
      store: s.db.store,
      policies: [slackPolicy],
      log,
    });
  };
  const help = (events: string, team?: string) =>
    postToBolt(
      events,
      SLACK_SECRET,
      slashCommand({
        command: '/patch',
        text: 'help',
        user: 'U0001',
        channel: 'C0001',
        responseUrl: sink.url,
        ...(team ? { team } : {}),
      }),
    );

  describe('Slack unreachable at start', () => {
    let door: SlackFrontDoor;
    let server: BotServer;
    let proxy: TcpServer | undefined;
    const { log, lines } = captureLog();
    after(async () => {
      await server?.close();
      await door?.stop();
      await new Promise((r) => (proxy ? proxy.close(r) : r(undefined)));
    });

    it('serves at once, answers a quick 503, /healthz 503 naming slack; ready once Slack answers', async () => {
      const port = await freePort();
      door = slackDoor(`http://127.0.0.1:${port}/api/`, log);
      const t0 = Date.now();
      await door.start(); // resolves: Slack unreachable is not a reason to stay down
      assert.ok(Date.now() - t0 < 3_000, `start() took ${Date.now() - t0} ms`);
      server = await startBotServer({ slack: door.handler }, '127.0.0.1', 0, () => undefined);
      const h = await health(server.url);
      assert.equal(h.status, 503);
      assert.equal(h.body.slack?.ready, false);
      assert.match(h.body.slack?.error ?? '', /Slack unreachable/);
      assert.doesNotMatch(JSON.stringify(h.body), /xoxb/);

      const t1 = Date.now();
      const early = await help(`${server.url}/slack/events`);
      assert.equal(early.status, 503, early.body);
      assert.ok(Date.now() - t1 < 1_000, `the 503 took ${Date.now() - t1} ms`);
      assert.doesNotMatch(early.body, INTERNAL_TEXT);

      proxy = await forward(port, Number(new URL(fakeSlack.url).port));
      await until('slack ready', async () => (await health(server.url)).status === 200, 15_000);
      assert.deepEqual((await health(server.url)).body, { slack: { ready: true } });
      const n = sink.bodies.length;
      const r = await help(`${server.url}/slack/events`);
      assert.equal(r.status, 200, r.body);
      const reply = (await until('the reply', () => sink.bodies[n])) as { text: string };
      assert.match(reply.text, /\/patch/);
      assert.ok(lines.some((l) => l.includes('slack start-up call failed; retrying')));
    });

    it('a request from another workspace is refused at the door and logged once', async () => {
      const events = `${server.url}/slack/events`;
      const before = { replies: sink.bodies.length, calls: fakeSlack.calls.length };
      for (let i = 0; i < 3; i++) {
        const r = await help(events, 'T0999');
        assert.equal(r.status, 200, 'acked, so Slack does not retry');
        assert.equal(r.body, '');
      }
      await sleep(1_000);
      assert.equal(sink.bodies.length, before.replies, 'no reply to a stranger');
      assert.equal(fakeSlack.calls.length, before.calls, 'no Web API call for a stranger');
      const refused = lines.filter((l) => l.includes('workspace that is not allowed'));
      assert.equal(refused.length, 1, 'logged once');
      assert.match(refused[0]!, /"team":"T0999"/);
      // Its own workspace still gets in.
      const n = sink.bodies.length;
      assert.equal((await help(events)).status, 200);
      await until('the reply', () => sink.bodies[n]);
    });
  });

  it('Socket Mode: Slack unreachable at start → start() resolves, not ready; connects once Slack answers; stop() is quick', async () => {
    const port = await freePort();
    const { log } = captureLog();
    const config: SlackConfig = {
      botToken: 'xoxb-test',
      signingSecret: undefined,
      appToken: 'xapp-test',
      mode: 'socket',
      apiUrl: `http://127.0.0.1:${port}/api/`,
      channels: { '*': 'C0001' },
      allowedChannels: [],
      allowedTeams: [],
    };
    const runner = new CommandRunner({
      temporal: s.t.client,
      taskQueue: s.t.taskQueue,
      store: s.db.store,
      policies: [slackPolicy],
      log,
    });
    const publisher = new CardPublisher({ store: s.db.store, notifiers: [], log });
    const door = createSlackFrontDoor({
      config,
      runner,
      publisher,
      store: s.db.store,
      policies: [slackPolicy],
      log,
    });
    let proxy: TcpServer | undefined;
    try {
      const t0 = Date.now();
      await door.start();
      assert.ok(Date.now() - t0 < 3_000);
      assert.equal(door.readiness().ready, false);
      assert.match(door.readiness().error ?? '', /Slack unreachable/);
      const opens = fakeSlack.socketMode.connections.length;
      proxy = await forward(port, Number(new URL(fakeSlack.url).port));
      await until('socket mode ready', () => door.readiness().ready, 15_000);
      assert.equal(fakeSlack.socketMode.connections.length, opens + 1);
      const n = sink.bodies.length;
      const d = fakeSlack.socketMode.deliver(
        slashCommand({
          command: '/patch',
          text: 'help',
          user: 'U0001',
          channel: 'C0001',
          responseUrl: sink.url,
        }),
      );
      await d.acked(3_000);
      await until('the reply', () => sink.bodies[n]);
    } finally {
      const t1 = Date.now();
      await door.stop();
      assert.ok(Date.now() - t1 < 3_000, `stop() took ${Date.now() - t1} ms`);
      await new Promise((r) => (proxy ? proxy.close(r) : r(undefined)));
    }
  });

  it('`patchops bot` with Slack unreachable: serves /healthz 503, and SIGTERM ends it in < 5 s', async () => {
    const [slackPort, botPort] = [await freePort(), await freePort()];
    const child = startCli(
      ['bot'],
      cliEnv({
        SLACK_BOT_TOKEN: 'xoxb-test',
        SLACK_SIGNING_SECRET: SLACK_SECRET,
        PATCHOPS_SLACK_API_URL: `http://127.0.0.1:${slackPort}/api/`,
        PATCHOPS_BOT_HOST: '127.0.0.1',
        PATCHOPS_BOT_PORT: String(botPort),
        DATABASE_URL: s.db.url,
        TEMPORAL_ADDRESS: process.env.PATCHOPS_TEST_TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
        PATCHOPS_POLICY_DIR: '/nonexistent-policies',
      }),
    );
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      const url = `http://127.0.0.1:${botPort}`;
      const h = await until(
        'the bot to serve /healthz',
        async () =>
          fetch(`${url}/healthz`)
            .then((r) => r.json().then((b) => ({ s: r.status, b })))
            .catch(() => undefined),
        30_000,
      );
      assert.equal(h.s, 503, stderr);
      assert.equal((h.b as { slack: { ready: boolean } }).slack.ready, false);
      assert.equal((await fetch(`${url}/livez`)).status, 200);
      const t0 = Date.now();
      child.kill('SIGTERM');
      const code = await Promise.race([exited, sleep(5_000).then(() => 'timeout' as const)]);
      assert.notEqual(code, 'timeout', `still running 5 s after SIGTERM: ${stderr}`);
      assert.equal(code, 0, stderr);
      assert.ok(Date.now() - t0 < 5_000);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  describe('Teams: tenant allow-list and key endpoint', () => {
    let connector: FakeConnector;
    before(async () => {
      connector = await startFakeConnector();
    });
    after(async () => connector?.close());

    const serve = async (log: pino.Logger) => {
      const openId = await startOpenIdMetadata();
      const appId = randomUUID();
      const password = randomUUID();
      const config: TeamsConfig = {
        appId,
        appPassword: password,
        tenantId: undefined,
        appType: 'MultiTenant',
        authDisabled: false,
        allowedTenants: [TENANT],
      };
      const bot = await serveTeams(s, log, {
        config,
        authOverrides: openId.authConfig({ appId, password }),
      });
      return { openId, appId, bot };
    };

    it('another tenant’s message and install are refused (403), logged once, nothing stored or sent', async () => {
      const { log, lines } = captureLog();
      const { openId, appId, bot } = await serve(log);
      try {
        await until(
          'teams ready',
          async () => (await health(bot.server.url)).status === 200,
          10_000,
        );
        const serviceUrl = connector.serviceUrl;
        const authorization = tokenForAudience(appId, { serviceUrl });
        const conversationId = '19:stranger@thread.tacv2';
        const ctx = fake.teamsContext({
          serviceUrl,
          botAppId: appId,
          conversationId,
          tenantId: OTHER_TENANT,
        });
        const sent = connector.requests.length;
        for (const activity of [
          fake.installationUpdate(ctx),
          fake.conversationUpdateInstall(ctx),
          fake.conversationUpdateInstall(
            { ...ctx, conversationId: 'a:stranger-dm' },
            { conversationType: 'personal' },
          ),
          fake.message(ctx, { text: 'status' }),
        ]) {
          const r = await postActivity(bot.url, activity, { authorization });
          assert.equal(r.status, 403, `${activity.type}: ${JSON.stringify(r.body)}`);
          assert.doesNotMatch(JSON.stringify(r.body), INTERNAL_TEXT);
        }
        assert.equal(await s.db.store.chat.conversation('teams', conversationId), undefined);
        assert.equal(await s.db.store.chat.conversation('teams', 'a:stranger-dm'), undefined);
        assert.equal(connector.requests.length, sent, 'nothing sent to a stranger');
        const refused = lines.filter((l) => l.includes('tenant that is not allowed'));
        assert.equal(refused.length, 1, 'logged once');
        assert.match(refused[0]!, new RegExp(OTHER_TENANT));
        // The allowed tenant's install is stored: the 403s were the tenant.
        const mine = fake.teamsContext({
          serviceUrl,
          botAppId: appId,
          conversationId: '19:home@thread.tacv2',
          tenantId: TENANT,
        });
        const ok = await postActivity(bot.url, fake.installationUpdate(mine), { authorization });
        assert.equal(ok.status, 200, JSON.stringify(ok.body));
        assert.ok(await s.db.store.chat.conversation('teams', '19:home@thread.tacv2'));
      } finally {
        await bot.close();
        await openId.close();
      }
    });

    it('key endpoint down: 503 with a short body and a log line, /healthz names it; no internal text', async () => {
      const { log, lines } = captureLog();
      const { openId, appId, bot } = await serve(log);
      await openId.close(); // before any key was fetched: botbuilder has none cached
      try {
        const serviceUrl = connector.serviceUrl;
        const ctx = fake.teamsContext({
          serviceUrl,
          botAppId: appId,
          conversationId: '19:keys@thread.tacv2',
          tenantId: TENANT,
        });
        const r = await postActivity(bot.url, fake.message(ctx, { text: 'status' }), {
          authorization: tokenForAudience(appId, { serviceUrl }),
        });
        assert.equal(r.status, 503, JSON.stringify(r.body));
        assert.equal(r.body, 'authentication unavailable; try again shortly');
        assert.ok(lines.some((l) => l.includes('signing keys unavailable')));
        const h = await until(
          'teams not ready',
          async () => {
            const x = await health(bot.server.url);
            return x.status === 503 && x.body.teams?.error?.includes('OpenID') ? x : undefined;
          },
          10_000,
        );
        assert.equal(h.body.teams?.ready, false);
        assert.equal(
          await s.db.store.chat.conversation('teams', '19:keys@thread.tacv2'),
          undefined,
        );
      } finally {
        await bot.close();
      }
    });
  });
});
