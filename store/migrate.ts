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
