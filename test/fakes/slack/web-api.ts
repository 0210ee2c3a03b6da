/**
 * A local fake of the Slack Web API: a real HTTP server on 127.0.0.1 that answers the
 * methods patchops calls the way https://slack.com/api/ does — HTTP 200 with `{ ok, … }`,
 * `x-oauth-scopes` on every response, Bearer-token auth, form-encoded or JSON bodies,
 * Block Kit limits, cursor pagination and (when switched on) per-method rate limits
 * answered with 429 + Retry-After. Point a real `WebClient` at it with
 * `new WebClient('xoxb-test', { slackApiUrl: fake.url })`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chatMethods } from './methods-chat.js';
import { DIRECTORY_METHODS } from './methods-directory.js';
import { VIEW_METHODS } from './methods-views.js';
import { RateLimiter } from './rate-limit.js';
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
  /** Scopes granted to the tokens; mutate it to test `missing_scope`. */
  scopes: string[];
  /** Channel id → its messages as they stand now (posts and updates applied). */
  messages: Map<string, FakeMessage[]>;
  ephemerals: FakeEphemeral[];
  /** Open modals by view id. */
  views: Map<string, FakeView>;
  /** Published Home tab by user id. */
  homeViews: Map<string, FakeView>;
  /** How many calls were answered 429. */
  readonly rateLimited: number;
  setUsergroup(id: string, users: string[]): void;
  /** `{ perMinute }` limits the method (even with tiers off); `null` switches it off. */
  setRateLimit(method: string, limit: { perMinute: number } | null): void;
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
    return { body: { ...body, ...rest }, token: bearer };
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
  return { body, token: bearer ?? formToken, ...(error ? { error } : {}) };
}

export async function startFakeSlack(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
  const tokens = opts.tokens ?? ['xoxb-test'];
  const state = new FakeSlackState(opts.channels);
  for (const [id, users] of Object.entries(opts.usergroups ?? {})) state.usergroups.set(id, users);
  const limiter = new RateLimiter(opts.rateLimits === true, opts.tierScale ?? 1);
  const methods: Record<string, MethodSpec> = {
    ...chatMethods({ rejectLongText: opts.rejectLongText === true }),
    ...VIEW_METHODS,
    ...DIRECTORY_METHODS,
  };
  const calls: RecordedCall[] = [];
  let rateLimited = 0;

  function respond(res: ServerResponse, status: number, result: ApiResult, extra = {}): void {
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'x-oauth-scopes': fake.scopes.join(','),
      ...extra,
    });
    res.end(JSON.stringify(result));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
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
    const spec = methods[method];
    const answer = (result: ApiResult, status = 200, headers: Record<string, string> = {}) => {
      call.status = status;
      if (!result.ok) call.error = String(result.error);
      respond(res, status, result, headers);
    };
    if (!spec) return answer(fail('unknown_method', { req_method: method }));
    const acceptedScopes = spec.accepted ?? spec.scopes;
    const accepted: Record<string, string> =
      acceptedScopes.length > 0 ? { 'x-accepted-oauth-scopes': acceptedScopes.join(',') } : {};
    if (!parsed.token) return answer(fail('not_authed'), 200, accepted);
    if (!tokens.includes(parsed.token)) return answer(fail('invalid_auth'), 200, accepted);
    const decision = limiter.check(method, parsed.token, str(parsed.body.channel), call.at);
    if (!decision.allowed) {
      rateLimited += 1;
      return answer(fail('ratelimited'), 429, {
        ...accepted,
        'retry-after': String(decision.retryAfterSec),
      });
    }
    if (parsed.error) return answer(fail(parsed.error), 200, accepted);
    const missing = spec.scopes.find((s) => !fake.scopes.includes(s));
    if (missing) {
      const result = fail('missing_scope', { needed: missing, provided: fake.scopes.join(',') });
      return answer(result, 200, accepted);
    }
    return answer(spec.handle(parsed.body, { state, scopes: fake.scopes }), 200, accepted);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      // A bug in the fake, not a Slack answer: make it loud in the test that hit it.
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(err instanceof Error ? (err.stack ?? err.message) : String(err));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const fake: FakeSlack = {
    url: `http://127.0.0.1:${port}/api/`,
    calls,
    callsTo: (method) => calls.filter((c) => c.method === method),
    scopes: [...(opts.scopes ?? DEFAULT_SCOPES)],
    messages: state.messages,
    ephemerals: state.ephemerals,
    views: state.views,
    homeViews: state.homeViews,
    get rateLimited() {
      return rateLimited;
    },
    setUsergroup: (id, users) => void state.usergroups.set(id, [...users]),
    setRateLimit: (method, limit) => limiter.set(method, limit),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // WebClient's fetch keeps connections alive; without this close() waits for them.
        server.closeAllConnections();
      }),
  };
  return fake;
}
