import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { createTeamsAdapter } from '../../../bot/teams/adapter.js';
import { ConfigError, loadConfig } from '../../../cli/config.js';
import { cliEnv, runCli } from '../../helpers/cli.js';

const load = (env: Record<string, string>) => loadConfig(env, '/srv/patchops');

/** The problems loadConfig reports for env (fails if it accepts it). */
function problems(env: Record<string, string>): string[] {
  try {
    load(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  return assert.fail('expected the configuration to be refused');
}

describe('Slack configuration', () => {
  it('Socket Mode needs SLACK_APP_TOKEN, and only it', () => {
    assert.deepEqual(problems({ SLACK_BOT_TOKEN: 'xoxb-1', PATCHOPS_SLACK_MODE: 'socket' }), [
      'SLACK_APP_TOKEN: Socket Mode needs an app-level token (xapp-…) with connections:write',
    ]);
    const slack = load({
      SLACK_BOT_TOKEN: 'xoxb-1',
      SLACK_APP_TOKEN: 'xapp-1-A0001-2-abc',
      PATCHOPS_SLACK_MODE: 'socket',
    }).chat.slack;
    assert.equal(slack?.mode, 'socket');
    assert.equal(slack?.appToken, 'xapp-1-A0001-2-abc');
    assert.equal(slack?.signingSecret, undefined, 'Socket Mode needs no signing secret');
  });

  it('refuses a bot token as SLACK_APP_TOKEN without echoing it', () => {
    const found = problems({
      SLACK_BOT_TOKEN: 'xoxb-1',
      SLACK_APP_TOKEN: 'xoxb-secret-value',
      PATCHOPS_SLACK_MODE: 'socket',
    });
    assert.deepEqual(found, ['SLACK_APP_TOKEN: expected an app-level token starting with xapp-']);
  });

  it('HTTP mode (the default) needs the signing secret; an unknown mode is named', () => {
    assert.match(
      problems({ SLACK_BOT_TOKEN: 'xoxb-1' })[0] ?? '',
      /^SLACK_SIGNING_SECRET: required/,
    );
    assert.match(
      problems({ SLACK_BOT_TOKEN: 'xoxb-1', PATCHOPS_SLACK_MODE: 'websocket' })[0] ?? '',
      /^PATCHOPS_SLACK_MODE: /,
    );
    assert.match(problems({ SLACK_APP_TOKEN: 'xapp-1' })[0] ?? '', /^SLACK_BOT_TOKEN: set it/);
  });
});

describe('Teams configuration', () => {
  const APP_ID = '6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f';

  it('an app id needs its password; with both Teams is on and validates tokens', () => {
    assert.deepEqual(problems({ MICROSOFT_APP_ID: APP_ID }), [
      'MICROSOFT_APP_PASSWORD: the client secret of the Azure Bot registration',
    ]);
    const teams = load({ MICROSOFT_APP_ID: APP_ID, MICROSOFT_APP_PASSWORD: 's3cret' }).chat.teams;
    assert.equal(teams?.appId, APP_ID);
    assert.equal(teams?.authDisabled, false);
  });

  it('auth disabled without an app id is accepted for local use, flagged as disabled', () => {
    const teams = load({ PATCHOPS_TEAMS: 'on', PATCHOPS_TEAMS_AUTH: 'disabled' }).chat.teams;
    assert.ok(teams, 'Teams is on');
    assert.equal(teams.authDisabled, true, 'the flag the adapter and doctor warn on');
    assert.equal(teams.appId, undefined);
    // Teams on without an app id and without disabling auth is refused.
    assert.match(problems({ PATCHOPS_TEAMS: 'on' })[0] ?? '', /^MICROSOFT_APP_ID: /);
  });

  it('refuses auth disabled together with an app id, naming both variables and the fix', () => {
    const extras: Array<Record<string, string>> = [
      {},
      { MICROSOFT_APP_PASSWORD: 's3cret' },
      { PATCHOPS_TEAMS: 'on' },
    ];
    for (const extra of extras) {
      const found = problems({
        MICROSOFT_APP_ID: APP_ID,
        PATCHOPS_TEAMS_AUTH: 'disabled',
        ...extra,
      });
      assert.equal(found.length, 1, found.join('\n'));
      assert.match(found[0] ?? '', /^PATCHOPS_TEAMS_AUTH: .*MICROSOFT_APP_ID/);
      assert.match(found[0] ?? '', /unset PATCHOPS_TEAMS_AUTH .*or unset MICROSOFT_APP_ID/);
    }
    // A front door built without the config module refuses the combination as well.
    assert.throws(
      () =>
        createTeamsAdapter(
          {
            appId: APP_ID,
            appPassword: 's3cret',
            tenantId: undefined,
            appType: 'MultiTenant',
            authDisabled: true,
          },
          pino({ level: 'silent' }),
        ),
      /cannot be disabled while MICROSOFT_APP_ID is set/,
    );
  });

  it('`patchops bot` exits 78 (EX_CONFIG) on that combination and says why', async () => {
    const r = await runCli(
      ['bot'],
      cliEnv({ MICROSOFT_APP_ID: APP_ID, PATCHOPS_TEAMS_AUTH: 'disabled' }),
    );
    assert.equal(r.code, 78, r.stderr);
    assert.match(r.stderr, /PATCHOPS_TEAMS_AUTH: .*MICROSOFT_APP_ID/);
  });
});
