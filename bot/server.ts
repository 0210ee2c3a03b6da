import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';

/** A front door's HTTP entry: Slack's Bolt listener at /slack/*, Teams' adapter at /api/messages. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/** Whether a platform's front door can serve: its start-up calls succeeded (or why not). */
export interface Readiness {
  ready: boolean;
  /** Why it is not ready, in words for an operator (no secrets). */
  error?: string;
}

const readinessOf = new WeakMap<RouteHandler, () => Readiness>();

/** Attaches a readiness probe to a route handler; /healthz reports it under the route's platform. */
export function withReadiness(handler: RouteHandler, probe: () => Readiness): RouteHandler {
  readinessOf.set(handler, probe);
  return handler;
}

export interface BotServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

type Platform = 'slack' | 'teams';

/**
 * One HTTP server for every configured front door, plus GET /healthz (readiness: 200 when every
 * configured platform is ready, else 503, with {"slack":{"ready":…,"error":…},"teams":…}) and
 * GET /livez (the process answers). `extra` reports platforms served without a route (Slack in
 * Socket Mode).
 */
export async function startBotServer(
  routes: { slack?: RouteHandler | undefined; teams?: RouteHandler | undefined },
  host: string,
  port: number,
  onError: (err: unknown) => void,
  extra: Partial<Record<Platform, () => Readiness>> = {},
): Promise<BotServer> {
  const probes: Partial<Record<Platform, () => Readiness>> = { ...extra };
  for (const p of ['slack', 'teams'] as const) {
    const route = routes[p];
    if (route) probes[p] = readinessOf.get(route) ?? (() => ({ ready: true }));
  }
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const handler = path.startsWith('/slack/')
      ? routes.slack
      : path === '/api/messages'
        ? routes.teams
        : undefined;
    if (path === '/livez' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      return;
    }
    if (path === '/healthz' && req.method === 'GET') {
      const report = Object.fromEntries(
        Object.entries(probes).map(([p, probe]) => [p, safeProbe(probe)]),
      );
      const ok = Object.values(report).every((r) => r.ready);
      res
        .writeHead(ok ? 200 : 503, {
          'content-type': 'application/json',
          'cache-control': 'no-store',
        })
        .end(JSON.stringify(report));
      return;
    }
    if (!handler) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    Promise.resolve(handler(req, res)).catch((err: unknown) => {
      onError(err);
      // Never the error's own text: it may carry internals; the log has it.
      if (!res.headersSent)
        res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error');
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    server,
    url: `http://${shown}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function safeProbe(probe: () => Readiness): Readiness {
  try {
    const r = probe();
    return r.ready ? { ready: true } : { ready: false, error: r.error ?? 'not ready' };
  } catch {
    return { ready: false, error: 'readiness check failed' };
  }
}

/** What a PlatformStartup runs: the platform's start-up calls (auth.test, a socket, key fetches). */
export type StartupSteps = (signal: AbortSignal) => Promise<void>;

export interface StartupOptions {
  /** First wait after a failure; doubles (±20 %) up to maxMs. */
  initialMs?: number;
  maxMs?: number;
  /** A failure that will not heal by waiting (a revoked token): start() rejects with it at once. */
  permanent?: (err: unknown) => boolean;
  /** The operator-facing reason of a failure (no secrets). */
  describe?: (err: unknown) => string;
}

/**
 * A platform's start-up calls retried in the background with exponential back-off until they
 * succeed or stop() is called, and the readiness /healthz reports meanwhile. Its timers are
 * unref'd and abortable, so a platform that never answers does not keep the process alive.
 */
export class PlatformStartup {
  private phase: 'idle' | 'starting' | 'ready' | 'down' | 'stopped' = 'idle';
  private error: string | undefined;
  private readonly abort = new AbortController();
  private first: Promise<void> | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly name: string,
    private readonly steps: StartupSteps,
    private readonly log: Logger,
    private readonly o: StartupOptions = {},
  ) {}

  /**
   * Starts the attempts. Resolves after the first one: ready, or failed for a reason that may
   * pass (the attempts go on in the background); rejects when it failed for good (`permanent`).
   */
  start(): Promise<void> {
    if (this.first) return this.first;
    let settle!: (err?: unknown) => void;
    this.first = new Promise<void>((resolve, reject) => {
      settle = (err) =>
        err === undefined
          ? resolve()
          : reject(err instanceof Error ? err : new Error('start-up failed', { cause: err }));
    });
    this.run(settle);
    return this.first;
  }

  /** Begins a new round of attempts after the platform was found unreachable again. */
  markDown(err: unknown): void {
    if (this.phase !== 'ready') return;
    this.phase = 'down';
    this.error = this.describe(err);
    this.log.warn({ platform: this.name, error: this.error }, `${this.name} became unreachable`);
    this.run(() => undefined);
  }

  get ready(): boolean {
    return this.phase === 'ready';
  }

  /** Waits up to `ms` for an attempt in flight (the first one) to finish. */
  async settled(ms: number): Promise<void> {
    if (this.phase !== 'starting') return;
    const timer = sleep(ms, undefined, { ref: false });
    await Promise.race([timer, this.first?.catch(() => undefined)]);
  }

  readiness(): Readiness {
    switch (this.phase) {
      case 'ready':
        return { ready: true };
      case 'idle':
        return { ready: false, error: 'not started' };
      case 'stopped':
        return { ready: false, error: 'stopping' };
      case 'starting':
        return { ready: false, error: this.error ?? 'starting' };
      default:
        return { ready: false, error: this.error ?? 'unreachable' };
    }
  }

  async stop(): Promise<void> {
    this.phase = 'stopped';
    this.abort.abort();
    await this.loop?.catch(() => undefined);
  }

  private describe(err: unknown): string {
    if (this.o.describe) return this.o.describe(err);
    return err instanceof Error ? err.message : String(err);
  }

  private run(settleFirst: (err?: unknown) => void): void {
    if (this.loop && this.phase !== 'ready' && this.phase !== 'down') return;
    this.phase = this.phase === 'down' ? 'down' : 'starting';
    const initial = this.o.initialMs ?? 500;
    const max = this.o.maxMs ?? 30_000;
    const signal = this.abort.signal;
    this.loop = (async () => {
      for (let attempt = 0; !signal.aborted; attempt++) {
        try {
          await this.steps(signal);
          if (signal.aborted) return;
          if (attempt > 0)
            this.log.info({ platform: this.name }, `${this.name} is reachable again`);
          this.phase = 'ready';
          this.error = undefined;
          settleFirst();
          return;
        } catch (err) {
          if (signal.aborted) return;
          this.error = this.describe(err);
          const permanent = this.o.permanent?.(err) ?? false;
          if (attempt === 0 && permanent) {
            this.phase = 'down';
            settleFirst(err);
            return;
          }
          this.phase = 'down';
          const wait = Math.min(max, initial * 2 ** attempt) * (0.8 + Math.random() * 0.4);
          this.log.warn(
            { platform: this.name, error: this.error, retryInMs: Math.round(wait) },
            `${this.name} start-up call failed; retrying`,
          );
          settleFirst();
          try {
            await sleep(wait, undefined, { signal, ref: false });
          } catch {
            return; // aborted by stop()
          }
        }
      }
    })();
  }
}

/** The body, or 'too large' (read on to `limit` × 16 so the sender gets the answer, then cut). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit * 16) {
      req.destroy();
      return 'too large';
    }
    if (size <= limit) chunks.push(chunk as Buffer);
  }
  return size > limit ? 'too large' : Buffer.concat(chunks);
}
