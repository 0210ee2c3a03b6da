import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { readdirSync } from 'node:fs';
import { MIGRATIONS_DIR, setUpDatabase } from '../../store/migrate.js';
import { createPool, createStore, type Pool, type Store } from '../../store/index.js';

export interface TestDatabase {
  /**
   * What the app connects with. For a migrated database that is the restricted APP role
   * (INSERT and SELECT only on the audit trail), so every test proves the app works with
   * the privileges production gives it. A database created with `migrate: false` is there
   * to be migrated, so its url and pool are the OWNER's.
   */
  url: string;
  /** The role that ran the migrations and owns the tables. */
  ownerUrl: string;
  /** The app's restricted role. */
  appUrl: string;
  /** A superuser on this database (for tests that act as an administrator). */
  adminUrl: string;
  pool: Pool;
  store: Store;
  drop(): Promise<void>;
}

/** Cluster-wide roles every test database uses (roles cannot be per database). */
export const TEST_OWNER_ROLE = 'patchops_test_owner';
export const TEST_APP_ROLE = 'patchops_test_app';
const TEST_ROLE_PASSWORD = 'patchops-test-only';

/** The PostgreSQL server the run shares (DATABASE_URL or the runner's embedded one). */
export function serverUrl(): string {
  const url = process.env.PATCHOPS_TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!url) throw new Error('no PostgreSQL for tests: run through `npm test` or set DATABASE_URL');
  return url;
}

function withDatabase(url: string, database: string, role?: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  if (role) {
    u.username = role;
    u.password = TEST_ROLE_PASSWORD;
  }
  return u.toString();
}

let rolesReady: Promise<void> | undefined;

/**
 * Creates the owner and app roles once per cluster. Test files run in parallel processes:
 * an advisory lock orders them, and a role created meanwhile by another (duplicate_object,
 * or unique_violation when two CREATE ROLEs race in the catalog) counts as done.
 */
function ensureTestRoles(admin: pg.Client): Promise<void> {
  rolesReady ??= (async () => {
    await admin.query('select pg_advisory_lock(1764600002)');
    try {
      for (const role of [TEST_OWNER_ROLE, TEST_APP_ROLE]) {
        const found = await admin.query('select 1 from pg_roles where rolname = $1', [role]);
        if (found.rowCount) continue;
        try {
          await admin.query(
            `create role ${role} login password '${TEST_ROLE_PASSWORD}' nosuperuser nocreatedb nocreaterole`,
          );
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code !== '42710' && code !== '23505') throw err;
        }
      }
    } finally {
      await admin.query('select pg_advisory_unlock(1764600002)');
    }
  })();
  return rolesReady;
}

/** A fresh, migrated database of its own for one test file; drop() removes it. */
export async function createTestDatabase(
  options: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  const admin = serverUrl();
  const name = `patchops_t_${randomBytes(5).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    await ensureTestRoles(client);
    await client.query(`create database ${name} owner ${TEST_OWNER_ROLE}`);
  } finally {
    await client.end();
  }
  const ownerUrl = withDatabase(admin, name, TEST_OWNER_ROLE);
  const appUrl = withDatabase(admin, name, TEST_APP_ROLE);
  const migrate = options.migrate !== false;
  if (migrate) await setUpDatabase({ ownerUrl, appUrl });
  const url = migrate ? appUrl : ownerUrl;
  const pool = createPool(url);
  return {
    url,
    ownerUrl,
    appUrl,
    adminUrl: withDatabase(admin, name),
    pool,
    store: createStore(pool),
    drop: async () => {
      await pool.end();
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

/** The names of every migration in store/migrations, in the order they apply. */
export function migrationNames(): string[] {
  const names = readdirSync(MIGRATIONS_DIR)
    .filter((f) => f.endsWith('.sql'))
    .map((f) => f.replace(/\.sql$/, ''))
    .sort();
  if (names.length < 5) throw new Error(`only ${names.length} migrations in ${MIGRATIONS_DIR}`);
  return names;
}
