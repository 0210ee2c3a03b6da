import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { patchSchema, type Patch } from '../../../domain/model.js';
import { RmmError } from '../types.js';
import {
  parseAptSimulation,
  parseDpkgQuery,
  parseHeld,
  parseMadison,
  parsePolicy,
} from './apt-parse.js';
import type { SshContext } from './context.js';
import { parseCheckUpdate, parseNeedsRestarting, parseUpdateinfoList } from './dnf-parse.js';
import type { InventoryHost } from './inventory.js';
import { patchIdOf } from './patch-id.js';
import {
  APT_SCAN,
  aptMadison,
  aptPolicy,
  aptUpdate,
  DEB_INSTALLED,
  dnfScan,
  RPM_INSTALLED,
  sections,
} from './scripts.js';
import { aptPatches, brokenPatches, dnfPatches } from './to-patches.js';

/**
 * Scanning. `triggerScan` refreshes each host's package lists (apt-get update / dnf
 * makecache) in the background; `missingPatches` then asks the package manager what it
 * would upgrade now, so a rescan right after a deploy sees the deploy. The last answer per
 * host is kept in the data folder, so a host that is down answers with its last scan.
 */
export class Scanner {
  private readonly scans = new Map<string, Promise<void>>();
  private readonly done = new Set<string>();

  constructor(
    private readonly ctx: SshContext,
    private readonly dataDir: string,
  ) {}

  triggerScan(deviceIds: string[]): { scanId: string } {
    if (deviceIds.length === 0)
      throw new RmmError('INVALID_ARGUMENT', 'triggerScan needs at least one device id');
    const hosts = deviceIds.map((id) => this.ctx.host(id));
    const scanId = `ssh-scan-${randomUUID()}`;
    const work = Promise.all(hosts.map((h) => this.refresh(h))).then(() => {
      this.done.add(scanId);
    });
    this.scans.set(scanId, work);
    return { scanId };
  }

  readScan(scanId: string): { done: boolean } {
    if (!this.scans.has(scanId)) {
      throw new RmmError(
        'SCAN_NOT_FOUND',
        `No scan "${scanId}" (scans live in the worker that started them; start a new one)`,
      );
    }
    return { done: this.done.has(scanId) };
  }

  /** Refreshes one host's lists; a host that cannot be reached is logged, not fatal to the scan. */
  private async refresh(host: InventoryHost): Promise<void> {
    try {
      const family = await this.ctx.family(host);
      const script =
        family === 'deb'
          ? aptUpdate(this.ctx.settings.lockTimeoutSeconds)
          : 'LC_ALL=C dnf -q makecache';
      const r = await this.ctx.run(host, script);
      if (r.code !== 0)
        this.ctx.log.warn(
          { host: host.name, exit: r.code, out: (r.stdout + r.stderr).slice(-800) },
          'package list refresh failed; scanning with the lists the host has',
        );
    } catch (err) {
      this.ctx.log.warn(
        { host: host.name, err: err instanceof Error ? err.message : String(err) },
        'host not refreshed',
      );
    }
  }

  async missingPatches(deviceId: string): Promise<Patch[]> {
    const host = this.ctx.host(deviceId);
    return this.lastKnown(host, 'missing', patchSchema.array(), () => this.scanNow(host));
  }

  /**
   * Answers from the host, remembering the answer; while the host cannot be reached, with
   * what it last said (as an RMM answers from its last inventory). Never for other errors.
   */
  private async lastKnown<T>(
    host: InventoryHost,
    what: 'missing' | 'installed',
    schema: z.ZodType<T>,
    ask: () => Promise<T>,
  ): Promise<T> {
    const file = this.file(host.deviceId, what);
    try {
      const value = await ask();
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(`${file}.tmp`, JSON.stringify({ deviceId: host.deviceId, value }));
      renameSync(`${file}.tmp`, file);
      return value;
    } catch (err) {
      if (!(err instanceof RmmError && err.code === 'DEVICE_OFFLINE')) throw err;
      const last = this.recall(file, host.deviceId, schema);
      if (last === undefined) throw err;
      this.ctx.log.info(
        { host: host.name, what },
        'host unreachable; answering with its last scan',
      );
      return last;
    }
  }

  private async scanNow(host: InventoryHost): Promise<Patch[]> {
    const family = await this.ctx.family(host);
    if (family === 'rpm') {
      const s = sections((await this.ctx.run(host, dnfScan)).stdout);
      const rc = Number(s.get('checkrc')?.head ?? '1');
      if (rc !== 0 && rc !== 100) {
        throw new RmmError(
          'UNAVAILABLE',
          `${host.name}: dnf check-update failed (exit ${rc}): ${s.get('check')?.body.slice(-500) ?? ''}`,
        );
      }
      return dnfPatches(
        rc === 100 ? parseCheckUpdate(s.get('check')?.body ?? '') : [],
        parseUpdateinfoList(s.get('advisories')?.body ?? ''),
      );
    }
    const s = sections(await this.ctx.runOk(host, APT_SCAN, 'apt-get -s dist-upgrade'));
    if (s.get('simrc')?.head !== '0') {
      throw new RmmError(
        'UNAVAILABLE',
        `${host.name}: apt-get -s dist-upgrade failed: ${s.get('sim')?.body.trim().split('\n').slice(-5).join('\n') ?? ''}`,
      );
    }
    const sim = parseAptSimulation(s.get('sim')?.body ?? '');
    const held = new Set(parseHeld(s.get('held')?.body ?? ''));
    // Kept-back packages (held ones among them) have no Inst line; they are still missing.
    const kept = sim.keptBack.filter((n) => !sim.upgrades.some((u) => u.name === n));
    if (kept.length)
      sim.upgrades.push(
        ...parsePolicy(await this.ctx.runOk(host, aptPolicy(kept), 'apt-cache policy')),
      );
    const names = sim.upgrades.map((u) => u.name);
    const madison = names.length
      ? parseMadison(await this.ctx.runOk(host, aptMadison(names), 'apt-cache madison'))
      : new Map();
    const offered = aptPatches(sim, held, madison);
    const ids = new Set(offered.map((p) => p.id));
    const broken = brokenPatches(parseDpkgQuery(s.get('dpkg')?.body ?? '')).filter(
      (p) => !ids.has(p.id),
    );
    return [...offered, ...broken];
  }

  /**
   * Every installed package as `deb:<name>:<version>` (the ids deploys move packages to),
   * minus those installed but waiting for a reboot, which are neither missing nor installed.
   */
  async installedPatches(deviceId: string): Promise<string[]> {
    const host = this.ctx.host(deviceId);
    return this.lastKnown(host, 'installed', z.array(z.string()), () => this.installedNow(host));
  }

  private async installedNow(host: InventoryHost): Promise<string[]> {
    const family = await this.ctx.family(host);
    if (family === 'rpm') {
      const s = sections(await this.ctx.runOk(host, RPM_INSTALLED, 'rpm -qa'));
      const waiting = new Set(parseNeedsRestarting(s.get('reboot')?.body ?? '').packages);
      return parseDpkgQuery(s.get('rpm')?.body ?? '')
        .filter((p) => !waiting.has(p.name.replace(/\.[^.]+$/, '')))
        .map((p) => patchIdOf({ family: 'rpm', name: p.name, version: p.version }))
        .sort();
    }
    const s = sections(await this.ctx.runOk(host, DEB_INSTALLED, 'dpkg-query'));
    const arch = s.get('arch')?.head ?? '';
    const waiting = new Set(
      (s.get('reboot')?.body ?? '')
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean),
    );
    return parseDpkgQuery(s.get('dpkg')?.body ?? '')
      .filter((p) => p.status.startsWith('ii'))
      .map((p) => ({
        ...p,
        name: arch && p.name.endsWith(`:${arch}`) ? p.name.slice(0, -arch.length - 1) : p.name,
      }))
      .filter((p) => !waiting.has(p.name))
      .map((p) => patchIdOf({ family: 'deb', name: p.name, version: p.version }))
      .sort();
  }

  private file(deviceId: string, what: string): string {
    const name = createHash('sha256').update(deviceId).digest('hex').slice(0, 32);
    return path.join(this.dataDir, 'ssh-scans', `${name}.${what}.json`);
  }

  private recall<T>(file: string, deviceId: string, schema: z.ZodType<T>): T | undefined {
    let data: { deviceId?: unknown; value?: unknown };
    try {
      data = JSON.parse(readFileSync(file, 'utf8')) as typeof data;
    } catch {
      return undefined; // no earlier scan: the caller reports the host offline
    }
    const parsed = schema.safeParse(data.value);
    return data.deviceId === deviceId && parsed.success ? parsed.data : undefined;
  }
}
