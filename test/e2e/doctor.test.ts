import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../cli/process/tethered.js';
import { cliEnv, runCli } from '../helpers/cli.js';
import { createTestDatabase, migrationNames, type TestDatabase } from '../helpers/database.js';
import { temporalAddress } from '../helpers/temporal.js';

const line = (out: string, part: string) =>
  out.split('\n').find((l) => l.split(/\s+/)[1] === part) ?? '';

describe('patchops doctor', () => {
  let db: TestDatabase;
  let bare: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
    bare = await createTestDatabase({ migrate: false });
  });
  after(async () => {
    await db.drop();
    await bare.drop();
  });

  it('reports every part ok and exits 0 when everything is up', async () => {
    const r = await runCli(
      ['doctor'],
      cliEnv({ DATABASE_URL: db.url, TEMPORAL_ADDRESS: temporalAddress() }),
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const part of ['temporal', 'postgresql', 'migrations', 'rmm:simulator', 'itsm:log']) {
      assert.match(line(r.stdout, part), /^ok /, `${part}: ${r.stdout}`);
    }
    assert.match(line(r.stdout, 'temporal'), /server \d+\.\d+/);
    assert.ok(!r.stdout.includes(new URL(db.url).password || '\u0000'), 'password printed');
  });

  it('fails clearly when PostgreSQL and Temporal are unreachable', async () => {
    const [pgPort, temporalPort] = [await freePort(), await freePort()];
    const r = await runCli(
      ['doctor'],
      cliEnv({
        DATABASE_URL: `postgres://nobody:pw@127.0.0.1:${pgPort}/x`,
        TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort}`,
      }),
    );
    assert.equal(r.code, 1);
    assert.match(line(r.stdout, 'temporal'), new RegExp(`^down .*127\\.0\\.0\\.1:${temporalPort}`));
    assert.match(
      line(r.stdout, 'postgresql'),
      new RegExp(`^down .*127\\.0\\.0\\.1:${pgPort}.*ECONNREFUSED`),
    );
    assert.ok(!r.stdout.includes(':pw@'), 'password printed');
  });

  it('reports pending migrations as down', async () => {
    const r = await runCli(
      ['doctor'],
      cliEnv({ DATABASE_URL: bare.url, TEMPORAL_ADDRESS: temporalAddress() }),
    );
    assert.equal(r.code, 1);
    assert.match(
      line(r.stdout, 'migrations'),
      new RegExp(`^down .*${migrationNames().length} pending .*patchops migrate`),
    );
    assert.match(line(r.stdout, 'postgresql'), /^ok /);
  });

  it('exits 78 naming the variable when the configuration is wrong', async () => {
    const r = await runCli(
      ['doctor'],
      cliEnv({ DATABASE_URL: 'mysql://db', TEMPORAL_DEV_PORT: 'abc' }),
    );
    assert.equal(r.code, 78);
    assert.match(r.stderr, /DATABASE_URL: expected a PostgreSQL URL/);
    assert.match(r.stderr, /TEMPORAL_DEV_PORT: expected a port number/);
  });
});

describe('patchops migrate', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  after(async () => db.drop());

  it('applies pending migrations once', async () => {
    const first = await runCli(['migrate'], cliEnv({ DATABASE_URL: db.url }));
    assert.equal(first.code, 0, first.stderr);
    assert.ok(
      first.stdout.includes(`applied: ${migrationNames().join(', ')}\n`),
      `every migration applied once: ${first.stdout}`,
    );
    const second = await runCli(['migrate'], cliEnv({ DATABASE_URL: db.url }));
    assert.equal(second.stdout.trim(), 'schema up to date');
  });
});
