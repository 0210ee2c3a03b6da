import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { freePort } from '../../../cli/process/tethered.js';
import { migrateUp } from '../../../store/migrate.js';
import { startEmbeddedPostgres } from '../../../store/embedded.js';
import { migrationNames } from '../../helpers/database.js';

const scratch = () => {
  const dir = mkdtempSync(path.join(process.env.PATCHOPS_TEST_TMP ?? tmpdir(), 'embedded-'));
  chmodSync(dir, 0o755);
  return dir;
};
const running = (dir: string) =>
  execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(dir) && l.includes('postgres'));

describe('embedded PostgreSQL', () => {
  it('initialises, migrates, keeps data across restarts and leaves no process behind', async (t) => {
    const dir = scratch();
    const first = await startEmbeddedPostgres({ dir, port: await freePort() });
    // A failed assertion must not leave the server running (it would hold the test run open).
    t.after(() => first.stop().catch(() => undefined));
    assert.match(first.url, /^postgres:\/\/patchops:[^@]+@127\.0\.0\.1:\d+\/patchops$/);
    assert.deepEqual(await migrateUp(first.url), migrationNames());
    let client = new pg.Client({ connectionString: first.url });
    await client.connect();
    await client.query(`insert into clients (id, name) values ('acme', 'Acme Corp')`);
    const version = await client.query<{ server_version: string }>('show server_version');
    assert.match(version.rows[0]?.server_version ?? '', /^\d+\.\d+/);
    await client.end();
    await first.stop();
    assert.deepEqual(running(dir), []);

    const second = await startEmbeddedPostgres({ dir, port: await freePort() });
    t.after(() => second.stop().catch(() => undefined));
    client = new pg.Client({ connectionString: second.url });
    await client.connect();
    const rows = await client.query<{ name: string }>(`select name from clients where id = 'acme'`);
    assert.equal(rows.rows[0]?.name, 'Acme Corp');
    await client.end();
    assert.deepEqual(await migrateUp(second.url), []);
    await second.stop();
    assert.deepEqual(running(dir), []);
  });
});
