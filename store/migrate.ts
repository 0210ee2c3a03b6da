import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';

export const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');
export const MIGRATIONS_TABLE = 'pgmigrations';

export interface MigrationLog {
  info(msg: string): void;
}

/**
 * Applies every pending migration in one transaction under node-pg-migrate's advisory
 * lock, so concurrent starts (several workers) do not race. Returns the names applied.
 */
export async function migrateUp(databaseUrl: string, log?: MigrationLog): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    migrationsTable: MIGRATIONS_TABLE,
    direction: 'up',
    count: Infinity,
    singleTransaction: true,
    checkOrder: true,
    verbose: false,
    log: (msg) => log?.info(msg),
    logger: {
      debug: () => undefined,
      info: (m) => log?.info(m),
      warn: (m) => log?.info(m),
      error: (m) => log?.info(m),
    },
  });
  return applied.map((m) => m.name);
}

/** Migration names present on disk but not recorded as applied in the database. */
export async function pendingMigrations(databaseUrl: string): Promise<string[]> {
  const onDisk = readdirSync(MIGRATIONS_DIR)
    .filter((f) => f.endsWith('.sql'))
    .map((f) => f.replace(/\.sql$/, ''))
    .sort();
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    const exists = await client.query<{ t: string | null }>(`select to_regclass($1) as t`, [
      MIGRATIONS_TABLE,
    ]);
    if (!exists.rows[0]?.t) return onDisk;
    const res = await client.query<{ name: string }>(`select name from ${MIGRATIONS_TABLE}`);
    const done = new Set(res.rows.map((r) => r.name));
    return onDisk.filter((name) => !done.has(name));
  } finally {
    await client.end();
  }
}

/** The app's role when only one connection is configured and migrate creates it. */
export const DEFAULT_APP_ROLE = 'patchops_app';

/** Tables the app may read and append to, never change. */
const APPEND_ONLY_TABLES = ['audit_events'];
/** Tables only migrations or the database's own triggers write; the app reads them. */
const READ_ONLY_TABLES = ['audit_chain_heads', MIGRATIONS_TABLE];

export interface DatabaseSetup {
  /** Migrations applied by this run. */
  applied: string[];
  /** The role that ran the migrations and owns the tables. */
  ownerRole: string;
  /** The role the app connects as (granted its privileges unless `granted` is false). */
  appRole: string;
  /** True when the app's connection (DATABASE_URL) is a different role from the owner. */
  separate: boolean;
  /** Set when this run created the app's role with a generated password. */
  createdPassword: string | undefined;
  granted: boolean;
  /** What the operator should know, one line each (the app runs as owner or superuser, …). */
  notes: string[];
}

export class DatabaseRoleError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const userOf = (url: string): string =>
  new pg.Client({ connectionString: url }).user ?? DEFAULT_APP_ROLE;

/** `url` with another user and password (for telling the operator how the app should connect). */
function withRole(url: string, role: string, password: string | undefined): string {
  const u = new URL(url);
  u.username = encodeURIComponent(role);
  u.password = password === undefined ? 'PASSWORD' : encodeURIComponent(password);
  const text = u.toString();
  return password === undefined ? text.replace(':PASSWORD@', ':<password>@') : text;
}

/**
 * `patchops migrate`: applies migrations as the owner, then makes sure the app's role
 * exists and holds exactly its privileges: ordinary DML on every table, but on the audit
 * trail only INSERT and SELECT. Grants are re-applied on every run (in code rather than
 * ALTER DEFAULT PRIVILEGES) so tables added by later migrations are covered whichever role
 * ran them, privileges drifted by hand are put back, and the append-only tables are named
 * in one place. With one connection (no DATABASE_OWNER_URL) the owner is also the app: the
 * run still succeeds, creates `patchops_app` when it may, and says how to switch.
 */
export async function setUpDatabase(opts: {
  ownerUrl: string;
  /** The app's connection (DATABASE_URL); absent or the owner's own user means "one connection". */
  appUrl?: string | undefined;
  log?: MigrationLog;
}): Promise<DatabaseSetup> {
  const owner = await connect(opts.ownerUrl);
  try {
    const who = await owner.query<{
      role: string;
      superuser: boolean;
      createrole: boolean;
      schema: string;
      can_create: boolean;
      owns_tables: boolean | null;
    }>(
      // owns_tables: null before the first migration; on PostgreSQL 14 and older every role
      // may create in public, so ownership of an existing table is the telling sign.
      `select current_user as role, r.rolsuper as superuser, r.rolcreaterole as createrole,
              current_schema() as schema, has_schema_privilege(current_schema(), 'CREATE') as can_create,
              (select pg_has_role(current_user, c.relowner, 'USAGE') from pg_class c
                where c.oid = to_regclass('audit_events')) as owns_tables
         from pg_roles r where r.rolname = current_user`,
    );
    const me = who.rows[0];
    if (!me) throw new Error('cannot read the current role from pg_roles');
    if (!me.can_create || (me.owns_tables === false && !me.superuser))
      throw new DatabaseRoleError(
        'MIGRATE_NOT_OWNER',
        `role ${me.role} ${me.can_create ? 'does not own the tables' : `may not create tables in schema ${me.schema}`}, so it cannot run migrations ` +
          `(it looks like the app's role): set DATABASE_OWNER_URL to the connection of the role that owns the schema; ` +
          `DATABASE_URL stays the app's connection`,
      );
    const applied = await migrateUp(opts.ownerUrl, opts.log);

    const appUser = opts.appUrl ? userOf(opts.appUrl) : undefined;
    const separate = appUser !== undefined && appUser !== me.role;
    const appRole = separate ? appUser : DEFAULT_APP_ROLE;
    const notes: string[] = [];
    let createdPassword: string | undefined;
    let exists = await roleExists(owner, appRole);
    if (!exists && (me.superuser || me.createrole)) {
      const given =
        separate && opts.appUrl ? decodeURIComponent(new URL(opts.appUrl).password) : '';
      const password = given || randomBytes(18).toString('base64url');
      try {
        await owner.query(
          `create role ${owner.escapeIdentifier(appRole)} login password ${owner.escapeLiteral(password)}
             nosuperuser nocreatedb nocreaterole noreplication`,
        );
        if (!given) createdPassword = password;
        notes.push(`created role ${appRole} for the app`);
      } catch (err) {
        // created meanwhile by another run (duplicate_object, or unique_violation in the catalog)
        const code = (err as { code?: string }).code;
        if (code !== '42710' && code !== '23505') throw err;
      }
      exists = true;
    }
    if (!exists) {
      notes.push(
        `role ${appRole} does not exist and ${me.role} may not create roles: as an administrator run ` +
          `CREATE ROLE ${appRole} LOGIN PASSWORD '…'; then run patchops migrate again`,
      );
    } else {
      notes.push(...(await grantAppPrivileges(owner, appRole, me.role)));
    }
    if (!separate) {
      const suggestion = withRole(opts.ownerUrl, appRole, createdPassword);
      notes.push(
        `the app connects as ${me.role}, ${me.superuser ? 'a superuser' : "the tables' owner"}, so it could rewrite the audit trail. ` +
          `Connect it as ${appRole} instead: DATABASE_OWNER_URL=<your current DATABASE_URL> DATABASE_URL=${suggestion}` +
          (createdPassword ? ' (the password is shown once: keep it now)' : ''),
      );
    }
    return {
      applied,
      ownerRole: me.role,
      appRole,
      separate,
      createdPassword,
      granted: exists,
      notes,
    };
  } finally {
    await owner.end();
  }
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  return client;
}

async function roleExists(client: pg.Client, role: string): Promise<boolean> {
  const r = await client.query('select 1 from pg_roles where rolname = $1', [role]);
  return r.rowCount === 1;
}

/**
 * Gives `appRole` exactly the app's privileges on every table of the current schema, in one
 * transaction under an advisory lock (concurrent GRANTs on one table can fail with "tuple
 * concurrently updated"). Returns notes on anything that stops the grants from holding.
 */
export async function grantAppPrivileges(
  client: pg.Client,
  appRole: string,
  ownerRole: string,
): Promise<string[]> {
  const app = client.escapeIdentifier(appRole);
  const notes: string[] = [];
  await client.query('begin');
  try {
    await client.query('select pg_advisory_xact_lock(1764600001)');
    const schema = client.escapeIdentifier(
      (await client.query<{ s: string }>('select current_schema() as s')).rows[0]?.s ?? 'public',
    );
    await client.query(`grant usage on schema ${schema} to ${app}`);
    await client.query(`revoke all on all tables in schema ${schema} from ${app}`);
    await client.query(
      `grant select, insert, update, delete on all tables in schema ${schema} to ${app}`,
    );
    await client.query(`revoke all on all sequences in schema ${schema} from ${app}`);
    await client.query(`grant usage, select on all sequences in schema ${schema} to ${app}`);
    for (const [tables, revoke] of [
      [APPEND_ONLY_TABLES, 'update, delete'],
      [READ_ONLY_TABLES, 'insert, update, delete'],
    ] as const) {
      for (const t of tables) {
        const found = await client.query<{ t: string | null }>(
          'select to_regclass($1)::text as t',
          [t],
        );
        if (found.rows[0]?.t)
          await client.query(`revoke ${revoke} on ${client.escapeIdentifier(t)} from ${app}`);
      }
    }
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  }
  // GRANT on a table the migrating role does not own only warns; say which and how to fix it.
  const missing = await client.query<{ t: string; owner: string }>(
    `select c.relname as t, pg_get_userbyid(c.relowner) as owner from pg_class c
      where c.relnamespace = current_schema()::regnamespace and c.relkind in ('r', 'p')
        and not has_table_privilege($1, c.oid, 'SELECT') order by 1`,
    [appRole],
  );
  for (const m of missing.rows)
    notes.push(
      `${appRole} was not granted ${m.t}: it is owned by ${m.owner}, not ${ownerRole}; run ALTER TABLE ${m.t} OWNER TO ${ownerRole}, then migrate again`,
    );
  const role = await client.query<{ superuser: boolean; member: boolean }>(
    `select r.rolsuper as superuser, pg_has_role($1, $2, 'USAGE') as member from pg_roles r where r.rolname = $1`,
    [appRole, ownerRole],
  );
  const r = role.rows[0];
  if (r?.superuser)
    notes.push(`${appRole} is a superuser: no grant can keep it from rewriting the audit trail`);
  else if (r?.member && appRole !== ownerRole)
    notes.push(
      `${appRole} inherits the rights of ${ownerRole} (role membership): REVOKE ${ownerRole} FROM ${appRole}`,
    );
  return notes;
}

export interface PrivilegeCheck {
  state: 'ok' | 'warn';
  detail: string;
}

/**
 * For `patchops doctor`: warns when the app's connection could rewrite the audit trail,
 * i.e. it is a superuser, owns audit_events (or inherits from its owner), or holds UPDATE,
 * DELETE or TRUNCATE on it.
 */
export async function auditPrivilegeCheck(appUrl: string): Promise<PrivilegeCheck> {
  const client = await connect(appUrl);
  try {
    const r = await client.query<{
      role: string;
      superuser: boolean;
      owner: string | null;
      is_owner: boolean | null;
      rewrite: string[] | null;
    }>(
      `select current_user as role, r.rolsuper as superuser,
              pg_get_userbyid(c.relowner) as owner,
              pg_has_role(current_user, c.relowner, 'USAGE') as is_owner,
              array_remove(array[
                case when has_table_privilege(c.oid, 'UPDATE') then 'UPDATE' end,
                case when has_table_privilege(c.oid, 'DELETE') then 'DELETE' end,
                case when has_table_privilege(c.oid, 'TRUNCATE') then 'TRUNCATE' end], null) as rewrite
         from pg_roles r left join pg_class c on c.oid = to_regclass('audit_events')
        where r.rolname = current_user`,
    );
    const me = r.rows[0];
    if (!me) return { state: 'warn', detail: 'cannot read the current role' };
    const fix = 'connect the app as a restricted role (README: "PostgreSQL roles")';
    if (me.superuser)
      return {
        state: 'warn',
        detail: `the app connects as ${me.role}, a superuser: it could rewrite the audit trail; ${fix}`,
      };
    if (me.owner === null) return { state: 'ok', detail: `${me.role}; no audit trail yet` };
    if (me.is_owner)
      return {
        state: 'warn',
        detail: `the app connects as ${me.role}, ${me.role === me.owner ? 'the owner' : `a member of ${me.owner}, the owner`} of audit_events: it could rewrite the audit trail; ${fix}`,
      };
    if (me.rewrite?.length)
      return {
        state: 'warn',
        detail: `${me.role} may ${me.rewrite.join(', ')} audit_events: run \`patchops migrate\` to reset its grants`,
      };
    return { state: 'ok', detail: `${me.role} may only append to and read the audit trail` };
  } finally {
    await client.end();
  }
}
