/**
 * The door's allow-lists (Slack workspaces and organisations, Teams tenants) as the config
 * module resolves them, and PlatformStartup's back-off and readiness.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { PlatformStartup } from '../../../bot/server.js';
import { admittedTeams, teamAdmitted, type SlackIdentity } from '../../../bot/slack/app.js';
import { allowedTenantsOf, tenantAdmitted, tenantsOf } from '../../../bot/teams/adapter.js';
import type { SlackConfig } from '../../../cli/config-chat.js';
import { ConfigError, loadConfig } from '../../../cli/config.js';

const load = (env: Record<string, string>) => loadConfig(env, '/srv/patchops');
const APP_ID = '6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f';
const HOME = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const OTHER = '0b5e0e1c-7f3a-4c0e-9d51-3c2a4f1e8b77';
const silent = pino({ level: 'silent' });

const slackConfig = (allowedTeams: string[]): SlackConfig => ({
  botToken: 'xoxb-1',
  signingSecret: 's',
  appToken: undefined,
  mode: 'http',
  apiUrl: undefined,
  channels: {},
  allowedChannels: [],
  allowedTeams,
});
const me = (over: Partial<SlackIdentity> = {}): SlackIdentity => ({
  teamId: 'T0001',
  enterpriseId: undefined,
  isEnterpriseInstall: false,
  botId: 'B1',
  botUserId: 'U1',
  ...over,
});

describe('Slack workspace allow-list', () => {
  it('defaults to the bot token’s own workspace, known once auth.test answered', () => {
    const config = slackConfig([]);
    assert.equal(admittedTeams(config, undefined), undefined, 'nobody before auth.test');
    assert.equal(teamAdmitted(admittedTeams(config, undefined), 'T0001', undefined), false);
    const admitted = admittedTeams(config, me());
    assert.equal(teamAdmitted(admitted, 'T0001', undefined), true);
    assert.equal(teamAdmitted(admitted, 'T0999', undefined), false);
    // Another workspace of the same Enterprise Grid is still another workspace.
    const grid = admittedTeams(config, me({ enterpriseId: 'E0001' }));
    assert.equal(teamAdmitted(grid, 'T0002', 'E0001'), false);
    assert.equal(teamAdmitted(grid, undefined, undefined), false);
  });

  it('an org-wide install admits its organisation; an explicit list may name E… ids; "*" any', () => {
    const org = admittedTeams(
      slackConfig([]),
      me({ enterpriseId: 'E0001', isEnterpriseInstall: true }),
    );
    assert.equal(teamAdmitted(org, 'T0002', 'E0001'), true);
    assert.equal(teamAdmitted(org, 'T0002', 'E0002'), false);
    const listed = admittedTeams(slackConfig(['T0005', 'E0009']), me());
    assert.equal(teamAdmitted(listed, 'T0001', undefined), false, 'the list replaces the default');
    assert.equal(teamAdmitted(listed, 'T0005', undefined), true);
    assert.equal(teamAdmitted(listed, 'T0777', 'E0009'), true);
    assert.equal(teamAdmitted(admittedTeams(slackConfig(['*']), undefined), 'T9', undefined), true);
  });

  it('PATCHOPS_SLACK_ALLOWED_TEAMS takes T…/E… ids or "*", and says so otherwise', () => {
    const ok = load({
      SLACK_BOT_TOKEN: 'xoxb-1',
      SLACK_SIGNING_SECRET: 's',
      PATCHOPS_SLACK_ALLOWED_TEAMS: 'T0001, E0002',
    });
    assert.deepEqual(ok.chat.slack?.allowedTeams, ['T0001', 'E0002']);
    assert.deepEqual(
      load({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's' }).chat.slack?.allowedTeams,
      [],
    );
    assert.throws(
      () =>
        load({
          SLACK_BOT_TOKEN: 'xoxb-1',
          SLACK_SIGNING_SECRET: 's',
          PATCHOPS_SLACK_ALLOWED_TEAMS: 'acme',
        }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.some((p) =>
          /^PATCHOPS_SLACK_ALLOWED_TEAMS: expected workspace ids \(T…\)/.test(p),
        ),
    );
  });
});

describe('Teams tenant allow-list', () => {
  const teams = (env: Record<string, string>) =>
    load({ MICROSOFT_APP_ID: APP_ID, MICROSOFT_APP_PASSWORD: 'p', ...env }).chat.teams!;

  it('defaults to MICROSOFT_APP_TENANT_ID; a multi-tenant bot without it admits no tenant', () => {
    assert.deepEqual(teams({ MICROSOFT_APP_TENANT_ID: HOME }).allowedTenants, [HOME]);
    assert.deepEqual(teams({}).allowedTenants, []);
    assert.deepEqual(teams({ PATCHOPS_TEAMS_ALLOWED_TENANTS: `${HOME},${OTHER}` }).allowedTenants, [
      HOME,
      OTHER,
    ]);
    assert.deepEqual(teams({ PATCHOPS_TEAMS_ALLOWED_TENANTS: '*' }).allowedTenants, ['*']);
    const local = load({ PATCHOPS_TEAMS: 'on', PATCHOPS_TEAMS_AUTH: 'disabled' }).chat.teams!;
    assert.deepEqual(local.allowedTenants, ['*'], 'local testing without an Azure Bot: any');
    assert.throws(
      () => teams({ PATCHOPS_TEAMS_ALLOWED_TENANTS: 'contoso.com' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.some((p) =>
          p.startsWith('PATCHOPS_TEAMS_ALLOWED_TENANTS: expected Microsoft Entra tenant ids'),
        ),
    );
    // A config built by hand (no allowedTenants): its tenant id, else any.
    const base = {
      appId: APP_ID,
      appPassword: 'p',
      appType: 'MultiTenant' as const,
      authDisabled: false,
    };
    assert.deepEqual(allowedTenantsOf({ ...base, tenantId: HOME }), [HOME]);
    assert.deepEqual(allowedTenantsOf({ ...base, tenantId: undefined }), ['*']);
  });

  it('an activity must name only allowed tenants (channelData and conversation), case-insensitively', () => {
    const a = (channel?: string, conversation?: string) =>
      ({
        channelData: channel ? { tenant: { id: channel } } : {},
        conversation: { id: 'c', ...(conversation ? { tenantId: conversation } : {}) },
      }) as never;
    assert.deepEqual(tenantsOf(a(HOME, OTHER)), [HOME, OTHER]);
    assert.equal(tenantAdmitted([HOME], a(HOME)), true);
    assert.equal(tenantAdmitted([HOME], a(undefined, HOME.toUpperCase())), true);
    assert.equal(tenantAdmitted([HOME], a(OTHER)), false);
    assert.equal(tenantAdmitted([HOME], a(HOME, OTHER)), false, 'a second, foreign tenant');
    assert.equal(tenantAdmitted([HOME], a()), false, 'no tenant at all');
    assert.equal(tenantAdmitted([], a(HOME)), false);
    assert.equal(tenantAdmitted(['*'], a()), true);
  });
});

describe('PlatformStartup', () => {
  it('retries with back-off until the calls succeed, reporting why meanwhile', async () => {
    let calls = 0;
    const startup = new PlatformStartup(
      'test',
      () => (++calls < 3 ? Promise.reject(new Error(`down #${calls}`)) : Promise.resolve()),
      silent,
      { initialMs: 20, maxMs: 40 },
    );
    assert.deepEqual(startup.readiness(), { ready: false, error: 'not started' });
    await startup.start(); // the first attempt failed for a reason that may pass
    assert.deepEqual(startup.readiness(), { ready: false, error: 'down #1' });
    const end = Date.now() + 2_000;
    while (!startup.ready && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(startup.readiness(), { ready: true });
    assert.equal(calls, 3);
    await startup.stop();
  });

  it('rejects start() at once for a permanent failure, and stop() ends the attempts', async () => {
    const refused = new PlatformStartup(
      'test',
      () => Promise.reject(new Error('token revoked')),
      silent,
      {
        permanent: () => true,
      },
    );
    await assert.rejects(refused.start(), /token revoked/);
    let calls = 0;
    const down = new PlatformStartup(
      'test',
      () => (calls++, Promise.reject(new Error('x'))),
      silent,
      {
        initialMs: 10_000,
      },
    );
    await down.start();
    const t0 = Date.now();
    await down.stop();
    assert.ok(Date.now() - t0 < 500, 'stop() does not wait out the back-off');
    assert.equal(calls, 1);
    assert.deepEqual(down.readiness(), { ready: false, error: 'stopping' });
  });
});
