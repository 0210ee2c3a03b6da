import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Logger } from 'pino';
import { freePort } from '../process/tethered.js';
import { startDevServer, type DevServer } from './dev-server.js';
import { resolveTemporalCli } from './resolve-cli.js';

export interface StartTemporalOptions {
  root: string;
  explicitCli?: string | undefined;
  /** SQLite file for persistence; omitted for a throwaway server. */
  dbFile?: string;
  port?: number;
  uiPort?: number;
  readyTimeoutMs?: number;
  log?: Logger;
}

/**
 * Starts a local Temporal dev server from the best binary available; when there is no
 * binary and no Go, falls back to the SDK's cached download (needs internet once).
 */
export async function startTemporal(
  opts: StartTemporalOptions,
): Promise<DevServer & { source: string }> {
  const cli = await resolveTemporalCli({
    explicit: opts.explicitCli,
    root: opts.root,
    log: opts.log,
  });
  if (cli) {
    const server = await startDevServer({ ...opts, cli: cli.path });
    return { ...server, source: `${cli.source} (${cli.path})` };
  }
  opts.log?.warn(
    'no Temporal CLI binary and no Go toolchain: using the SDK download of the Temporal CLI',
  );
  const port = opts.port || (await freePort());
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'cached-download' },
      ip: '127.0.0.1',
      port,
      ...(opts.dbFile ? { dbFilename: path.resolve(opts.dbFile) } : {}),
      ...(opts.uiPort !== undefined ? { ui: true, uiPort: opts.uiPort } : {}),
    },
  });
  return {
    address: `127.0.0.1:${port}`,
    uiUrl: opts.uiPort !== undefined ? `http://127.0.0.1:${opts.uiPort}` : undefined,
    pid: undefined,
    source: 'SDK cached download',
    stop: () => env.teardown(),
  };
}
