import type { AdapterDeps } from '../../kit.js';
import { RmmError, type RmmAdapter } from '../types.js';
import { SshContext } from './context.js';
import { checkHosts, sshBanner, testConnection, type HostCheck } from './doctor.js';
import { JobOps } from './job-ops.js';
import { Scanner } from './scan.js';
import type { SshSettings } from './settings.js';

/** The SSH adapter plus what doctor and tests use. */
export interface SshRmm extends RmmAdapter {
  readonly kind: 'ssh';
  /** Per host: reachable, host key verified/unknown/changed (+ fingerprint), root works. */
  checkHosts(): Promise<HostCheck[]>;
  /** Closes pooled SSH connections (a worker shutting down). */
  close(): void;
}

export interface SshDeps extends AdapterDeps {
  /** Where sudo passwords, key passphrases and SSH_AUTH_SOCK are read; process.env by default. */
  env?: Readonly<Record<string, string | undefined>>;
}

const later = <T>(fn: () => T): Promise<T> => new Promise<T>((resolve) => resolve(fn()));

function decodeCursor(cursor: string | undefined, total: number): number {
  if (cursor === undefined) return 0;
  const m = /^o:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const offset = m ? Number(m[1]) : NaN;
  if (!(offset >= 0 && offset <= total))
    throw new RmmError('INVALID_ARGUMENT', `page.cursor "${cursor}" is not a cursor from here`);
  return offset;
}

/**
 * Patches Linux servers directly over SSH with apt (Debian, Ubuntu) and dnf (RHEL family).
 * The fleet comes from an inventory file; jobs are recorded on the hosts themselves.
 */
export function createSshRmm(settings: SshSettings, deps: SshDeps): SshRmm {
  const ctx = new SshContext(settings, deps.log.child({ rmm: 'ssh' }), deps.env ?? process.env);
  const scanner = new Scanner(ctx, deps.dataDir);
  const jobs = new JobOps(ctx, deps.clock);

  return {
    kind: 'ssh',
    testConnection: () => testConnection(ctx),
    checkHosts: () => checkHosts(ctx),
    // One doctor line per host: reachable, host key verified, commands run as root.
    diagnose: async () =>
      (await checkHosts(ctx)).map((h) => ({
        part: h.host,
        state: h.problem ? ('down' as const) : ('ok' as const),
        detail: h.problem
          ? `${h.address}:${h.port}: ${h.problem}`
          : `${h.address}:${h.port} host key ${h.fingerprint ?? ''} verified, root ok`,
      })),
    close: () => ctx.pool.close(),

    listClients: () => later(() => ctx.fleet().clients.map((c) => ({ ...c }))),

    listSites: (clientId) =>
      later(() => {
        const f = ctx.fleet();
        if (!f.clients.some((c) => c.id === clientId))
          throw new RmmError('CLIENT_NOT_FOUND', `No client "${clientId}" in the SSH inventory`);
        return f.sites.filter((s) => s.clientId === clientId).map((s) => ({ ...s }));
      }),

    listDevices: async (clientId, page) => {
      const f = ctx.fleet();
      if (!f.clients.some((c) => c.id === clientId))
        throw new RmmError('CLIENT_NOT_FOUND', `No client "${clientId}" in the SSH inventory`);
      if (!Number.isInteger(page.limit) || page.limit < 1)
        throw new RmmError('INVALID_ARGUMENT', 'page.limit must be a whole number ≥ 1');
      const all = f.hosts.filter((h) => h.clientId === clientId);
      const start = decodeCursor(page.cursor, all.length);
      const end = Math.min(all.length, start + page.limit);
      const slice = all.slice(start, end);
      // "online" is whether sshd answers now: a banner check, no login.
      const online = await Promise.all(
        slice.map((h) => sshBanner(h.address, h.port, Math.min(3000, settings.connectTimeoutMs))),
      );
      const devices = slice.map((h, i) => ({
        ...h.device,
        tags: [...h.device.tags],
        osVersion: ctx.osVersion(h.deviceId) ?? h.device.osVersion,
        online: online[i] ?? false,
      }));
      return end >= all.length
        ? { devices }
        : { devices, nextCursor: Buffer.from(`o:${end}`).toString('base64url') };
    },

    triggerScan: (deviceIds) => later(() => scanner.triggerScan(deviceIds)),
    readScan: (scanId) => later(() => scanner.readScan(scanId)),
    missingPatches: (deviceId) => scanner.missingPatches(deviceId),
    installedPatches: (deviceId) => scanner.installedPatches(deviceId),

    // The key lives in the job record on the host, so RetryHints add nothing here.
    deploy: (deviceId, patchIds, key) => jobs.deploy(deviceId, patchIds, key),
    uninstall: (deviceId, patchIds, key) => jobs.uninstall(deviceId, patchIds, key),
    reboot: (deviceId, key) => jobs.reboot(deviceId, key),
    readJob: (jobId) => jobs.readJob(jobId),

    /**
     * Servers have no logged-on user to ask, and the workflow only prompts inside the
     * device's maintenance window: so the answer is always `rebooting`, with or without
     * allowDefer (the README's reboot-policy section says so).
     */
    promptReboot: async (deviceId, key, opts) => {
      const { jobId } = await jobs.reboot(deviceId, key, { allowDefer: opts.allowDefer });
      return { outcome: 'rebooting', jobId };
    },

    isOnline: async (deviceId) => {
      const h = ctx.host(deviceId);
      return sshBanner(h.address, h.port, Math.min(5000, settings.connectTimeoutMs));
    },
  };
}
