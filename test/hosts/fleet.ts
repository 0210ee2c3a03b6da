/** The fleet handle tests get from startHosts: hosts, their keys, and direct reads of truth. */
import { dpkgState, type DpkgState } from './dpkg-status.js';
import type { HostMachine } from './host.js';
import type { DemoPackage } from './packages.js';
import type { RunResult } from './proc.js';
import type { Repo } from './repo.js';

export interface TestHost {
  name: string;
  address: '127.0.0.1';
  /** sshd's port on 127.0.0.1. */
  port: number;
  /** The host's ed25519 key, as `ssh-keygen -l` prints it: "SHA256:…". */
  hostKeyFingerprint: string;
  /** PID 1 of the host's current boot, as seen from the machine (changes on reboot). */
  readonly pid: number;
}

export interface HostFleet {
  hosts: TestHost[];
  /** The local apt repository, e.g. http://127.0.0.1:41234/ */
  repoUrl: string;
  /** Private ed25519 key authorised for root on every host. */
  clientKeyPath: string;
  /** known_hosts with a `[127.0.0.1]:PORT ssh-ed25519 …` line per host. */
  knownHostsPath: string;
  /** Runs `sh -c cmd` as root inside the host via nsenter + chroot (not SSH). */
  exec(host: TestHost, cmd: string): Promise<RunResult>;
  /** Installed version (dpkg status "… installed") read from the host's disk. */
  dpkgVersion(host: TestHost, pkg: string): Promise<string | undefined>;
  /** Version and full Status field, e.g. to see "half-configured" after a failed postinst. */
  dpkgState(host: TestHost, pkg: string): Promise<DpkgState | undefined>;
  /** boot_id + start time of the host's PID 1: changes on each real reboot of that host. */
  bootMark(host: TestHost): Promise<string>;
  /** Resolves once the host is up (after a reboot the harness boots it again). */
  whenUp(host: TestHost): Promise<void>;
  /** Power loss: SIGKILL to the host's PID 1; it stays down (sshd refuses) until powerOn. */
  crash(host: TestHost): Promise<void>;
  /** Boots a crashed host again (same disk, same port, same host key). */
  powerOn(host: TestHost): Promise<void>;
  /** How many reboots the harness has seen and answered for this host. */
  reboots(host: TestHost): number;
  /** Adds package versions to the repository (hosts see them after `apt-get update`). */
  publish(pkgs: readonly DemoPackage[]): Promise<void>;
  /** Ends every host's processes, removes the scratch dir; keeps the cached root. */
  stop(): Promise<void>;
}

export function fleet(
  machines: HostMachine[],
  repo: Repo,
  f: { clientKeyPath: string; knownHostsPath: string; lower: string; stop: () => Promise<void> },
): HostFleet {
  const hosts = new Map<TestHost, HostMachine>();
  for (const m of machines) {
    const host: TestHost = {
      name: m.name,
      address: '127.0.0.1',
      port: m.port,
      hostKeyFingerprint: m.hostKeyFingerprint,
      get pid() {
        return m.pid;
      },
    };
    hosts.set(host, m);
  }
  const of = (h: TestHost): HostMachine => {
    const m = hosts.get(h);
    if (!m) throw new Error(`host ${h.name} is not in this fleet`);
    return m;
  };
  const state = (h: TestHost, pkg: string): Promise<DpkgState | undefined> =>
    dpkgState(of(h).upper, f.lower, pkg);
  return {
    hosts: [...hosts.keys()],
    repoUrl: repo.url,
    clientKeyPath: f.clientKeyPath,
    knownHostsPath: f.knownHostsPath,
    exec: (h, cmd) => of(h).exec(cmd),
    dpkgState: state,
    dpkgVersion: async (h, pkg) => {
      const s = await state(h, pkg);
      return s?.status.endsWith(' installed') ? s.version : undefined;
    },
    bootMark: async (h) => {
      const r = await of(h).exec('cat /proc/sys/kernel/random/boot_id /proc/1/stat');
      const [bootId, stat] = r.stdout.split('\n');
      const start = stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19]; // field 22
      if (r.code !== 0 || !bootId || !start)
        throw new Error(`host ${h.name}: cannot read its boot mark (down?): ${r.stderr.trim()}`);
      return `${bootId}/${start}`;
    },
    whenUp: (h) => of(h).whenUp(),
    crash: (h) => of(h).crash(),
    powerOn: (h) => of(h).boot(),
    reboots: (h) => of(h).reboots,
    publish: (pkgs) => repo.publish(pkgs),
    stop: f.stop,
  };
}
