/**
 * The Table API routes of the fake instance: authentication first, then the per-user rate
 * limit, then role checks the way ACLs show through REST (a list query naming fields the
 * user cannot read is 403; a record the user cannot read is 404; writes are 403), then the
 * record work. See index.ts for the documents it follows.
 */
import { json, type FakeRequest, type FakeResponse, type Route } from '../http/server.js';
import * as body from './bodies.js';
import type { FakeDb, FakeUser } from './db.js';
import { TABLES, type Row, type TableDef } from './model.js';
import { linkHeader, parseQuery, runQuery } from './query.js';
import { insertRecord, updateRecord } from './writes.js';

export interface Caller {
  user: FakeUser;
  row: Row;
}

type Authenticate = (req: FakeRequest) => Caller | FakeResponse;
type Handler = (req: FakeRequest, def: TableDef, caller: Caller) => FakeResponse;

const RATE_RULE = '3f0c5a7e1b2d4c6e8f9a0b1c2d3e4f50';
const PATH = /^\/api\/now\/(?:v\d+\/)?table\/(?<table>[A-Za-z0-9_]+)$/;
const RECORD = /^\/api\/now\/(?:v\d+\/)?table\/(?<table>[A-Za-z0-9_]+)\/(?<id>[^/]+)$/;

const allowed = (roles: readonly string[], user: FakeUser) =>
  roles.length === 0 || user.roles.includes('admin') || roles.some((r) => user.roles.includes(r));

function rateLimiter(limit?: { limit: number; windowMs?: number }) {
  const windows = new Map<string, { start: number; count: number }>();
  return (user: string): { headers: Record<string, string>; refused?: FakeResponse } => {
    if (!limit) return { headers: {} };
    const span = limit.windowMs ?? 3_600_000;
    const now = Date.now();
    let w = windows.get(user);
    if (!w || now >= w.start + span) windows.set(user, (w = { start: now, count: 0 }));
    const end = w.start + span;
    const headers = {
      'X-RateLimit-Limit': String(limit.limit),
      'X-RateLimit-Reset': String(Math.ceil(end / 1000)),
      'X-RateLimit-Rule': RATE_RULE,
    };
    if (w.count >= limit.limit) {
      const retry = {
        ...headers,
        'Retry-After': String(Math.max(1, Math.ceil((end - now) / 1000))),
      };
      return { headers, refused: body.rateLimited(limit.limit, retry) };
    }
    w.count++;
    return { headers };
  };
}

export function tableRoutes(
  db: FakeDb,
  authenticate: Authenticate,
  limit?: { limit: number; windowMs?: number },
): Route[] {
  const rate = rateLimiter(limit);
  const wrap =
    (handler: Handler) =>
    (req: FakeRequest): FakeResponse => {
      const caller = authenticate(req);
      if (!('user' in caller)) return caller;
      const r = rate(caller.user.username);
      if (r.refused) return r.refused;
      const def = TABLES[req.params.table ?? ''];
      const answer = def ? handler(req, def, caller) : body.invalidTable(req.params.table ?? '');
      return { ...answer, headers: { ...r.headers, ...answer.headers } };
    };
  const render = (def: TableDef, row: Row, req: FakeRequest) => db.render(def, row, req.query);

  const list: Handler = (req, def, { user }) => {
    const q = parseQuery(req.query.get('sysparm_query') ?? '', def.fields);
    const readable = allowed(def.read, user);
    if (!readable && q.hasConditions) return body.queryForbidden();
    const rows = readable ? runQuery(db.table(def.name), q) : [];
    const limitN = Math.max(1, Number(req.query.get('sysparm_limit') ?? 10000) || 10000);
    const offset = Math.max(0, Number(req.query.get('sysparm_offset') ?? 0) || 0);
    const page = rows.slice(offset, offset + limitN);
    const headers: Record<string, string> = {};
    if (req.query.get('sysparm_no_count') !== 'true')
      headers['X-Total-Count'] = String(rows.length);
    if (req.query.get('sysparm_suppress_pagination_header') !== 'true') {
      headers.Link = linkHeader(`${db.url()}${req.path}`, req.query, offset, limitN, rows.length);
    }
    return json(200, { result: page.map((r) => render(def, r, req)) }, headers);
  };

  const get: Handler = (req, def, { user }) => {
    const row = db.byId(def.name, req.params.id ?? '');
    if (!row || !allowed(def.read, user)) return body.noRecord();
    return json(200, { result: render(def, row, req) });
  };

  const insert: Handler = (req, def, caller) => {
    if (!allowed(def.write, caller.user)) return body.aclRefused('Insert');
    if (!req.body || typeof req.body !== 'object' || Array.isArray(req.body)) return body.badJson();
    const r = insertRecord(db, def, req.body as Record<string, unknown>, caller.row);
    if ('error' in r) return r.error;
    const location = `${db.url()}/api/now/table/${def.name}/${r.row.sys_id}`;
    return json(201, { result: render(def, r.row, req) }, { Location: location });
  };

  const update: Handler = (req, def, caller) => {
    const row = db.byId(def.name, req.params.id ?? '');
    if (!row || !allowed(def.read, caller.user)) return body.noRecord();
    if (!allowed(def.write, caller.user)) return body.aclRefused('Update');
    if (!req.body || typeof req.body !== 'object' || Array.isArray(req.body)) return body.badJson();
    const refused = updateRecord(db, def, row, req.body as Record<string, unknown>, caller.row);
    return refused ?? json(200, { result: render(def, row, req) });
  };

  return [
    { method: 'GET', pattern: PATH, handler: wrap(list) },
    { method: 'POST', pattern: PATH, handler: wrap(insert) },
    { method: 'GET', pattern: RECORD, handler: wrap(get) },
    { method: 'PATCH', pattern: RECORD, handler: wrap(update) },
    { method: 'PUT', pattern: RECORD, handler: wrap(update) },
  ];
}
