import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { verifyAuditChains } from '../../../store/audit.js';
import { auditPrivilegeCheck, DatabaseRoleError, setUpDatabase } from '../../../store/migrate.js';
import { createPool, type Pool } from '../../../store/index.js';
import { runMigrate } from '../../../cli/commands/migrate.js';
import { loadConfig } from '../../../cli/config.js';
import { createLogger } from '../../../cli/logger.js';
import { scratchDir } from '../../helpers/cli.js';
import { createTestDatabase, TEST_APP_ROLE, type TestDatabase } from '../../helpers/database.js';

const event = (key: string, clientId?: string) => ({
  idempotencyKey: key,
  actor: 'alice',
  action: 'rollout.approved',
  subjectType: 'rollout',
  subjectId: 'r1',
  clientId,
  data: { ring: 'pilot' },
});

describe('the app role and the audit trail', () => {
  let db: TestDatabase;
  let owner: Pool;
  before(async () => {
    db = await createTestDatabase();
    owner = createPool(db.ownerUrl, 2);
    await db.store.audit.append(event('k-1', 'acme'));
  });
  after(async () => {
    await owner.end();
    await db.drop();
  });

  it('connects as the app role, which may append and read', async () => {
    const who = await db.pool.query<{ u: string }>('select current_user as u');
    assert.equal(who.rows[0]?.u, TEST_APP_ROLE);
    assert.equal(await db.store.audit.append(event('k-2', 'acme')), true);
    assert.equal(await db.store.audit.append(event('k-2', 'acme')), false);
    const rows = await db.store.audit.listBySubject('rollout', 'r1');
    assert.deepEqual(
      rows.map((r) => r.idempotencyKey),
      ['k-1', 'k-2'],
    );
  });

  const refused: Array<[string, string, RegExp]> = [
    [
      'UPDATE',
      `update audit_events set actor = 'mallory'`,
      /permission denied for table audit_events/,
    ],
    ['DELETE', `delete from audit_events`, /permission denied for table audit_events/],
    ['TRUNCATE', `truncate audit_events`, /permission denied for table audit_events/],
    [
      'DISABLE TRIGGER',
      `alter table audit_events disable trigger audit_events_no_update_delete`,
      /must be owner of table audit_events/,
    ],
    [
      'DISABLE TRIGGER ALL',
      `alter table audit_events disable trigger all`,
      /must be owner of table audit_events/,
    ],
    [
      'DROP TRIGGER',
      `drop trigger audit_events_link on audit_events`,
      /must be owner of (table|relation) audit_events/,
    ],
    ['DROP TABLE', `drop table audit_events`, /must be owner of table audit_events/],
    [
      'session_replication_role',
      `set session_replication_role = replica`,
      /permission denied to set parameter "session_replication_role"/,
    ],
    [
      'replace the hash function',
      `create or replace function audit_event_hash(prev bytea, seq bigint, e audit_events)
         returns bytea language sql as 'select prev'`,
      /must be owner of function audit_event_hash|permission denied for schema public/,
    ],
    [
      'write a chain head',
      `update audit_chain_heads set chain_seq = 1`,
      /permission denied for table audit_chain_heads/,
    ],
    [
      'record a migration',
      `insert into pgmigrations (name, run_on) values ('x', now())`,
      /permission denied for table pgmigrations/,
    ],
  ];
  for (const [what, sql, error] of refused) {
    it(`refuses ${what} to the app role`, async () => {
      await assert.rejects(db.pool.query(sql), error);
    });
  }

  it('rewrites whatever chain fields the app supplies', async () => {
    const forged = await db.pool.query<{ id: string; chain_seq: string; hash: Buffer }>(
      `insert into audit_events (id, chain_seq, hash, actor, action, subject_type, subject_id, client_id, idempotency_key)
       values (1, 1, '\\x00', 'mallory', 'forge', 'rollout', 'r1', 'acme', 'k-forged')
       returning id::text, chain_seq::text, hash`,
    );
    const row = forged.rows[0]!;
    assert.notEqual(row.id, '1');
    assert.equal(row.chain_seq, '3');
    assert.equal(row.hash.length, 32);
    const [acme] = await verifyAuditChains(db.pool, { clientId: 'acme' });
    assert.equal(acme?.problem, undefined);
    assert.equal(acme?.rows, 3);
  });

  it('cannot shadow the chain with a temporary table of its own', async () => {
    const c = await db.pool.connect();
    try {
      await c.query(`create temp table audit_events (like public.audit_events including defaults)`);
      await c.query(`create temp table audit_chain_heads (like public.audit_chain_heads)`);
      await c.query(
        `insert into pg_temp.audit_events (id, occurred_at, actor, action, subject_type, subject_id, client_id, idempotency_key, chain, chain_seq, hash)
         values (999, now(), 'x', 'x', 'x', 'x', 'acme', 'fake', 'client:acme', 41, '\\x00')`,
      );
      await c.query(
        `insert into public.audit_events (actor, action, subject_type, subject_id, client_id, idempotency_key)
         values ('alice', 'a', 'rollout', 'r1', 'acme', 'k-after-shadow')`,
      );
    } finally {
      c.release(true);
    }
    const [acme] = await verifyAuditChains(db.pool, { clientId: 'acme' });
    assert.equal(acme?.problem, undefined);
    assert.equal(acme?.rows, 4);
  });

  it('does ordinary work on every other table, including ones later migrations add', async () => {
    await db.pool.query(`insert into clients (id, name) values ('acme', 'Acme')`);
    await db.pool.query(`update clients set name = 'Acme Corp' where id = 'acme'`);
    await db.pool.query(
      `insert into rollouts (id, client_id, status, started_by) values ('r1', 'acme', 'planning', 'alice')`,
    );
    // bigserial: the app needs USAGE on the sequence too
    const msg = await db.pool.query<{ id: string }>(
      `insert into chat_messages (platform, conversation, message_ref, rollout_id, purpose, idempotency_key)
       values ('slack', 'C1', '1.2', 'r1', 'card', 'm-1') returning id::text`,
    );
    assert.ok(msg.rows[0]?.id);
    await db.pool.query(`delete from chat_messages where idempotency_key = 'm-1'`);
    const missing = await db.pool.query<{ t: string; p: string }>(
      `select c.relname as t, p from pg_class c
         cross join unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE']) p
        where c.relnamespace = 'public'::regnamespace and c.relkind = 'r'
          and c.relname not in ('audit_events', 'audit_chain_heads', 'pgmigrations')
          and not has_table_privilege(c.oid, p)
        order by 1, 2`,
    );
    assert.deepEqual(missing.rows, []);
    const tables = await db.pool.query(
      `select 1 from pg_class where relnamespace = 'public'::regnamespace and relkind = 'r'`,
    );
    assert.ok(tables.rowCount! >= 12);
  });

  it('doctor check: ok as the app, a warning as the owner or a superuser', async () => {
    assert.deepEqual(await auditPrivilegeCheck(db.appUrl), {
      state: 'ok',
      detail: `${TEST_APP_ROLE} may only append to and read the audit trail`,
    });
    const asOwner = await auditPrivilegeCheck(db.ownerUrl);
    assert.equal(asOwner.state, 'warn');
    assert.match(asOwner.detail, /the owner of audit_events: it could rewrite the audit trail/);
    const asAdmin = await auditPrivilegeCheck(db.adminUrl);
    assert.equal(asAdmin.state, 'warn');
    assert.match(asAdmin.detail, /a superuser: it could rewrite the audit trail/);
  });

  it('migrate as the app role fails, naming DATABASE_OWNER_URL', async () => {
    await assert.rejects(
      setUpDatabase({ ownerUrl: db.appUrl }),
      (err: unknown) =>
        err instanceof DatabaseRoleError &&
        err.code === 'MIGRATE_NOT_OWNER' &&
        /DATABASE_OWNER_URL/.test(err.message),
    );
  });

  it('migrate again resets privileges granted by hand', async () => {
    await owner.query(`grant update, delete, truncate on audit_events to ${TEST_APP_ROLE}`);
    assert.equal((await auditPrivilegeCheck(db.appUrl)).state, 'warn');
    const setup = await setUpDatabase({ ownerUrl: db.ownerUrl, appUrl: db.appUrl });
    assert.deepEqual(setup.applied, []);
    assert.equal(setup.separate, true);
    assert.deepEqual(setup.notes, []);
    assert.equal((await auditPrivilegeCheck(db.appUrl)).state, 'ok');
  });

  it('`patchops migrate` takes DATABASE_OWNER_URL for migrations and DATABASE_URL for the app', async () => {
    const cwd = scratchDir('migrate-config'); // no dev state of a running `patchops dev` here
    const log = createLogger({ level: 'silent', format: 'json' });
    const notes: string[] = [];
    const both = loadConfig({ DATABASE_OWNER_URL: db.ownerUrl, DATABASE_URL: db.appUrl }, cwd);
    assert.deepEqual(await runMigrate(both, log, (n) => notes.push(n)), []);
    assert.deepEqual(notes, []);
    await assert.rejects(
      runMigrate(loadConfig({ DATABASE_OWNER_URL: db.ownerUrl }, cwd), log),
      /DATABASE_OWNER_URL is set but DATABASE_URL is not/,
    );
    await assert.rejects(
      runMigrate(loadConfig({ DATABASE_URL: db.appUrl }, cwd), log),
      (err: Error & { code?: string }) =>
        err.code === 'MIGRATE_NOT_OWNER' && /set DATABASE_OWNER_URL/.test(err.message),
    );
    assert.throws(
      () => loadConfig({ DATABASE_OWNER_URL: 'mysql://x' }, cwd),
      /DATABASE_OWNER_URL: expected a PostgreSQL URL/,
    );
  });
});
