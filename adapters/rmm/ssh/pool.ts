import type { InventoryHost } from './inventory.js';
import {
  connectHost,
  type ConnectOptions,
  type ExecResult,
  type HostConnection,
} from './connection.js';

/**
 * Keeps one SSH connection per host (ssh2 multiplexes channels over it; sshd allows 10 by
 * default) and closes it after `idleMs` without use. `limit` caps how many commands run
 * at once across all hosts, so a scan of 500 hosts does not open 500 connections at once.
 */
export class ConnectionPool {
  private readonly open = new Map<
    string,
    { conn: Promise<HostConnection>; timer?: NodeJS.Timeout; busy: number }
  >();
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly options: ConnectOptions,
    private readonly limit: number,
    private readonly idleMs: number,
  ) {}

  private async slot<T>(fn: () => Promise<T>): Promise<T> {
    while (this.running >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    try {
      return await fn();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  private connection(host: InventoryHost): Promise<HostConnection> {
    const entry = this.open.get(host.deviceId);
    if (entry) {
      clearTimeout(entry.timer);
      return entry.conn;
    }
    const conn = connectHost(host, this.options);
    const fresh = { conn, busy: 0 };
    this.open.set(host.deviceId, fresh);
    conn.then(
      (c) => {
        const drop = () => {
          if (this.open.get(host.deviceId) === fresh) this.open.delete(host.deviceId);
        };
        c.client.on('close', drop);
        c.client.on('error', drop);
      },
      () => {
        if (this.open.get(host.deviceId) === fresh) this.open.delete(host.deviceId);
      },
    );
    return conn;
  }

  /** Runs a script as root on the host, connecting (and verifying its key) when needed. */
  exec(host: InventoryHost, script: string, timeoutMs: number): Promise<ExecResult> {
    return this.slot(async () => {
      const conn = await this.connection(host);
      const entry = this.open.get(host.deviceId);
      if (entry) entry.busy++;
      try {
        return await conn.exec(script, timeoutMs);
      } finally {
        if (entry && --entry.busy === 0) {
          entry.timer = setTimeout(() => this.drop(host.deviceId), this.idleMs);
          entry.timer.unref();
        }
      }
    });
  }

  /** A fresh connection (not pooled), e.g. for a health check that wants the host key verdict. */
  async probe(host: InventoryHost): Promise<HostConnection> {
    return connectHost(host, this.options);
  }

  /** Forgets a host's connection, e.g. after it was told to reboot. */
  drop(deviceId: string): void {
    const entry = this.open.get(deviceId);
    if (!entry) return;
    this.open.delete(deviceId);
    clearTimeout(entry.timer);
    entry.conn.then(
      (c) => c.close(),
      () => undefined,
    );
  }

  close(): void {
    for (const id of [...this.open.keys()]) this.drop(id);
  }
}
