import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { migrateUp, pendingMigrations } from '../../../store/migrate.js';
import { createTestDatabase, migrationNames, type TestDatabase } from '../../helpers/database.js';

describe("schema on the machine's PostgreSQL", () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  after(async () => db.drop());

  it('migrate creates every table, then has nothing left to do', async () => {
    const all = migrationNames();
    assert.deepEqual(await pendingMigrations(db.url), all);
    assert.deepEqual(await migrateUp(db.url), all);
    assert.deepEqual(await migrateUp(db.url), []);
    assert.deepEqual(await pendingMigrations(db.url), []);
    const tables = await db.pool.query<{ table_name: string }>(
      `select table_name from information_schema.tables where table_schema = 'public' order by 1`,
    );
    const names = tables.rows.map((r) => r.table_name);
    for (const t of [
      'clients',
      'sites',
      'devices',
      'patches',
      'device_patches',
      'rollouts',
      'approvals',
      'tickets',
      'chat_messages',
      'chat_conversations',
      'chat_users',
      'audit_events',
    ]) {
      assert.ok(names.includes(t), `missing table ${t}`);
    }
    // The newest migration's column: per-device settings of a rollout.
    const settings = await db.pool.query(
      `select data_type from information_schema.columns
       where table_name = 'rollout_devices' and column_name = 'settings'`,
    );
    assert.deepEqual(settings.rows, [{ data_type: 'jsonb' }]);
  });

  it('audit events are written once per idempotency key', async () => {
    const event = {
      idempotencyKey: 'wf-1:step',
      actor: 'alice',
      action: 'test',
      subjectType: 'rollout',
      subjectId: 'r1',
      data: { n: 1 },
    };
    assert.equal(await db.store.audit.append(event), true);
    assert.equal(await db.store.audit.append({ ...event, data: { n: 2 } }), false);
    const rows = await db.store.audit.listBySubject('rollout', 'r1');
    assert.equal(rows.length, 1);
    assert.deepEqual(rows[0]?.data, { n: 1 });
  });

  it('the database itself refuses UPDATE, DELETE and TRUNCATE of audit events', async () => {
    await db.store.audit.append({
      idempotencyKey: 'wf-2:step',
      actor: 'bob',
      action: 'test',
      subjectType: 'rollout',
      subjectId: 'r2',
    });
    await assert.rejects(
      db.pool.query(`update audit_events set actor = 'mallory'`),
      /append-only: UPDATE/,
    );
    await assert.rejects(db.pool.query(`delete from audit_events`), /append-only: DELETE/);
    await assert.rejects(db.pool.query(`truncate audit_events`), /append-only: TRUNCATE/);
    const count = await db.pool.query<{ n: string }>('select count(*) as n from audit_events');
    assert.equal(count.rows[0]?.n, '2');
  });
});
