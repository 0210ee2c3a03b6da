import pg from 'pg';

export type Pool = pg.Pool;

/** One pool per process; callers own its lifetime and end() it on shutdown. */
export function createPool(connectionString: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, connectionTimeoutMillis: 10_000 });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

/** Connects once and runs `select 1`, closing the connection again. */
export async function ping(connectionString: string, timeoutMs = 5_000): Promise<string> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: timeoutMs });
  await client.connect();
  try {
    const res = await client.query<{ version: string }>('select version()');
    return res.rows[0]?.version ?? 'unknown';
  } finally {
    await client.end();
  }
}
