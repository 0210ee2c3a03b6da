import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { readdirSync } from 'node:fs';
import { MIGRATIONS_DIR, migrateUp } from '../../store/migrate.js';
import { createPool, createStore, type Pool, type Store } from '../../store/index.js';

export interface TestDatabase {
  url: string;
  pool: Pool;
  store: Store;
  drop(): Promise<void>;
}

/** The PostgreSQL server the run shares (DATABASE_URL or the runner's embedded one). */
export function serverUrl(): string {
  const url = process.env.PATCHOPS_TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!url) throw new Error('no PostgreSQL for tests: run through `npm test` or set DATABASE_URL');
  return url;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A fresh, migrated database of its own for one test file; drop() removes it. */
export async function createTestDatabase(
  options: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  const admin = serverUrl();
  const name = `patchops_t_${randomBytes(5).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`create database ${name}`);
  await client.end();
  const url = withDatabase(admin, name);
  if (options.migrate !== false) await migrateUp(url);
  const pool = createPool(url);
  return {
    url,
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
