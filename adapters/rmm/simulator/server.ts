import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { bulkOf } from '../bulk.js';
import { RmmError, type RmmBulk } from '../types.js';
import { createSimulator, type Simulator } from './simulator.js';
import { requestSchemas, STATUS_BY_CODE, type ResultOf, type SimulatorMethod } from './wire.js';

/**
 * The simulated RMM served as its own process, so several `patchops worker` processes
 * share one fleet as they would share a real RMM: JSON over HTTP on loopback, in the
 * wire format of wire.ts. The process that serves it holds the only live state; a
 * `statePath` still makes that state survive a restart of the server.
 */

export interface ServeSimulatorOptions {
  /** The simulator's options, as PATCHOPS_RMM_CONFIG gives them (without `url`). */
  config?: unknown;
  /** Where the served simulator keeps its memory across restarts of the server. */
  statePath?: string;
  /** Loopback by default: the API has no authentication. */
  host?: string;
  /** 0 (the default) picks a free port; `url` says which. */
  port?: number;
  log?: Logger;
  /** Largest request body accepted; bigger ones get 413. Default 16 MiB. */
  maxBodyBytes?: number;
}

export interface ServedSimulator {
  /** e.g. "http://127.0.0.1:41234", the `url` workers put in PATCHOPS_RMM_CONFIG. */
  url: string;
  /** The served simulator itself, for the process that serves it (tests read its stats). */
  simulator: Simulator & { readonly bulk: RmmBulk };
  close(): Promise<void>;
}

type Handlers = {
  [M in SimulatorMethod]: (
    sim: Simulator,
    args: z.output<(typeof requestSchemas)[M]>,
  ) => ResultOf<M> | Promise<ResultOf<M>>;
};

const entries = (map: ReadonlyMap<string, number>): [string, number][] => [...map];

const HANDLERS: Handlers = {
  testConnection: (sim) => sim.testConnection(),
  listClients: (sim) => sim.listClients(),
  listSites: (sim, a) => sim.listSites(a.clientId),
  listDevices: (sim, a) => sim.listDevices(a.clientId, a.page),
  triggerScan: (sim, a) => sim.triggerScan(a.deviceIds),
  readScan: (sim, a) => sim.readScan(a.scanId),
  missingPatches: (sim, a) => sim.missingPatches(a.deviceId),
  installedPatches: (sim, a) => sim.installedPatches(a.deviceId),
  deploy: (sim, a) => sim.deploy(a.deviceId, a.patchIds, a.idempotencyKey, a.hints),
  readJob: (sim, a) => sim.readJob(a.jobId),
  reboot: (sim, a) => sim.reboot(a.deviceId, a.idempotencyKey, a.hints),
  promptReboot: (sim, a) => sim.promptReboot(a.deviceId, a.idempotencyKey, a.opts),
  uninstall: (sim, a) => sim.uninstall(a.deviceId, a.patchIds, a.idempotencyKey, a.hints),
  isOnline: (sim, a) => sim.isOnline(a.deviceId),

  'bulk/isOnline': (sim, a) => bulkOf(sim).isOnline(a.deviceIds),
  'bulk/deploy': (sim, a) => bulkOf(sim).deploy(a.requests),
  'bulk/readJob': (sim, a) => bulkOf(sim).readJob(a.jobIds),
  'bulk/promptReboot': (sim, a) => bulkOf(sim).promptReboot(a.requests),
  'bulk/patchStates': (sim, a) => bulkOf(sim).patchStates(a.deviceIds),

  setOnline: (sim, a) => sim.setOnline(a.deviceId, a.online),
  setUserDefers: (sim, a) => sim.setUserDefers(a.deviceId, a.alwaysDefer ?? undefined),
  pendingReboot: (sim, a) => sim.pendingReboot(a.deviceId),
  stats: (sim) => {
    const s = sim.stats();
    return {
      deployCalls: entries(s.deployCalls),
      installsPerDevicePatch: entries(s.installsPerDevicePatch),
      rebootsPerDevice: entries(s.rebootsPerDevice),
      deployJobsPerPatch: entries(s.deployJobsPerPatch),
    };
  },
  catalog: (sim) => sim.catalog(),
};

/** A refusal of the request itself, before the simulator sees it. */
class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...(status === 429 ? { 'Retry-After': '1' } : {}),
  });
  res.end(text);
}

function readBody(req: http.IncomingMessage, limit: number): Promise<unknown> {
  const tooLarge = () =>
    new HttpRefusal(413, 'TOO_LARGE', `The request body is larger than ${limit} bytes`);
  if (Number(req.headers['content-length'] ?? 0) > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // Past the limit the rest is read and dropped, so the 413 can still be answered.
    req.on('data', (chunk: Buffer) => {
      if (size > limit) return;
      size += chunk.length;
      if (size > limit) reject(tooLarge());
      else chunks.push(chunk);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (size > limit) return;
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return resolve({});
      try {
        resolve(JSON.parse(text) as unknown);
      } catch {
        reject(new HttpRefusal(400, 'INVALID_ARGUMENT', 'The request body is not JSON'));
      }
    });
  });
}

function methodOf(req: http.IncomingMessage): SimulatorMethod {
  const path = new URL(req.url ?? '/', 'http://simulator').pathname;
  const name = path.startsWith('/v1/') ? path.slice('/v1/'.length) : '';
  if (!Object.hasOwn(HANDLERS, name)) {
    throw new HttpRefusal(
      404,
      'NOT_FOUND',
      `No simulator method at ${path}; methods are POST /v1/<method>, e.g. /v1/deploy or /v1/bulk/deploy`,
    );
  }
  if (req.method !== 'POST') {
    throw new HttpRefusal(405, 'METHOD_NOT_ALLOWED', `Use POST for ${path}`);
  }
  return name as SimulatorMethod;
}

async function handle<M extends SimulatorMethod>(
  sim: Simulator,
  method: M,
  body: unknown,
): Promise<ResultOf<M>> {
  const parsed = requestSchemas[method].safeParse(body);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${i.path.join('.') || '(body)'}: ${i.message}`,
    );
    throw new HttpRefusal(400, 'INVALID_ARGUMENT', `Bad ${method} request: ${problems.join('; ')}`);
  }
  const handler = HANDLERS[method] as (s: Simulator, a: unknown) => Promise<ResultOf<M>>;
  return handler(sim, parsed.data);
}

/** Serves a new simulator (or the one at `statePath`) until `close()`. */
export async function serveSimulator(opts: ServeSimulatorOptions = {}): Promise<ServedSimulator> {
  const simulator = createSimulator(
    opts.config ?? {},
    opts.statePath === undefined ? {} : { statePath: opts.statePath },
  );
  const limit = opts.maxBodyBytes ?? 16 * 1024 * 1024;
  const server = http.createServer((req, res) => {
    void (async () => {
      try {
        const method = methodOf(req);
        const body = await readBody(req, limit);
        // `?? null`: a hook that returns nothing still answers { "result": null }.
        send(res, 200, { result: (await handle(simulator, method, body)) ?? null });
      } catch (err) {
        if (err instanceof HttpRefusal) {
          // After an oversized body the connection is not reused.
          if (err.status === 413) res.setHeader('Connection', 'close');
          send(res, err.status, { code: err.code, message: err.message });
        } else if (err instanceof RmmError) {
          send(res, STATUS_BY_CODE[err.code], { code: err.code, message: err.message });
        } else {
          opts.log?.error({ err, url: req.url }, 'simulator request failed');
          send(res, 500, { code: 'INTERNAL', message: String(err) });
        }
      }
    })();
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  opts.log?.info({ url }, 'simulated RMM served');
  return {
    url,
    simulator,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
