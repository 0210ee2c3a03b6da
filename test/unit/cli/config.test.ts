import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../../cli/config.js';

const load = (env: Record<string, string>) => loadConfig(env, '/srv/patchops');

describe('loadConfig', () => {
  it('applies embedded defaults when nothing is set', () => {
    const c = load({});
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.temporal.address, undefined);
    assert.equal(c.temporal.namespace, 'default');
    assert.equal(c.temporal.taskQueue, 'patchops');
    assert.equal(c.temporal.devPort, 7233);
    assert.equal(c.dataDir, '/srv/patchops/.data');
    assert.deepEqual(c.adapters.rmm, { kind: 'simulator', settings: {} });
  });

  it('treats empty strings as unset', () => {
    assert.equal(load({ DATABASE_URL: '' }).databaseUrl, undefined);
  });

  it('names every bad variable at once, with what is expected', () => {
    let err: unknown;
    try {
      load({
        DATABASE_URL: 'mysql://x',
        TEMPORAL_ADDRESS: 'nohost',
        TEMPORAL_DEV_PORT: '99999',
        LOG_LEVEL: 'loud',
      });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof ConfigError);
    const text = err.message;
    assert.match(text, /DATABASE_URL: expected a PostgreSQL URL like postgres:\/\//);
    assert.match(text, /TEMPORAL_ADDRESS: expected host:port/);
    assert.match(text, /TEMPORAL_DEV_PORT: expected a port between 0 and 65535/);
    assert.match(text, /LOG_LEVEL:/);
    assert.equal(err.problems.length, 4);
  });

  it('never echoes a secret value in its errors', () => {
    assert.throws(
      () =>
        load({
          DATABASE_URL: 'mysql://admin:hunter2@db/x',
          TEMPORAL_API_KEY: '',
          TEMPORAL_TLS_CERT: '/nope/cert.pem',
        }),
      (err: Error) => !err.message.includes('hunter2') && /TEMPORAL_TLS_CERT/.test(err.message),
    );
  });

  it('requires TLS cert and key together', () => {
    assert.throws(() => load({ TEMPORAL_TLS_CERT: '/etc/hostname' }), /set both/);
  });

  it('chooses JSON logs in production', () => {
    assert.equal(load({ NODE_ENV: 'production' }).log.format, 'json');
    assert.equal(load({ LOG_FORMAT: 'pretty', NODE_ENV: 'production' }).log.format, 'pretty');
  });
});
