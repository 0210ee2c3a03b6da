import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import type { Logger } from 'pino';
import { freePort, portInUse, spawnTethered, type Tethered } from '../process/tethered.js';

export interface DevServerOptions {
  /** Path of the Temporal CLI binary. */
  cli: string;
  /** SQLite file for persistent state; omit for a throwaway in-memory server. */
  dbFile?: string;
  /** gRPC port; 0 or omitted picks a free one. */
  port?: number;
  /** Web UI port; omitted means headless. */
  uiPort?: number;
  namespace?: string;
  /** How long to wait for the first start (slow disks and cold caches need well over 5 s). */
  readyTimeoutMs?: number;
  log?: Logger;
}

export interface DevServer {
  address: string;
  uiUrl: string | undefined;
  pid: number | undefined;
  stop(): Promise<void>;
}

export class TemporalStartError extends Error {
  readonly code = 'TEMPORAL_START_FAILED';
}

/** Starts `temporal server start-dev` tethered to this process and waits until it serves. */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const port = opts.port || (await freePort());
  if (await portInUse(port)) {
    throw new TemporalStartError(
      `port ${port} is already in use; stop whatever listens there or set TEMPORAL_DEV_PORT to a free port`,
    );
  }
  const namespace = opts.namespace ?? 'default';
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port)];
  args.push('--http-port', String(await freePort()), '--metrics-port', String(await freePort()));
  args.push('--log-level', 'warn');
  if (opts.uiPort !== undefined) args.push('--ui-port', String(opts.uiPort || (await freePort())));
  else args.push('--headless');
  if (opts.dbFile) {
    mkdirSync(path.dirname(opts.dbFile), { recursive: true });
    args.push('--db-filename', opts.dbFile);
  }
  if (namespace !== 'default') args.push('--namespace', namespace);
  // Let tests run many short workflows without the dev server throttling them.
  args.push('--dynamic-config-value', 'frontend.namespaceRPS=10000');
  args.push('--dynamic-config-value', 'frontend.namespaceCount=10000');

  const server = spawnTethered(opts.cli, args);
  let stderr = '';
  server.process.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  server.process.stdout?.resume();
  const address = `127.0.0.1:${port}`;
  try {
    await waitReady(server, address, namespace, opts.readyTimeoutMs ?? 120_000, () => stderr);
  } catch (err) {
    await server.stop(2_000);
    throw err;
  }
  const uiPortArg = args[args.indexOf('--ui-port') + 1];
  const uiUrl = opts.uiPort !== undefined ? `http://127.0.0.1:${uiPortArg}` : undefined;
  opts.log?.debug({ address, uiUrl, pid: server.process.pid }, 'Temporal dev server ready');
  return { address, uiUrl, pid: server.process.pid, stop: () => server.stop() };
}

async function waitReady(
  server: Tethered,
  address: string,
  namespace: string,
  timeoutMs: number,
  stderr: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void server.exited.then(() => (exited = true));
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (exited) {
      throw new TemporalStartError(
        `temporal server start-dev exited during start-up:\n${stderr()}`,
      );
    }
    if (await portInUse(Number(address.split(':')[1]))) {
      try {
        const connection = await Connection.connect({ address, connectTimeout: 2_000 });
        try {
          await connection.workflowService.describeNamespace({ namespace });
          return;
        } finally {
          await connection.close();
        }
      } catch (err) {
        lastError = err;
      }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new TemporalStartError(
    `Temporal dev server not ready at ${address} after ${timeoutMs} ms (${String(lastError)})\n${stderr()}`,
  );
}
