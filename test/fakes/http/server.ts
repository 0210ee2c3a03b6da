/**
 * The plumbing every vendor fake shares: a real HTTP server on 127.0.0.1 port 0 with a
 * route table, JSON/form bodies, a record of every request and injectable faults (an
 * error status, a 429 with Retry-After, a slow answer, or doing the work and then never
 * answering, so the client times out not knowing). Each vendor's fake (servicenow, jira,
 * github, ninjaone, tacticalrmm) adds its own routes, state and documented error bodies.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface FakeRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** Parsed JSON (or form fields as an object); the raw text when neither parses; null when empty. */
  body: unknown;
  rawBody: string;
  /** Named groups of the route's pattern. */
  params: Record<string, string>;
}

export interface FakeResponse {
  status: number;
  /** Serialised as JSON unless it is a string and `contentType` says otherwise. */
  body?: unknown;
  headers?: Record<string, string>;
  contentType?: string;
}

export type Handler = (req: FakeRequest) => FakeResponse | Promise<FakeResponse>;

export interface Route {
  method: string;
  /** Matched against the whole path; use named groups for ids: /^\/issues\/(?<id>\d+)$/. */
  pattern: RegExp;
  handler: Handler;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
  /** What the fake answered; 0 when it never answered (a hang fault). */
  status: number;
  at: number;
}

export interface Fault {
  method?: string;
  /** Which paths it hits; every path when absent. */
  path?: RegExp;
  /** How many matching requests it hits (default 1). */
  times?: number;
  /** Answer this status instead of handling the request (with `body` when given). */
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Adds a Retry-After header (seconds). */
  retryAfterSeconds?: number;
  /** Wait this long before answering. */
  delayMs?: number;
  /**
   * Handle the request (the vendor did the work) and then never answer: the client times
   * out not knowing whether it happened. The connection is closed when the fake closes.
   */
  commitThenHang?: boolean;
}

export interface FakeHttpServer {
  url: string;
  /** Every request received, in arrival order. */
  requests: RecordedRequest[];
  /** Requests whose method and path match. */
  requestsTo(method: string, path: RegExp): RecordedRequest[];
  /** Queues a fault for the next matching request(s). */
  fault(f: Fault): void;
  close(): Promise<void>;
}

export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): FakeResponse {
  return { status, body, headers };
}

function parseBody(raw: string, type: string | undefined): unknown {
  if (!raw) return null;
  if (type?.includes('application/x-www-form-urlencoded'))
    return Object.fromEntries(new URLSearchParams(raw));
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/** Starts a fake on 127.0.0.1 with the given routes; unmatched requests get `notFound`. */
export async function startFakeHttp(
  routes: Route[],
  notFound: (req: FakeRequest) => FakeResponse = () => json(404, { message: 'Not Found' }),
): Promise<FakeHttpServer> {
  const requests: RecordedRequest[] = [];
  const faults: Array<Fault & { left: number }> = [];
  const sockets = new Set<Socket>();

  const takeFault = (method: string, path: string): Fault | undefined => {
    const i = faults.findIndex(
      (f) => (!f.method || f.method === method) && (!f.path || f.path.test(path)),
    );
    if (i < 0) return undefined;
    const f = faults[i]!;
    if (--f.left <= 0) faults.splice(i, 1);
    return f;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const fr: FakeRequest = {
      method,
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: parseBody(rawBody, req.headers['content-type']),
      rawBody,
      params: {},
    };
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [
          k,
          Array.isArray(v) ? v.join(', ') : String(v),
        ]),
      ),
      body: fr.body,
      status: 0,
      at: Date.now(),
    };
    requests.push(record);
    const fault = takeFault(method, url.pathname);
    if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    let answer: FakeResponse;
    if (fault && fault.status !== undefined && !fault.commitThenHang) {
      answer = {
        status: fault.status,
        body: fault.body ?? {},
        headers: {
          ...fault.headers,
          ...(fault.retryAfterSeconds !== undefined
            ? { 'Retry-After': String(fault.retryAfterSeconds) }
            : {}),
        },
      };
    } else {
      const route = routes.find((r) => r.method === method && r.pattern.test(url.pathname));
      if (route) fr.params = { ...url.pathname.match(route.pattern)?.groups };
      answer = route ? await route.handler(fr) : notFound(fr);
    }
    if (fault?.commitThenHang) return; // the work is done; the answer never comes
    record.status = answer.status;
    const isText = typeof answer.body === 'string' && answer.contentType !== undefined;
    const payload =
      answer.body === undefined
        ? ''
        : isText
          ? (answer.body as string)
          : JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      'Content-Type': answer.contentType ?? 'application/json; charset=utf-8',
      ...answer.headers,
    });
    res.end(payload);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ fakeError: String(err) }));
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    requestsTo: (method, path) => requests.filter((r) => r.method === method && path.test(r.path)),
    fault: (f) => faults.push({ ...f, left: f.times ?? 1 }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
