import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../../cli/config.js';

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
