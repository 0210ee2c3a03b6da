/**
 * A fake ServiceNow instance for contract and e2e tests: the Table API
 * (/api/now/[v2/]table/{table}[/{sys_id}]) over change_request, incident, sys_journal_field,
 * sys_user_group and sys_user, with basic auth and OAuth client credentials
 * (/oauth_token.do), role-based ACLs, paging with Link + X-Total-Count, the change state
 * model and inbound REST rate limiting (429 + Retry-After).
 *
 * Follows ServiceNow's documentation (github.com/ServiceNow/ServiceNowDocs, australia):
 * api-reference/rest-apis/c_TableAPI.md, rest-api-explorer/r_RESTAPIHTTPResponseCodes.md,
 * rest-api-explorer/inbound-REST-API-rate-limiting.md, rest-api-explorer/r_RESTOAuthExample.md,
 * platform-security/authentication/client-credentials-grant-workflow.md and the change
 * management pages named in model.ts. Error bodies: bodies.ts.
 */
import type { FakeTicket } from '../http/ticket-view.js';
import { randomBytes } from 'node:crypto';
import {
  json,
  startFakeHttp,
  type FakeHttpServer,
  type FakeRequest,
  type FakeResponse,
} from '../http/server.js';
import * as body from './bodies.js';
import { FakeDb, newSysId, type FakeUser } from './db.js';
import { CHANGE_STATES, INCIDENT_STATES, type Row } from './model.js';
import { tableRoutes, type Caller } from './routes.js';

export type { FakeUser } from './db.js';

export interface FakeServiceNowOptions {
  /** Default: one integration user "patchops.integration" with the itil role. */
  users?: FakeUser[];
  /** OAuth clients (client credentials grant), each acting as one of the users. */
  oauthClients?: Array<{ clientId: string; clientSecret: string; user: string }>;
  /** Lifetime of an access token, seconds (the instance's default is 1,799). */
  tokenTtlSeconds?: number;
  /** Assignment groups by name. Default: "Patch Management", "Service Desk". */
  groups?: string[];
  /** Inbound REST rate limit per user: `limit` requests per window (default one hour). */
  rateLimit?: { limit: number; windowMs?: number };
}

export type { FakeTicket } from '../http/ticket-view.js';

export interface FakeServiceNow extends Omit<FakeHttpServer, 'close'> {
  close(): Promise<void>;
  changes(): Row[];
  incidents(): Row[];
  /** Journal rows (sys_journal_field), oldest first. */
  journal(): Row[];
  tickets(): FakeTicket[];
  /** Group sys_ids by name. */
  groups: Record<string, string>;
  /** Makes every issued token expire now (the next call with one answers 401). */
  expireTokens(): void;
  users: FakeUser[];
}

export const DEFAULT_USER: FakeUser = {
  username: 'patchops.integration',
  password: 'Integration-Pa55word!',
  roles: ['itil'],
  name: 'patchops Integration',
};
export const DEFAULT_CLIENT = {
  clientId: '8d3f1a2b9c4e4f0a8b7c6d5e4f3a2b1c',
  clientSecret: 'Client-S3cret-Value-0042',
  user: DEFAULT_USER.username,
};

export async function startFakeServiceNow(
  opts: FakeServiceNowOptions = {},
): Promise<FakeServiceNow> {
  const users = opts.users ?? [DEFAULT_USER];
  const clients = opts.oauthClients ?? [DEFAULT_CLIENT];
  const ttl = opts.tokenTtlSeconds ?? 1799;
  const tokens = new Map<string, { user: string; expires: number }>();
  let url = '';
  const db = new FakeDb(() => url);
  const userRows = new Map<string, Row>();
  for (const u of users) {
    const row: Row = {
      sys_id: newSysId(),
      user_name: u.username,
      name: u.name ?? u.username,
      active: 'true',
    };
    db.table('sys_user').push(row);
    userRows.set(u.username, row);
  }
  const groups: Record<string, string> = {};
  for (const name of opts.groups ?? ['Patch Management', 'Service Desk']) {
    groups[name] = newSysId();
    db.table('sys_user_group').push({
      sys_id: groups[name],
      name,
      description: '',
      active: 'true',
    });
  }

  const authenticate = (req: FakeRequest): Caller | FakeResponse => {
    const header = String(req.headers.authorization ?? '');
    const [scheme, cred = ''] = header.split(' ');
    let user: FakeUser | undefined;
    if (scheme?.toLowerCase() === 'basic') {
      const text = Buffer.from(cred, 'base64').toString('utf8');
      const i = text.indexOf(':');
      user = users.find((u) => u.username === text.slice(0, i) && u.password === text.slice(i + 1));
    } else if (scheme?.toLowerCase() === 'bearer') {
      const t = tokens.get(cred);
      if (t && t.expires > Date.now()) user = users.find((u) => u.username === t.user);
      if (!user) return body.notAuthenticated(false);
    }
    if (!user) return body.notAuthenticated(true);
    return { user, row: userRows.get(user.username)! };
  };

  const token = (req: FakeRequest): FakeResponse => {
    const form = (req.body ?? {}) as Record<string, string>;
    const client = clients.find(
      (c) => c.clientId === form.client_id && c.clientSecret === form.client_secret,
    );
    if (form.grant_type !== 'client_credentials' || !client) return body.oauthDenied();
    const access = randomBytes(64).toString('base64url');
    tokens.set(access, { user: client.user, expires: Date.now() + ttl * 1000 });
    return json(200, {
      access_token: access,
      scope: 'useraccount',
      token_type: 'Bearer',
      expires_in: ttl,
    });
  };

  const server = await startFakeHttp(
    [
      { method: 'POST', pattern: /^\/oauth_token\.do$/, handler: token },
      ...tableRoutes(db, authenticate, opts.rateLimit),
    ],
    (req) =>
      req.path.startsWith('/api/') ? body.noResource(req.path) : json(404, { error: 'Not Found' }),
  );
  url = server.url;

  const copy = (rows: Row[]) => rows.map((r) => ({ ...r }));
  const tickets = (): FakeTicket[] => [
    ...db.table('change_request').map((r) => ticket(db, r, 'change')),
    ...db.table('incident').map((r) => ticket(db, r, 'incident')),
  ];
  return {
    ...server,
    changes: () => copy(db.table('change_request')),
    incidents: () => copy(db.table('incident')),
    journal: () => copy(db.table('sys_journal_field')),
    tickets,
    groups,
    users,
    expireTokens: () => {
      for (const t of tokens.values()) t.expires = 0;
    },
  };
}

function ticket(db: FakeDb, r: Row, kind: 'change' | 'incident'): FakeTicket {
  const states = kind === 'change' ? CHANGE_STATES : INCIDENT_STATES;
  return {
    id: r.sys_id!,
    number: r.number!,
    kind,
    title: r.short_description ?? '',
    state: states[r.state ?? ''] ?? r.state ?? '',
    ...(r.close_code ? { closeCode: r.close_code } : {}),
    comments: db.journal(r.sys_id!, 'work_notes').map((j) => j.value!),
    ...(r.correlation_id ? { correlation: r.correlation_id } : {}),
    ...(kind === 'incident' && r.caused_by ? { linkedTo: r.caused_by } : {}),
    ...(kind === 'change' ? { type: r.type } : {}),
  };
}
