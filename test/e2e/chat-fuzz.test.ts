/**
 * Fuzz of the Slack and Teams HTTP endpoints: about two thousand generated requests (fixed seed) —
 * malformed bodies, huge fields, a 10 MB body, wrong content types, bad or missing signatures
 * and tokens, null and odd action payloads, unicode, strangers. Every answer must be a 2xx/4xx
 * with no internal text, nothing may start or change in PostgreSQL or Temporal, and the process
 * must keep serving.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { CardPublisher } from '../../bot/cards/publisher.js';
import { CommandRunner } from '../../bot/commands/runner.js';
import { startBotServer, type BotServer } from '../../bot/server.js';
import { createSlackFrontDoor, type SlackFrontDoor } from '../../bot/slack/app.js';
import type { SlackConfig, TeamsConfig } from '../../cli/config-chat.js';
import { signSlackRequest } from '../fakes/slack/sign.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack/web-api.js';
import * as fake from '../fakes/teams/activities.js';
import { startFakeConnector, type FakeConnector } from '../fakes/teams/connector.js';
import {
  garbageToken,
  startOpenIdMetadata,
  tokenForAudience,
  type OpenIdMetadata,
} from '../fakes/teams/tokens.js';
import { policy } from '../helpers/deps.js';
import { rolloutSuite } from '../helpers/rollout-suite.js';
import { SLACK_SECRET } from '../helpers/slack.js';
import { TENANT, serveTeams, type ServedFrontDoor } from '../helpers/teams.js';

const SEED = 0x5eed_2026;
const OTHER_TENANT = '0b5e0e1c-7f3a-4c0e-9d51-3c2a4f1e8b77';
const INTERNAL_TEXT = /Error:|\n\s+at |stack|TypeError|SyntaxError|ECONN|node_modules|\.ts:\d+/;

const fuzzPolicy = policy(`
scope: { level: global }
approval: { default: needs_approval }
approvers: { slack: { teamId: T0001, users: [U0001] }, teams: { tenantId: ${TENANT}, users: [c33aafc4-646d-4543-9d4c-abd28e4d2110] } }
`);

/** Generated requests per endpoint family ("thousands of payloads" in all, bounded, loopback). */
const SLACK_CASES = 1_100;
const TEAMS_CASES = 1_000;

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick };
}
type Rng = ReturnType<typeof prng>;

const UNICODE = ['ü', '😀', '\u202e', '\u0000', '\ud800', '𝕏', 'ß', '中文', '\u200b', '"\'<>&'];
function oddString(r: Rng): string {
  switch (r.int(7)) {
    case 0:
      return '';
    case 1:
      return 'R'.repeat(100_000); // a 100 KB ring name / id
    case 2:
      return Array.from({ length: 1 + r.int(20) }, () => r.pick(UNICODE)).join('');
    case 3:
      return `rollout-${r.int(1e6)}`;
    case 4:
      return '../../etc/passwd';
    case 5:
      return '{"x":';
    default:
      return `${r.pick(UNICODE)}${r.int(1e9)}`;
  }
}
function oddValue(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 2 ? 5 : 8)) {
    case 0:
      return null;
    case 1:
      return r.int(2) === 0;
    case 2:
      return r.next() * 1e12 - 5e11;
    case 3:
      return oddString(r);
    case 4:
      return undefined;
    case 5:
      return Array.from({ length: r.int(4) }, () => oddValue(r, depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: r.int(4) }, () => [
          r.pick(['type', 'value', 'id', 'action_id', 'verb', 'data', oddString(r).slice(0, 20)]),
          oddValue(r, depth + 1),
        ]),
      );
  }
}

/** Header values are bytes: anything above U+00FF escaped as \uXXXX text. */
const latin1 = (v: string) =>
  v.replace(/[^\x20-\xff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

interface FuzzCase {
  name: string;
  url: string;
  headers: Record<string, string>;
  body: string | Buffer;
}

/** Slack requests: odd payloads signed correctly, and everything else around them. */
function slackCase(r: Rng, events: string, i: number): FuzzCase {
  const user = r.pick(['U0666', 'U0666', 'U0001', oddString(r).slice(0, 50)]);
  const team = r.pick(['T0001', 'T0001', 'T0999', oddString(r).slice(0, 50)]);
  const verbs = ['approve', 'reject', 'defer', 'pause', 'resume', 'cancel', 'status', 'report'];
  let body: string;
  let contentType = 'application/x-www-form-urlencoded';
  switch (r.int(6)) {
    case 0: {
      // a slash command: verbs with odd arguments (never scan/rollout as an approver)
      const verb = user === 'U0001' ? r.pick(verbs) : r.pick([...verbs, 'scan', 'rollout', 'help']);
      const text = `${verb} ${oddString(r)} --ring ${oddString(r)} ${oddString(r)}`;
      body = new URLSearchParams({
        command: r.pick(['/patch', oddString(r)]),
        text,
        user_id: user,
        team_id: team,
        channel_id: r.pick(['C0001', 'D0001', oddString(r).slice(0, 30)]),
        response_url: r.pick(['https://hooks.slack.com/commands/T0001/1/x', oddString(r)]),
        trigger_id: oddString(r).slice(0, 40),
      }).toString();
      break;
    }
    case 1: {
      // block_actions with odd actions
      const payload = {
        type: 'block_actions',
        user: r.int(3) ? { id: user, team_id: team } : oddValue(r),
        team: r.int(3) ? { id: team } : oddValue(r),
        channel: r.int(2) ? { id: 'C0001' } : oddValue(r),
        actions: r.int(4)
          ? [
              {
                type: 'button',
                action_id: r.pick([
                  'patchops.approve',
                  'patchops.reject',
                  'patchops.defer',
                  'patchops.details',
                  oddString(r),
                ]),
                value: r.int(2) ? oddString(r) : JSON.stringify(oddValue(r)),
                block_id: oddString(r).slice(0, 50),
                action_ts: '1700000000.000001',
              },
            ]
          : oddValue(r),
        message: oddValue(r),
        response_url: oddString(r),
        trigger_id: oddString(r).slice(0, 40),
      };
      body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
      break;
    }
    case 2: {
      // Events API JSON: odd events
      contentType = 'application/json';
      body = JSON.stringify({
        type: r.pick(['event_callback', 'url_verification', oddString(r)]),
        team_id: team,
        challenge: oddString(r),
        event: oddValue(r),
        authorizations: r.int(2) ? [{ team_id: team, enterprise_id: null }] : oddValue(r),
      });
      break;
    }
    case 3:
      body = new URLSearchParams({ payload: oddString(r) }).toString();
      break;
    case 4:
      contentType = r.pick(['text/plain', 'application/xml', 'multipart/form-data', '']);
      body = oddString(r);
      break;
    default:
      body = JSON.stringify(oddValue(r)) ?? '';
      contentType = r.pick(['application/json', 'application/x-www-form-urlencoded']);
  }
  const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {};
  const now = Math.floor(Date.now() / 1000);
  switch (r.int(6)) {
    case 0:
      break; // unsigned
    case 1:
      Object.assign(headers, signSlackRequest('wrong-secret', body));
      break;
    case 2:
      Object.assign(
        headers,
        signSlackRequest(SLACK_SECRET, body, r.pick([now - 3_600, now + 3_600, 0])),
      );
      break;
    case 3:
      Object.assign(headers, {
        // Header values are bytes: odd, but what an HTTP client can send.
        'x-slack-signature': latin1(oddString(r)).slice(0, 200),
        'x-slack-request-timestamp': latin1(oddString(r)).slice(0, 30),
      });
      break;
    default:
      Object.assign(headers, signSlackRequest(SLACK_SECRET, body));
  }
  return { name: `slack #${i}`, url: events, headers, body };
}

/** Teams requests: malformed activities, strangers, bad tokens, odd invokes. */
function teamsCase(
  r: Rng,
  doors: { open: string; authed: string; appId: string },
  serviceUrl: string,
  i: number,
): FuzzCase {
  const tenant = r.pick([OTHER_TENANT, OTHER_TENANT, oddString(r).slice(0, 60)]);
  const ctx = fake.teamsContext({
    serviceUrl,
    tenantId: tenant,
    botAppId: doors.appId,
    conversationId: r.pick([
      '19:fuzz@thread.tacv2',
      'a:fuzz-dm',
      `19:${oddString(r).slice(0, 40)}@thread.v2`,
    ]),
  });
  let activity: unknown;
  switch (r.int(7)) {
    case 0:
      activity = fake.message(ctx, {
        text: `${r.pick(['approve', 'status', 'rollout', 'scan'])} ${oddString(r)}`,
      });
      break;
    case 1:
      activity = fake.installationUpdate(ctx, { action: r.pick(['add', 'remove'] as const) });
      break;
    case 2:
      activity = fake.conversationUpdateInstall(ctx);
      break;
    case 3:
      activity = fake.actionInvoke(ctx, {
        verb: r.pick(['approve', 'reject', oddString(r)]),
        data: oddValue(r) as Record<string, unknown>,
        activityId: oddString(r).slice(0, 40),
      });
      break;
    case 4: {
      // a message whose fields have the wrong shapes
      const a = fake.message(ctx, { text: 'status' }) as Record<string, unknown>;
      for (const k of [
        'from',
        'recipient',
        'conversation',
        'channelData',
        'text',
        'type',
        'serviceUrl',
        'value',
        'entities',
      ])
        if (r.int(3) === 0) a[k] = oddValue(r);
      activity = a;
      break;
    }
    case 5:
      activity = oddValue(r);
      break;
    default:
      activity = oddString(r);
  }
  let body = typeof activity === 'string' ? activity : (JSON.stringify(activity) ?? '');
  if (r.int(10) === 0) body = body.slice(0, Math.max(1, r.int(body.length))); // cut off
  const headers: Record<string, string> = {
    'content-type': r.pick([
      'application/json',
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
    ]),
  };
  const authed = r.int(2) === 0;
  if (authed) {
    const token = r.pick([
      undefined,
      garbageToken(),
      tokenForAudience(randomUUID(), { serviceUrl }),
      tokenForAudience(doors.appId, { serviceUrl, forgeSignature: true }),
      tokenForAudience(doors.appId, { serviceUrl, expiresInSeconds: -60 }),
      tokenForAudience(doors.appId, { serviceUrl }), // valid: the tenant gate must refuse it
    ]);
    if (token) headers.authorization = token;
  }
  return { name: `teams #${i}`, url: authed ? doors.authed : doors.open, headers, body };
}

async function tableDigests(pool: {
  query: (q: string) => Promise<{ rows: Array<Record<string, unknown>> }>;
}) {
  const tables = await pool.query(
    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'pgmigrations%' ORDER BY 1",
  );
  const out: Record<string, string> = {};
  for (const { tablename } of tables.rows) {
    const r = await pool.query(
      `SELECT count(*)::text || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') AS d FROM "${String(tablename)}" t`,
    );
    out[String(tablename)] = String(r.rows[0]?.d);
  }
  return out;
}

describe('chat endpoints under fuzz (seed 0x5eed2026)', () => {
  const s = rolloutSuite();
  let slackFake: FakeSlack;
  let slack: SlackFrontDoor;
  let slackServer: BotServer;
  let connector: FakeConnector;
  let openId: OpenIdMetadata;
  let open: ServedFrontDoor;
  let authed: ServedFrontDoor;
  let appId: string;
  const log = pino({ level: 'silent' });

  before(async () => {
    slackFake = await startFakeSlack();
    const config: SlackConfig = {
      botToken: 'xoxb-test',
      signingSecret: SLACK_SECRET,
      appToken: undefined,
      mode: 'http',
      apiUrl: slackFake.url,
      channels: { '*': 'C0001' },
      allowedChannels: [],
      allowedTeams: [],
    };
    const runner = new CommandRunner({
      temporal: s.t.client,
      taskQueue: s.t.taskQueue,
      store: s.db.store,
      policies: [fuzzPolicy],
      log,
    });
    const publisher = new CardPublisher({ store: s.db.store, notifiers: [], log });
    slack = createSlackFrontDoor({
      config,
      runner,
      publisher,
      store: s.db.store,
      policies: [fuzzPolicy],
      log,
    });
    await slack.start();
    slackServer = await startBotServer({ slack: slack.handler }, '127.0.0.1', 0, () => undefined);
    connector = await startFakeConnector();
    openId = await startOpenIdMetadata();
    appId = randomUUID();
    const password = randomUUID();
    const openConfig: TeamsConfig = {
      appId: undefined,
      appPassword: undefined,
      tenantId: undefined,
      appType: 'MultiTenant',
      authDisabled: true,
      allowedTenants: [TENANT],
    };
    open = await serveTeams(s, log, { config: openConfig });
    authed = await serveTeams(s, log, {
      config: {
        appId,
        appPassword: password,
        tenantId: TENANT,
        appType: 'SingleTenant',
        authDisabled: false,
      },
      authOverrides: {
        ...openId.authConfig({ appId, password }),
        MicrosoftAppType: 'SingleTenant',
        MicrosoftAppTenantId: TENANT,
      },
    });
  });
  after(async () => {
    await slackServer?.close();
    await slack?.stop();
    await open?.close();
    await authed?.close();
    await openId?.close();
    await connector?.close();
    await slackFake?.close();
  });

  it('answers every request with a 2xx/4xx and no internal text; changes nothing; stays up', async () => {
    const r = prng(SEED);
    const before = await tableDigests(s.db.pool);
    const workflowsBefore = await countWorkflows(s);
    const cases: FuzzCase[] = [];
    const events = `${slackServer.url}/slack/events`;
    for (let i = 0; i < SLACK_CASES; i++) cases.push(slackCase(r, events, i));
    for (let i = 0; i < TEAMS_CASES; i++)
      cases.push(
        teamsCase(r, { open: open.url, authed: authed.url, appId }, connector.serviceUrl, i),
      );
    const tenMb = Buffer.alloc(10 * 1024 * 1024, 'a');
    cases.push({
      name: 'slack 10 MB',
      url: events,
      headers: { 'content-type': 'application/json' },
      body: tenMb,
    });
    cases.push({
      name: 'teams 10 MB',
      url: open.url,
      headers: { 'content-type': 'application/json' },
      body: tenMb,
    });
    const statuses = new Map<number, number>();
    let slowest = { ms: 0, name: '' };
    for (const c of cases) {
      if (process.env.FUZZ_TRACE) process.stderr.write(`${c.name}\n`);
      const started = Date.now();
      const res = await fetch(c.url, {
        method: 'POST',
        headers: c.headers,
        body: c.body,
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      const ms = Date.now() - started;
      if (ms > slowest.ms) slowest = { ms, name: c.name };
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const what = `${c.name} → ${res.status} ${text.slice(0, 200)}\nsent ${String(c.body).slice(0, 300)}`;
      assert.ok(res.status >= 200 && res.status < 500, what);
      assert.doesNotMatch(text, INTERNAL_TEXT, what);
    }
    // The tally goes to the test's output (and the closing note): payloads and outcomes.
    process.stdout.write(
      `# fuzz: ${cases.length} requests, statuses ${JSON.stringify(Object.fromEntries(statuses))}, slowest ${slowest.ms} ms (${slowest.name})\n`,
    );
    // Slack gives an app 3 seconds to acknowledge; every answer came sooner.
    assert.ok(slowest.ms < 3_000, `${slowest.name} took ${slowest.ms} ms`);
    // Every kind of refusal was exercised, and some requests got through to the handlers.
    for (const code of [200, 400, 401, 403, 413])
      assert.ok(statuses.get(code), `no ${code} among ${JSON.stringify([...statuses])}`);
    await open.door.idle();
    await authed.door.idle();
    // Nothing changed but the audit of refused attempts (once per person, target and
    // interval, by design): every new audit event is such a refusal.
    const after = await tableDigests(s.db.pool);
    const audit = ['audit_events', 'audit_chain_heads'];
    const without = (d: Record<string, string>) =>
      Object.fromEntries(Object.entries(d).filter(([t]) => !audit.includes(t)));
    assert.deepEqual(without(after), without(before), 'PostgreSQL unchanged');
    const audited = await s.db.pool.query<{ action: string }>(`select action from audit_events`);
    for (const e of audited.rows)
      assert.match(e.action, /\.unauthorised$/, 'only refusals audited');
    assert.equal(await countWorkflows(s), workflowsBefore, 'no workflow started');
    // Still serving, and still right.
    assert.equal((await fetch(`${slackServer.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${open.server.url}/livez`)).status, 200);
  });
});

async function countWorkflows(s: ReturnType<typeof rolloutSuite>): Promise<number> {
  const ids: string[] = [];
  for await (const w of s.t.client.workflow.list({ query: `TaskQueue = '${s.t.taskQueue}'` }))
    ids.push(w.workflowId);
  return ids.length;
}
