import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { createSshRmm, type SshRmm } from '../../../adapters/rmm/ssh/index.js';
import { sshSettingsSchema } from '../../../adapters/rmm/ssh/settings.js';
import { RmmError } from '../../../adapters/rmm/types.js';
import type { HostFleet, TestHost } from '../../hosts/harness.js';

/** Test helpers: an inventory for a harness fleet, and adapters (each one = one worker). */

export interface ExtraHost {
  name: string;
  port: number;
}

export function writeInventory(fleet: HostFleet, extra: ExtraHost[] = []): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'patchops-ssh-inv-'));
  const host = (name: string, port: number) =>
    `          - name: ${name}\n            address: 127.0.0.1\n            port: ${port}\n            tags: [linux]\n`;
  const text = [
    'defaults:',
    '  user: root',
    `  keyFile: ${fleet.clientKeyPath}`,
    'clients:',
    '  acme:',
    '    name: ACME',
    '    sites:',
    '      hq:',
    '        timezone: Europe/Berlin',
    '        hosts:',
    ...fleet.hosts.map((h) => host(h.name, h.port)),
    ...extra.map((h) => host(h.name, h.port)),
  ].join('\n');
  const file = path.join(dir, 'inventory.yaml');
  writeFileSync(file, text);
  return file;
}

export function adapter(
  inventory: string,
  knownHosts: string,
  env: Record<string, string> = {},
): SshRmm {
  const settings = sshSettingsSchema.parse({
    PATCHOPS_SSH_INVENTORY: inventory,
    PATCHOPS_SSH_KNOWN_HOSTS: knownHosts,
    PATCHOPS_SSH_LOCK_TIMEOUT_SECONDS: '60',
    PATCHOPS_SSH_CONNECT_TIMEOUT_SECONDS: '5',
    ...env,
  });
  return createSshRmm(settings, {
    log: pino({ level: 'silent' }),
    http: () => {
      throw new Error('the SSH adapter makes no HTTP calls');
    },
    clock: () => new Date(),
    dataDir: mkdtempSync(path.join(tmpdir(), 'patchops-ssh-data-')),
  });
}

export const deviceId = (h: TestHost | ExtraHost): string => `ssh:acme:${h.name}`;

export async function waitJob(rmm: SshRmm, jobId: string, timeoutMs = 60_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    // A read cut off by the host going down (a reboot) is retryable, as an activity would.
    const j = await rmm.readJob(jobId).catch((err: unknown) => {
      if (err instanceof RmmError && err.retryable) return { state: 'running' as const };
      throw err;
    });
    if (j.state === 'succeeded' || j.state === 'failed') return j;
    if (Date.now() > end) throw new Error(`job ${jobId} still ${j.state} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** `Inst` lines of the host's own `apt-get -s dist-upgrade`, read inside the host, not over SSH. */
export async function aptSimulated(fleet: HostFleet, h: TestHost): Promise<string[]> {
  const r = await fleet.exec(h, 'LC_ALL=C apt-get -s dist-upgrade');
  return [...r.stdout.matchAll(/^Inst (\S+) \[[^\]]+\] \((\S+) /gm)]
    .map((m) => `deb:${m[1]}:${m[2]}`)
    .sort();
}

/** Holds dpkg's frontend lock the way apt does (an fcntl write lock) for `seconds`. */
export const holdDpkgLock = (seconds: number): string =>
  `perl -e 'use Fcntl; open(my $f, "+<", "/var/lib/dpkg/lock-frontend") or die "open: $!"; my $s = pack("s s x4 q q i x4", F_WRLCK, 0, 0, 0, 0); fcntl($f, F_SETLKW, $s) or die "lock: $!"; $| = 1; print "locked\\n"; sleep ${seconds};'`;
