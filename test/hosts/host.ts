/**
 * One test host: an overlay copy of the cached Debian root (upper/work per host), booted by
 * init.sh as PID 1 of its own PID, mount and UTS namespaces, sshd on 127.0.0.1:port.
 * Tied to this Node process by PDEATHSIG, so no host outlives the tests even on SIGKILL.
 * A reboot(2) inside the host ends its namespace with SIGHUP (unshare exits 129); we then
 * boot it again on the same overlay and port, as a machine's firmware would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { alive, childPids, run, runOk, waitForSshBanner, type RunResult } from './proc.js';

const INIT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'init.sh');
const ENV = [
  'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  'HOME=/root',
  'LANG=C',
  'DEBIAN_FRONTEND=noninteractive',
];

export class HostMachine {
  /** PID 1 of the host's current boot, as the machine sees it. */
  pid = 0;
  /** How many times the host came back after a reboot(2). */
  reboots = 0;
  readonly upper: string;
  hostKeyFingerprint = '';
  knownHostsLine = '';
  private unshare: ChildProcess | undefined;
  private ended: Promise<void> = Promise.resolve();
  private stopping = false;
  private booting: Promise<void> = Promise.resolve();
  private readonly log: string[] = [];

  constructor(
    readonly name: string,
    readonly port: number,
    readonly dir: string,
    private readonly lower: string,
  ) {
    this.upper = path.join(dir, 'upper');
  }

  /** Writes what makes this host itself into its upper layer: host key, root's key, apt. */
  async prepare(clientPublicKey: string, repoUrl: string): Promise<void> {
    const up = (p: string): string => path.join(this.upper, p);
    await mkdir(path.join(this.dir, 'work'), { recursive: true });
    await mkdir(path.join(this.dir, 'merged'), { recursive: true });
    await mkdir(up('etc/ssh'), { recursive: true, mode: 0o755 });
    await mkdir(up('etc/apt'), { recursive: true, mode: 0o755 });
    await mkdir(up('root/.ssh'), { recursive: true, mode: 0o700 });
    const key = up('etc/ssh/ssh_host_ed25519_key');
    await runOk('ssh-keygen', [
      '-q',
      '-t',
      'ed25519',
      '-N',
      '',
      '-C',
      `root@${this.name}`,
      '-f',
      key,
    ]);
    const [type, blob] = (await readFile(`${key}.pub`, 'utf8')).trim().split(' ');
    if (!type || !blob) throw new Error(`host ${this.name}: unreadable host key ${key}.pub`);
    const digest = createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64');
    this.hostKeyFingerprint = `SHA256:${digest.replace(/=+$/, '')}`;
    this.knownHostsLine = `[127.0.0.1]:${this.port} ${type} ${blob}`;
    await writeFile(up('root/.ssh/authorized_keys'), clientPublicKey, { mode: 0o600 });
    await writeFile(up('etc/hostname'), `${this.name}\n`);
    // Test disks are throwaway: dpkg need not fsync every unpacked file.
    await mkdir(up('etc/dpkg/dpkg.cfg.d'), { recursive: true, mode: 0o755 });
    await writeFile(up('etc/dpkg/dpkg.cfg.d/patchops-test'), 'force-unsafe-io\n');
    await writeFile(
      up('etc/apt/sources.list'),
      `deb [trusted=yes] ${repoUrl} bookworm main\n` +
        `deb [trusted=yes] ${repoUrl} bookworm-security main\n`,
    );
  }

  /** Boots the host and resolves once sshd answers with its banner. */
  boot(): Promise<void> {
    this.booting = this.bootOnce();
    return this.booting;
  }

  /** Resolves when the current (re)boot has finished. */
  whenUp(): Promise<void> {
    return this.booting;
  }

  private async bootOnce(): Promise<void> {
    const d = (p: string): string => path.join(this.dir, p);
    // Why not cli/process/tethered.ts: `unshare --fork` blocks SIGTERM and SIGINT while its
    // child runs, so the tether's TERM would leave the host up. PDEATHSIG is the tether here:
    // this process dies → unshare gets SIGKILL → --kill-child SIGKILLs the host's PID 1 →
    // the kernel ends every process of the namespace.
    const unshare = spawn(
      'setpriv',
      ['--pdeathsig', 'KILL', '--', 'unshare', '--pid', '--mount', '--uts', '--fork'].concat(
        ['--kill-child=SIGKILL', 'sh', INIT, this.name, String(this.port), this.lower],
        [this.upper, d('work'), d('merged')],
      ),
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.unshare = unshare;
    const keep = (c: Buffer): void => {
      this.log.push(...c.toString().split('\n').filter(Boolean));
      this.log.splice(0, Math.max(0, this.log.length - 40));
    };
    unshare.stdout.on('data', keep);
    unshare.stderr.on('data', keep);
    let ended = false;
    this.ended = new Promise((resolve) =>
      unshare.once('exit', (code, signal) => {
        ended = true;
        resolve();
        if (this.stopping || this.unshare !== unshare) return;
        // unshare re-raises the signal that ended PID 1: SIGHUP is reboot(2)'s.
        if (signal === 'SIGHUP' || code === 129) {
          this.reboots += 1;
          this.boot().catch((err: unknown) => this.log.push(`reboot failed: ${String(err)}`));
        } else {
          this.log.push(`host ended: code ${code}, signal ${signal}`);
        }
      }),
    );
    this.pid = await this.findInit(unshare.pid ?? 0, () => ended);
    await waitForSshBanner(this.port, 20_000, () => ended).catch((err: unknown) => {
      throw new Error(`host ${this.name}: ${String(err)}; log:\n${this.log.join('\n')}`);
    });
  }

  /** The host's PID 1 is unshare's child, and PID 1 in its own namespace. */
  private async findInit(unsharePid: number, ended: () => boolean): Promise<number> {
    for (let i = 0; i < 200 && !ended(); i++) {
      for (const c of await childPids(unsharePid)) {
        const status = await readFile(`/proc/${c}/status`, 'utf8').catch(() => '');
        if (/^NSpid:\s+\d+\s+1$/m.test(status)) return c;
      }
      await sleep(25);
    }
    throw new Error(`host ${this.name}: init did not start; log:\n${this.log.join('\n')}`);
  }

  /** Runs `sh -c cmd` as root inside the host (its namespaces and root), not over SSH. */
  exec(cmd: string, input?: string): Promise<RunResult> {
    const args = [
      '-t',
      String(this.pid),
      '-m',
      '-u',
      '-p',
      'chroot',
      path.join(this.dir, 'merged'),
    ];
    return run('nsenter', [...args, 'env', '-i', ...ENV, 'sh', '-c', cmd], { input });
  }

  /** Last lines the host's init and sshd wrote (for failure messages). */
  recentLog(): string {
    return this.log.join('\n');
  }

  /** Pulls the plug: the host stays down until boot() (its disk keeps what was written). */
  async crash(): Promise<void> {
    await this.booting;
    process.kill(this.pid, 'SIGKILL');
    await this.ended;
  }

  /** Powers the host off: SIGKILL to its PID 1 ends the namespace and every process in it. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.booting.catch(() => undefined); // a failed boot was already reported
    if (this.pid && alive(this.pid)) process.kill(this.pid, 'SIGKILL');
    const timer = setTimeout(() => this.unshare?.kill('SIGKILL'), 5_000);
    await this.ended;
    clearTimeout(timer);
    // PID 1 exits only once every other process of the namespace has: gone means all gone.
    for (let i = 0; i < 200 && this.pid && alive(this.pid); i++) await sleep(25);
    if (this.pid && alive(this.pid)) throw new Error(`host ${this.name}: PID 1 outlived stop`);
  }
}
