import { accessSync, constants } from 'node:fs';
import net from 'node:net';
import { RmmError, type ConnectionCheck } from '../types.js';
import { HostKeyRefused } from './connection.js';
import type { SshContext } from './context.js';
import type { InventoryHost } from './inventory.js';

/** What `patchops doctor` shows per host. */
export interface HostCheck {
  deviceId: string;
  host: string;
  address: string;
  port: number;
  /** The SSH port answered with an SSH banner. */
  reachable: boolean;
  hostKey: 'verified' | 'unknown' | 'changed' | 'revoked' | 'not_checked';
  /** SHA256 fingerprint of the key the host presented, when it got that far. */
  fingerprint?: string;
  /** Logged in and ran `id -u` as root (directly or through sudo). */
  root: boolean;
  /** Why a check failed, with the fix. */
  problem?: string;
}

/** Opens a TCP connection and waits for the "SSH-" banner; no login, nothing run. */
export function sshBanner(address: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (d: Buffer) => done(d.toString('latin1').startsWith('SSH-')));
  });
}

export async function checkHost(ctx: SshContext, host: InventoryHost): Promise<HostCheck> {
  const base = { deviceId: host.deviceId, host: host.name, address: host.address, port: host.port };
  if (!(await sshBanner(host.address, host.port, ctx.settings.connectTimeoutMs))) {
    return {
      ...base,
      reachable: false,
      hostKey: 'not_checked',
      root: false,
      problem: `no SSH server answered on ${host.address}:${host.port}`,
    };
  }
  try {
    const conn = await ctx.pool.probe(host);
    try {
      const r = await conn.exec('id -u', 15_000);
      const root = r.code === 0 && r.stdout.trim() === '0';
      return {
        ...base,
        reachable: true,
        hostKey: 'verified',
        fingerprint: conn.verdict.fingerprint,
        root,
        ...(root
          ? {}
          : {
              problem: `commands do not run as root (exit ${r.code}): ${r.stderr.trim().split('\n').pop() ?? ''}; set sudo: true and, if sudo needs one, sudoPasswordEnv`,
            }),
      };
    } finally {
      conn.close();
    }
  } catch (err) {
    if (err instanceof HostKeyRefused) {
      const v = err.verdict;
      return {
        ...base,
        reachable: true,
        hostKey: v.status === 'verified' ? 'not_checked' : v.status,
        fingerprint: v.fingerprint,
        root: false,
        problem: err.message,
      };
    }
    return {
      ...base,
      reachable: true,
      hostKey: 'not_checked',
      root: false,
      problem: err instanceof Error ? err.message : String(err),
    };
  }
}

/** Every inventory host, checked a few at a time. */
export async function checkHosts(ctx: SshContext): Promise<HostCheck[]> {
  const hosts = ctx.fleet().hosts;
  const out: HostCheck[] = new Array<HostCheck>(hosts.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < hosts.length; i = next++)
      out[i] = await checkHost(ctx, hosts[i] as InventoryHost);
  };
  await Promise.all(
    Array.from({ length: Math.min(ctx.settings.concurrency, hosts.length) }, worker),
  );
  return out;
}

/** Inventory parses, known_hosts is readable, and the first host logs us in with a verified key. */
export async function testConnection(ctx: SshContext): Promise<ConnectionCheck> {
  let hosts: InventoryHost[];
  try {
    hosts = ctx.fleet().hosts;
    accessSync(ctx.settings.knownHostsPath, constants.R_OK);
  } catch (err) {
    const detail =
      err instanceof RmmError
        ? err.message
        : `Cannot read known_hosts ${ctx.settings.knownHostsPath}; set PATCHOPS_SSH_KNOWN_HOSTS to a readable file`;
    return { ok: false, detail };
  }
  const first = hosts[0];
  if (!first)
    return { ok: false, detail: `The inventory ${ctx.settings.inventoryPath} lists no hosts` };
  const c = await checkHost(ctx, first);
  if (c.problem || !c.root)
    return { ok: false, detail: `${first.name}: ${c.problem ?? 'not root'}` };
  return {
    ok: true,
    detail: `SSH inventory: ${hosts.length} hosts; ${first.name} answered as root with verified key ${c.fingerprint ?? ''}`,
  };
}
