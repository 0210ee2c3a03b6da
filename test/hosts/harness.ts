/**
 * Real Debian 12 test hosts for the SSH adapter's tests: each an overlay of one cached
 * debootstrapped root (build-root.sh), in its own PID/mount/UTS namespaces, running a real
 * sshd on 127.0.0.1 and real apt/dpkg against a local repository (repo.ts). Tests read the
 * truth directly (exec via nsenter, dpkg status from disk), never through the code under test.
 * Needs root, util-linux (unshare, nsenter, setpriv), openssh-client (ssh-keygen) and
 * dpkg-deb on the machine; build-root.sh installs debootstrap itself the first time.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../cli/process/tethered.js';
import type { DpkgState } from './dpkg-status.js';
import { fleet, type HostFleet, type TestHost } from './fleet.js';
import { HostMachine } from './host.js';
import { DEMO_PACKAGES, FAIL_MARKER, INITIAL_PACKAGES, type DemoPackage } from './packages.js';
import { alive, run, runOk } from './proc.js';
import { startRepo, type Repo } from './repo.js';

export { DEMO_PACKAGES, FAIL_MARKER, INITIAL_PACKAGES, type DemoPackage, type DpkgState };
export type { HostFleet, TestHost };

const here = path.dirname(fileURLToPath(import.meta.url));

export interface StartHostsOptions {
  count: number;
  /** Host names (default host-1 … host-N); as many as `count`. */
  names?: string[];
  /** Hosts that get FAIL_MARKER, making patchops-demo-fail 1.1-1's postinst exit 1. */
  failPostinstOn?: string[];
  /** `name=version` to install at start (default INITIAL_PACKAGES); [] for none. */
  initialPackages?: string[];
}

export class HostHarnessError extends Error {
  constructor(
    readonly code: 'bad_options' | 'root_build_failed' | 'host_start_failed',
    message: string,
  ) {
    super(message);
  }
}

/** Builds the cached root once (minutes, needs Debian's registry); later calls are instant. */
export async function buildRoot(): Promise<string> {
  const r = await run('sh', [path.join(here, 'build-root.sh')]);
  const root = r.stdout.trim().split('\n').pop();
  if (r.code !== 0 || !root) {
    throw new HostHarnessError(
      'root_build_failed',
      `build-root.sh exited ${r.code}: ${r.stderr.slice(-2000)}`,
    );
  }
  return root;
}

function checkOptions(opts: StartHostsOptions): string[] {
  const bad = (m: string): never => {
    throw new HostHarnessError('bad_options', m);
  };
  if (!Number.isInteger(opts.count) || opts.count < 1 || opts.count > 32)
    bad(`startHosts: count must be an integer 1..32, got ${opts.count}`);
  const names = opts.names ?? Array.from({ length: opts.count }, (_, i) => `host-${i + 1}`);
  if (names.length !== opts.count)
    bad(`startHosts: names has ${names.length} entries, count is ${opts.count}`);
  for (const n of names)
    if (!/^[a-z][a-z0-9-]{0,62}$/.test(n))
      bad(`startHosts: names: "${n}" is not a hostname (a-z, 0-9, -)`);
  if (new Set(names).size !== names.length) bad('startHosts: names must be distinct');
  for (const n of opts.failPostinstOn ?? [])
    if (!names.includes(n))
      bad(`startHosts: failPostinstOn names "${n}", which is not one of names`);
  for (const p of opts.initialPackages ?? [])
    if (!/^[a-z0-9][a-z0-9.+-]*(=[A-Za-z0-9.+:~-]+)?$/.test(p))
      bad(`startHosts: initialPackages: "${p}" is not "package" or "package=version"`);
  return names;
}

/** Removes scratch dirs of earlier runs whose process was killed before it could stop(). */
async function sweep(base: string): Promise<void> {
  for (const d of await readdir(base)) {
    if (!d.startsWith('patchops-hosts-')) continue;
    const owner = await readFile(path.join(base, d, 'owner.pid'), 'utf8').catch(() => '');
    if (owner && !alive(Number(owner)))
      await rm(path.join(base, d), { recursive: true, force: true });
  }
}

/** Runs `fn` over items, at most `limit` at once (the machine has 2 cores). */
async function pool<T>(
  items: readonly T[],
  limit: number,
  fn: (t: T) => Promise<void>,
): Promise<void> {
  const queue = [...items];
  const worker = async (): Promise<void> => {
    for (let t = queue.shift(); t !== undefined; t = queue.shift()) await fn(t);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export async function startHosts(opts: StartHostsOptions): Promise<HostFleet> {
  const names = checkOptions(opts);
  const base = process.env.PATCHOPS_TEST_TMP ?? tmpdir();
  await sweep(base);
  const lower = await buildRoot();
  const scratch = await mkdtemp(path.join(base, 'patchops-hosts-'));
  await writeFile(path.join(scratch, 'owner.pid'), String(process.pid));
  const machines: HostMachine[] = [];
  let repo: Repo | undefined;
  const stop = async (): Promise<void> => {
    const results = await Promise.allSettled(machines.map((m) => m.stop()));
    await repo?.close();
    await rm(scratch, { recursive: true, force: true });
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  };
  try {
    const clientKeyPath = path.join(scratch, 'client_ed25519');
    await runOk('ssh-keygen', [
      '-q',
      '-t',
      'ed25519',
      '-N',
      '',
      '-C',
      'patchops-tests',
      '-f',
      clientKeyPath,
    ]);
    repo = await startRepo(path.join(scratch, 'repo'), DEMO_PACKAGES);
    const pub = await readFile(`${clientKeyPath}.pub`, 'utf8');
    for (const name of names) {
      const m = new HostMachine(name, await freePort(), path.join(scratch, 'hosts', name), lower);
      machines.push(m);
      await mkdir(m.dir, { recursive: true });
      await m.prepare(pub, repo.url);
    }
    await Promise.all(machines.map((m) => m.boot()));
    const initial = opts.initialPackages ?? [...INITIAL_PACKAGES];
    const failOn = new Set(opts.failPostinstOn ?? []);
    await pool(machines, 2, async (m) => {
      const cmd = ['apt-get -q update'];
      if (initial.length) cmd.push(`apt-get -q -y install ${initial.join(' ')}`);
      if (failOn.has(m.name)) cmd.push(`touch ${FAIL_MARKER}`);
      const r = await m.exec(cmd.join(' && '));
      if (r.code !== 0)
        throw new HostHarnessError(
          'host_start_failed',
          `host ${m.name}: setup exited ${r.code}: ${r.stderr}`,
        );
    });
    const knownHostsPath = path.join(scratch, 'known_hosts');
    await writeFile(knownHostsPath, machines.map((m) => `${m.knownHostsLine}\n`).join(''));
    return fleet(machines, repo, { clientKeyPath, knownHostsPath, lower, stop });
  } catch (err) {
    await stop().catch(() => undefined); // the first failure is the one worth reporting
    throw err;
  }
}
