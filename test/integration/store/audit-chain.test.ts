import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runner } from 'node-pg-migrate';
import { verifyAuditChains, type ChainReport } from '../../../store/audit.js';
import { MIGRATIONS_DIR, MIGRATIONS_TABLE, setUpDatabase } from '../../../store/migrate.js';
import { createPool, type Pool } from '../../../store/index.js';
import { cliEnv, runCli } from '../../helpers/cli.js';
import { createTestDatabase, migrationNames, type TestDatabase } from '../../helpers/database.js';

const event = (key: string, clientId: string | undefined, data: Record<string, unknown> = {}) => ({
  idempotencyKey: key,
  actor: 'alice',
  action: 'rollout.approved',
  subjectType: 'rollout',
  subjectId: `r-${key}`,
  clientId,
  data,
});

const byClient = (reports: ChainReport[]) =>
  Object.fromEntries(reports.map((r) => [r.clientId ?? '(none)', r]));

/** The ids of one client's chain, in chain order. */
async function chainIds(pool: Pool, clientId: string): Promise<string[]> {
  const r = await pool.query<{ id: string }>(
    `select id::text from audit_events where client_id = $1 order by chain_seq`,
    [clientId],
  );
  return r.rows.map((x) => x.id);
}

/** What an attacker with the owner's rights does: switch the guard off, rewrite, switch it on. */
async function asAttacker(
  owner: Pool,
  sql: string | string[],
  params: unknown[] = [],
): Promise<void> {
  const c = await owner.connect();
  try {
    await c.query('begin');
    await c.query('alter table audit_events disable trigger audit_events_no_update_delete');
    for (const statement of typeof sql === 'string' ? [sql] : sql) await c.query(statement, params);
    await c.query('alter table audit_events enable trigger audit_events_no_update_delete');
    await c.query('commit');
  } finally {
    c.release();
  }
}

describe('the audit hash chain', () => {
  let db: TestDatabase;
  let owner: Pool;
  before(async () => {
    db = await createTestDatabase();
    owner = createPool(db.ownerUrl, 2);
  });
  after(async () => {
    await owner.end();
    await db.drop();
  });

  it('links each client’s rows in order, also under concurrent writers', async () => {
    await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        db.store.audit.append(event(`busy-${i}`, i % 3 === 0 ? undefined : 'busy', { i })),
      ),
    );
    // Several rows in one statement: each links to the one before, the head moves once.
    await db.pool.query(
      `insert into audit_events (actor, action, subject_type, subject_id, client_id, idempotency_key)
       select 'bob', 'bulk', 'rollout', 'r', 'busy', 'bulk-' || g from generate_series(1, 5) g`,
    );
    const rows = await db.pool.query<{ chain: string; seqs: string[]; ids: string[] }>(
      `select chain, array_agg(chain_seq::text order by id) as seqs, array_agg(id::text order by id) as ids
         from audit_events group by chain order by chain`,
    );
    assert.deepEqual(
      rows.rows.map((r) => [r.chain, r.seqs.length]),
      [
        ['client:busy', 21],
        ['none', 8],
      ],
    );
    // Ids rise with chain positions: positions 1..n in id order, no gap, no repeat.
    for (const r of rows.rows)
      assert.deepEqual(
        r.seqs,
        r.seqs.map((_, i) => String(i + 1)),
      );
    const reports = byClient(await verifyAuditChains(db.pool));
    assert.equal(reports.busy?.problem, undefined);
    assert.equal(reports.busy?.rows, 21);
    assert.equal(reports['(none)']?.problem, undefined);
    const head = await db.pool.query<{ hash: Buffer }>(
      `select hash from audit_chain_heads where chain = 'client:busy'`,
    );
    assert.equal(reports.busy?.head, head.rows[0]?.hash.toString('hex'));
  });

  it('finds an edited, a deleted, a moved and a cut-off row, naming each', async () => {
    const clients = ['intact', 'edited', 'deleted', 'swapped', 'shuffled', 'cut'];
    for (let i = 0; i < 4; i++)
      for (const c of clients) await db.store.audit.append(event(`${c}-${i}`, c, { step: i }));
    const ids = Object.fromEntries(
      await Promise.all(clients.map(async (c) => [c, await chainIds(db.pool, c)] as const)),
    );
    const intactBefore = await verifyAuditChains(db.pool);
    assert.ok(intactBefore.every((r) => r.problem === undefined));

    // An approval turned into a rejection.
    await asAttacker(
      owner,
      `update audit_events set data = '{"step": 1, "decision": "reject"}' where id = $1`,
      [ids.edited![1]],
    );
    // A row removed from the middle.
    await asAttacker(owner, `delete from audit_events where id = $1`, [ids.deleted![1]]);
    // Two rows' whole content (everything but the id) exchanged: rows 1 and 2 trade places.
    const [a, b] = [ids.swapped![1]!, ids.swapped![2]!];
    const cols = `occurred_at, actor, action, subject_type, subject_id, client_id, rollout_id, data, idempotency_key, chain_seq, hash`;
    await asAttacker(
      owner,
      [
        // out of the way of the unique keys first
        `update audit_events set idempotency_key = idempotency_key || ':tmp', chain_seq = -chain_seq
          where id in ($1::bigint, $2::bigint)`,
        `update audit_events t set (${cols}) =
           (select s.occurred_at, s.actor, s.action, s.subject_type, s.subject_id, s.client_id, s.rollout_id,
                   s.data, replace(s.idempotency_key, ':tmp', ''), -s.chain_seq, s.hash
              from audit_events s where s.id = case t.id when $1::bigint then $2::bigint else $1::bigint end)
          where t.id in ($1::bigint, $2::bigint)`,
      ],
      [a, b],
    );
    // Only the business fields exchanged, chain fields left in place.
    const [c, d] = [ids.shuffled![1]!, ids.shuffled![2]!];
    await asAttacker(
      owner,
      `update audit_events t set (actor, data) = (select s.actor, s.data from audit_events s
          where s.id = case t.id when $1::bigint then $2::bigint else $1::bigint end)
        where t.id in ($1, $2)`,
      [c, d],
    );
    // The newest row deleted: nothing after it to break, only the recorded head knows.
    await asAttacker(owner, `delete from audit_events where id = $1`, [ids.cut![3]]);

    const r = byClient(await verifyAuditChains(db.pool));
    assert.equal(r.intact?.problem, undefined);
    assert.equal(r.edited?.problem?.kind, 'edited');
    assert.equal(r.edited?.problem?.rowId, ids.edited![1]);
    assert.match(
      r.edited.problem.detail,
      new RegExp(`row ${ids.edited![1]} does not match its hash`),
    );
    assert.equal(r.deleted?.problem?.kind, 'missing');
    assert.equal(r.deleted?.problem?.rowId, ids.deleted![2]);
    assert.match(
      r.deleted.problem.detail,
      new RegExp(`position 2 between row ${ids.deleted![0]} and row ${ids.deleted![2]} is missing`),
    );
    assert.equal(r.swapped?.problem?.kind, 'reordered');
    assert.equal(r.swapped?.problem?.rowId, a);
    assert.match(r.swapped.problem.detail, new RegExp(`position 2 comes later, at row ${b}`));
    assert.equal(r.shuffled?.problem?.kind, 'edited');
    assert.equal(r.shuffled?.problem?.rowId, c);
    assert.equal(r.cut?.problem?.kind, 'missing');
    assert.equal(r.cut?.problem?.rowId, ids.cut![3]);
    assert.match(
      r.cut.problem.detail,
      new RegExp(`the last row \\(row ${ids.cut![3]}, position 4\\) is missing`),
    );

    const only = await verifyAuditChains(db.pool, { clientId: 'intact' });
    assert.deepEqual(
      only.map((x) => [x.clientId, x.rows, x.problem]),
      [['intact', 4, undefined]],
    );
  });

  it('`patchops audit verify --client` exits 1 naming the row', async () => {
    const r = await runCli(
      ['audit', 'verify', '--client', 'edited'],
      cliEnv({ DATABASE_URL: db.url }),
    );
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 3, r.stdout);
    assert.match(lines[0]!, /^state\s+client\s+rows\s+detail$/);
    const edited = await chainIds(db.pool, 'edited');
    assert.match(
      lines[2]!,
      new RegExp(
        `^EDITED\\s+edited\\s+4\\s+row ${edited[1]} does not match its hash: it was edited`,
      ),
    );
  });
});

describe('the audit chain migration', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  after(async () => db.drop());

  it('backfills existing rows into per-client chains in id order', async () => {
    await runner({
      databaseUrl: db.ownerUrl,
      dir: MIGRATIONS_DIR,
      migrationsTable: MIGRATIONS_TABLE,
      direction: 'up',
      count: migrationNames().indexOf('1764600000000_audit-chain'), // the schema before the chain
      singleTransaction: true,
      log: () => undefined,
    });
    for (const [key, client] of [
      ['old-1', 'acme'],
      ['old-2', null],
      ['old-3', 'acme'],
      ['old-4', 'beta'],
      ['old-5', 'acme'],
    ] as const)
      await db.pool.query(
        `insert into audit_events (actor, action, subject_type, subject_id, client_id, data, idempotency_key)
         values ('alice', 'old', 'rollout', 'r1', $1, '{"b": [1, 2], "a": "é"}', $2)`,
        [client, key],
      );
    const setup = await setUpDatabase({ ownerUrl: db.ownerUrl, appUrl: db.appUrl });
    assert.ok(setup.applied.includes('1764600000000_audit-chain'));
    const rows = await db.pool.query<{ key: string; chain: string; seq: string }>(
      `select idempotency_key as key, chain, chain_seq::text as seq from audit_events order by id`,
    );
    assert.deepEqual(
      rows.rows.map((r) => [r.key, r.chain, r.seq]),
      [
        ['old-1', 'client:acme', '1'],
        ['old-2', 'none', '1'],
        ['old-3', 'client:acme', '2'],
        ['old-4', 'client:beta', '1'],
        ['old-5', 'client:acme', '3'],
      ],
    );
    const app = createPool(db.appUrl, 2);
    try {
      await app.query(
        `insert into audit_events (actor, action, subject_type, subject_id, client_id, idempotency_key)
         values ('bob', 'new', 'rollout', 'r1', 'acme', 'new-1')`,
      );
      const reports = await verifyAuditChains(app);
      assert.deepEqual(
        reports.map((r) => [r.chain, r.rows, r.problem]),
        [
          ['client:acme', 4, undefined],
          ['client:beta', 1, undefined],
          ['none', 1, undefined],
        ],
      );
    } finally {
      await app.end();
    }
  });
});
