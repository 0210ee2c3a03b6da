import { readFileSync, statSync } from 'node:fs';
import type { Logger } from 'pino';
import { RmmError } from '../types.js';
import type { ExecResult } from './connection.js';
import { parseInventory, type Inventory, type InventoryHost } from './inventory.js';
import { ConnectionPool } from './pool.js';
import { DETECT, sections } from './scripts.js';
import type { SshSettings } from './settings.js';

export type Family = 'deb' | 'rpm';

/**
 * What every SSH operation shares: the inventory (re-read when the file changes), the
 * connection pool, and what each host told us about itself (its package family).
 */
export class SshContext {
  readonly pool: ConnectionPool;
  private inventory: { mtimeMs: number; value: Inventory } | undefined;
  private readonly families = new Map<string, { family: Family; pretty: string }>();

  constructor(
    readonly settings: SshSettings,
    readonly log: Logger,
    readonly env: Readonly<Record<string, string | undefined>>,
  ) {
    this.pool = new ConnectionPool(
      {
        knownHostsPath: settings.knownHostsPath,
        trustOnFirstUse: settings.trustOnFirstUse,
        connectTimeoutMs: settings.connectTimeoutMs,
        env,
      },
      settings.concurrency,
      60_000,
    );
  }

  /** The parsed inventory; throws CONFIG_INVALID naming every problem in the file. */
  fleet(): Inventory {
    const path = this.settings.inventoryPath;
    let mtimeMs: number;
    let text: string;
    try {
      mtimeMs = statSync(path).mtimeMs;
      if (this.inventory?.mtimeMs === mtimeMs) return this.inventory.value;
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new RmmError(
        'CONFIG_INVALID',
        `Cannot read the SSH inventory ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'}); set PATCHOPS_SSH_INVENTORY to a readable YAML file`,
      );
    }
    const r = parseInventory(text, path);
    if (!r.ok)
      throw new RmmError('CONFIG_INVALID', `Invalid SSH inventory:\n${r.errors.join('\n')}`);
    this.inventory = { mtimeMs, value: r.inventory };
    return r.inventory;
  }

  host(deviceId: string): InventoryHost {
    const h = this.fleet().byDeviceId.get(deviceId);
    if (!h)
      throw new RmmError(
        'DEVICE_NOT_FOUND',
        `No host "${deviceId}" in the SSH inventory ${this.settings.inventoryPath}`,
      );
    return h;
  }

  /** Runs a script as root on the host; a non-zero exit is the caller's to judge. */
  run(
    host: InventoryHost,
    script: string,
    timeoutMs = this.settings.commandTimeoutMs,
  ): Promise<ExecResult> {
    return this.pool.exec(host, script, timeoutMs);
  }

  /** Runs a script that must succeed; otherwise UNAVAILABLE with the end of its stderr. */
  async runOk(
    host: InventoryHost,
    script: string,
    what: string,
    timeoutMs?: number,
  ): Promise<string> {
    const r = await this.run(host, script, timeoutMs);
    if (r.code !== 0) {
      const err = (r.stderr || r.stdout).trim().split('\n').slice(-5).join('\n');
      const sudo = /sudo: .*password|a terminal is required/.test(r.stderr)
        ? ' (sudo asked for a password: set sudoPasswordEnv for this host)'
        : '';
      throw new RmmError(
        'UNAVAILABLE',
        `${host.name}: ${what} failed with exit ${r.code}${sudo}: ${err}`,
      );
    }
    return r.stdout;
  }

  /** deb (Debian, Ubuntu) or rpm (RHEL and relatives), from /etc/os-release; cached. */
  async family(host: InventoryHost): Promise<Family> {
    const known = this.families.get(host.deviceId);
    if (known) return known.family;
    const s = sections(await this.runOk(host, DETECT, 'reading /etc/os-release', 30_000));
    const ids = `${s.get('id')?.head ?? ''} ${s.get('like')?.head ?? ''}`
      .toLowerCase()
      .split(/\s+/);
    const family: Family | undefined = ids.some((i) => ['debian', 'ubuntu'].includes(i))
      ? 'deb'
      : ids.some((i) => ['rhel', 'fedora', 'centos'].includes(i))
        ? 'rpm'
        : undefined;
    if (!family) {
      throw new RmmError(
        'UNAVAILABLE',
        `${host.name}: unsupported OS "${s.get('pretty')?.head ?? 'unknown'}" (/etc/os-release ID "${ids.join(' ').trim()}"); the SSH adapter patches Debian/Ubuntu (apt) and RHEL-family (dnf) hosts`,
      );
    }
    this.families.set(host.deviceId, { family, pretty: s.get('pretty')?.head ?? '' });
    return family;
  }

  /** What the host said it runs, once it has been asked. */
  osVersion(deviceId: string): string | undefined {
    return this.families.get(deviceId)?.pretty || undefined;
  }
}
