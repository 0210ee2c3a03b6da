/**
 * A local fake of the Slack Web API: a real HTTP server on 127.0.0.1 that answers the
 * methods patchops calls the way https://slack.com/api/ does — HTTP 200 with `{ ok, … }`,
 * `x-oauth-scopes` on every response, Bearer-token auth, form-encoded or JSON bodies,
 * Block Kit limits, cursor pagination and (when switched on) per-method rate limits
 * answered with 429 + Retry-After. Point a real `WebClient` at it with
 * `new WebClient('xoxb-test', { slackApiUrl: fake.url })`. It also serves Socket Mode:
 * apps.connections.open (app-level token) returns a ws:// URL on the same port, where
 * `fake.socketMode` (socket-mode.ts) delivers envelopes and records acks.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { appMethods } from './methods-apps.js';
import { chatMethods } from './methods-chat.js';
import { FakeFiles, fileMethods, uploadBytes, type FakeFile } from './methods-files.js';
import { DIRECTORY_METHODS } from './methods-directory.js';
import { VIEW_METHODS } from './methods-views.js';
import { RateLimiter } from './rate-limit.js';
import { attachSocketMode, type FakeSocketMode } from './socket-mode.js';
import {
  FakeSlackState,
  fail,
  str,
  type ApiResult,
  type Body,
  type FakeEphemeral,
  type FakeMessage,
  type FakeView,
  type MethodSpec,
} from './state.js';
import { DEFAULT_SCOPES, type FakeChannel } from './workspace.js';

export interface FakeSlackOptions {
  /** Bot tokens the fake accepts; any other is `invalid_auth`. Default ['xoxb-test']. */
  tokens?: string[];
  /** App-level tokens (Socket Mode's apps.connections.open). Default ['xapp-test']. */
  appTokens?: string[];
  /** How often the Socket Mode server pings each connection (ms; 0 = never). Default 10,000. */
  socketPingMs?: number;
  /** Scopes granted to every token (see DEFAULT_SCOPES); also the `scopes` field. */
  scopes?: string[];
  /** Channels the workspace has (see DEFAULT_CHANNELS). */
  channels?: FakeChannel[];
  /** User groups by id (S…) → member user ids. */
  usergroups?: Record<string, string[]>;
  /** Enforce Slack's per-method tiers (rate-limit.ts). Off by default. */
  rateLimits?: boolean;
  /** Multiplies every rate-limit window: 1/60 makes "per minute" mean "per second". */
  tierScale?: number;
  /** Answer `msg_too_long` for text over 40,000 characters instead of truncating it. */
  rejectLongText?: boolean;
}

export interface RecordedCall {
  method: string;
  /** The parsed arguments (JSON-encoded fields such as `blocks` and `view` decoded). */
  body: Body;
  /** The token the call carried (Authorization header or `token` form field). */
  token: string | undefined;
  /** 200, or 429 when rate limited. */
  status: number;
  /** Date.now() when the call arrived. */
  at: number;
  /** Slack's error code when the answer was not ok ('ratelimited' for a 429). */
  error?: string;
}

export interface FakeSlack {
  /** Base URL ending in /api/, for WebClient's `slackApiUrl`. */
  url: string;
  /** Every call received, in arrival order. */
  calls: RecordedCall[];
  callsTo(method: string): RecordedCall[];
  /** Scopes granted to the bot tokens; mutate it to test `missing_scope`. */
  scopes: string[];
  /** Scopes of the app-level tokens (default connections:write). */
  appScopes: string[];
  /** The Socket Mode side: connections, envelope delivery, acks, disconnects. */
  socketMode: FakeSocketMode;
  /** Channel id → its messages as they stand now (posts and updates applied). */
  messages: Map<string, FakeMessage[]>;
  ephemerals: FakeEphemeral[];
  /** Open modals by view id. */
  views: Map<string, FakeView>;
  /** Published Home tab by user id. */
  homeViews: Map<string, FakeView>;
  /** Files announced by files.getUploadURLExternal, with the bytes their upload URL got. */
  files: Map<string, FakeFile>;
  /** How many calls were answered 429. */
  readonly rateLimited: number;
  setUsergroup(id: string, users: string[]): void;
  /** `{ perMinute }` limits the method (even with tiers off); `null` switches it off. */
  setRateLimit(method: string, limit: { perMinute: number } | null): void;
  /** Holds every answer of `method` for `ms` (0 = none): a slow Slack, to widen races. */
  setDelay(method: string, ms: number): void;
  close(): Promise<void>;
}

/** Arguments Slack takes as JSON-encoded strings in form bodies. */
const JSON_FIELDS: Readonly<Record<string, string>> = {
  blocks: 'invalid_blocks_format',
  attachments: 'invalid_attachments',
  view: 'invalid_arguments',
  metadata: 'invalid_metadata_format',
};

interface ParsedRequest {
  body: Body;
  token: string | undefined;
  /** Where the token came from: Slack takes it from either, except for app-level methods. */
  tokenIn?: 'header' | 'body';
  error?: string;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseRequest(req: IncomingMessage, raw: string, query: URLSearchParams): ParsedRequest {
  const body: Body = Object.fromEntries(query);
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (contentType === 'application/json') {
    let parsed: unknown;
    try {
      parsed = raw === '' ? {} : JSON.parse(raw);
    } catch {
      return { body, token: bearer, error: 'invalid_json' };
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      return { body, token: bearer, error: 'invalid_json' };
    }
    // JSON bodies must carry the token in the Authorization header, never in the body.
    const rest: Body = { ...(parsed as Body) };
    delete rest.token;
    return { body: { ...body, ...rest }, token: bearer, tokenIn: 'header' };
  }
  Object.assign(body, Object.fromEntries(new URLSearchParams(raw)));
  let error: string | undefined;
  for (const [field, code] of Object.entries(JSON_FIELDS)) {
    const value = body[field];
    if (typeof value !== 'string') continue;
    try {
      body[field] = JSON.parse(value);
    } catch {
      error ??= code;
    }
  }
  const formToken = str(body.token);
  delete body.token;
  return {
    body,
    token: bearer ?? formToken,
    tokenIn: bearer ? 'header' : 'body',
    ...(error ? { error } : {}),
  };
}

export async function startFakeSlack(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
  const tokens = opts.tokens ?? ['xoxb-test'];
  const appTokens = opts.appTokens ?? ['xapp-test'];
  const state = new FakeSlackState(opts.channels);
  for (const [id, users] of Object.entries(opts.usergroups ?? {})) state.usergroups.set(id, users);
  const limiter = new RateLimiter(opts.rateLimits === true, opts.tierScale ?? 1);
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // A bug in the fake, not a Slack answer: make it loud in the test that hit it.
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(err instanceof Error ? (err.stack ?? err.message) : String(err));
    });
  });
  let origin = '';
  const socketMode = attachSocketMode(server, () => origin, { pingIntervalMs: opts.socketPingMs });
  const files = new FakeFiles();
  const methods: Record<string, MethodSpec> = {
    ...fileMethods(files, () => origin),
    ...chatMethods({ rejectLongText: opts.rejectLongText === true }),
    ...VIEW_METHODS,
    ...DIRECTORY_METHODS,
    ...appMethods(socketMode),
  };
  const calls: RecordedCall[] = [];
  const delays = new Map<string, number>();
  let rateLimited = 0;

  function respond(
    res: ServerResponse,
    status: number,
    result: ApiResult,
    extra: Record<string, string>,
    scopes: readonly string[],
  ): void {
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'x-oauth-scopes': scopes.join(','),
      ...extra,
    });
    res.end(JSON.stringify(result));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const upload = /^\/upload\/v1\/(F\w+)$/.exec(url.pathname);
    if (upload && req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const r = await uploadBytes(
        files,
        upload[1]!,
        req.headers['content-type'] ?? '',
        Buffer.concat(chunks),
      );
      calls.push({
        method: 'upload',
        body: { file_id: upload[1] },
        token: undefined,
        status: r.status,
        at: Date.now(),
      });
      res.writeHead(r.status, { 'content-type': 'text/plain' }).end(r.text);
      return;
    }
    if (!url.pathname.startsWith('/api/')) {
      res.writeHead(404).end();
      return;
    }
    const method = url.pathname.slice('/api/'.length);
    const parsed = parseRequest(req, await readBody(req), url.searchParams);
    const call: RecordedCall = {
      method,
      body: parsed.body,
      token: parsed.token,
      status: 200,
      at: Date.now(),
    };
    calls.push(call);
    const delay = delays.get(method);
    if (delay) await new Promise((r) => setTimeout(r, delay));
    const spec = methods[method];
    const kind = !parsed.token
      ? undefined
      : tokens.includes(parsed.token)
        ? 'bot'
        : appTokens.includes(parsed.token)
          ? 'app'
          : undefined;
    const granted = kind === 'app' ? fake.appScopes : fake.scopes;
    const answer = (result: ApiResult, status = 200, headers: Record<string, string> = {}) => {
      call.status = status;
      if (!result.ok) call.error = String(result.error);
      respond(res, status, result, headers, granted);
    };
    if (!spec) return answer(fail('unknown_method', { req_method: method }));
    const acceptedScopes = spec.accepted ?? spec.scopes;
    const accepted: Record<string, string> =
      acceptedScopes.length > 0 ? { 'x-accepted-oauth-scopes': acceptedScopes.join(',') } : {};
    if (!parsed.token) return answer(fail('not_authed'), 200, accepted);
    if (!kind) return answer(fail('invalid_auth'), 200, accepted);
    if (kind !== (spec.tokenType ?? 'bot'))
      return answer(fail('not_allowed_token_type'), 200, accepted);
    // apps.connections.open: "pass this token in the HTTP Authorization header …; passing it
    // as a POST parameter will result in an error" — the fake's choice of error: not_authed.
    if (kind === 'app' && parsed.tokenIn !== 'header')
      return answer(fail('not_authed'), 200, accepted);
    const decision = limiter.check(method, parsed.token, str(parsed.body.channel), call.at);
    if (!decision.allowed) {
      rateLimited += 1;
      return answer(fail('ratelimited'), 429, {
        ...accepted,
        'retry-after': String(decision.retryAfterSec),
      });
    }
    if (parsed.error) return answer(fail(parsed.error), 200, accepted);
    const missing = spec.scopes.find((s) => !granted.includes(s));
    if (missing) {
      const result = fail('missing_scope', { needed: missing, provided: granted.join(',') });
      return answer(result, 200, accepted);
    }
    return answer(spec.handle(parsed.body, { state, scopes: granted }), 200, accepted);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;

  const fake: FakeSlack = {
    url: `http://127.0.0.1:${port}/api/`,
    calls,
    callsTo: (method) => calls.filter((c) => c.method === method),
    scopes: [...(opts.scopes ?? DEFAULT_SCOPES)],
    appScopes: ['connections:write'],
    socketMode,
    messages: state.messages,
    ephemerals: state.ephemerals,
    views: state.views,
    homeViews: state.homeViews,
    files: files.byId,
    get rateLimited() {
      return rateLimited;
    },
    setUsergroup: (id, users) => void state.usergroups.set(id, [...users]),
    setRateLimit: (method, limit) => limiter.set(method, limit),
    setDelay: (method, ms) => void delays.set(method, ms),
    close: async () => {
      await socketMode.close();
      await new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // WebClient's fetch keeps connections alive; without this close() waits for them.
        server.closeAllConnections();
      });
    },
  };
  return fake;
}
