import {
  json,
  type FakeRequest,
  type FakeResponse,
  type Handler,
  type Route,
} from '../http/server.js';
import {
  issueNotFound,
  jiraError,
  projectNotFound,
  searchRemoved,
  unauthorized,
} from './errors.js';
import {
  addComment,
  createIssue,
  createLink,
  doTransition,
  editIssue,
  issueJson,
  listComments,
  listTransitions,
  str,
  type JiraSite,
} from './issues.js';
import { JqlError, parseJql } from './jql.js';
import type { FakeIssue } from './state.js';

/** nextPageToken is opaque to clients; here it is the base64url of an offset. */
const page = (token: string | null): number => {
  if (token === null) return 0;
  const n = Number(Buffer.from(token, 'base64url').toString());
  if (!Number.isInteger(n) || n < 0)
    throw new JqlError('The provided next page token is invalid or expired.');
  return n;
};

/** The REST v3 routes of the fake site, every one behind basic auth. */
export function jiraRoutes(
  site: JiraSite,
  opts: { email: string; expected: string; searchLagMs?: number; searchPageSize?: number },
): Route[] {
  const { email, expected } = opts;
  type H = (req: FakeRequest) => FakeResponse;
  const authed =
    (h: Handler): Handler =>
    (req) =>
      req.headers.authorization === expected ? h(req) : unauthorized();
  const onIssue =
    (h: (i: FakeIssue, req: FakeRequest) => FakeResponse): H =>
    (req) => {
      const key = decodeURIComponent(req.params.key ?? '');
      const i = site.issues.get(key) ?? [...site.issues.values()].find((x) => x.id === key);
      return i ? h(i, req) : issueNotFound();
    };

  const search: H = (req) => {
    const src =
      req.method === 'GET' ? Object.fromEntries(req.query) : (req.body as Record<string, unknown>);
    try {
      const jql = parseJql(str(src.jql));
      const visibleBefore = Date.now() - (opts.searchLagMs ?? 0);
      const all = [...site.issues.values()]
        .filter((i) => i.createdAt <= visibleBefore && jql.filter(i))
        .sort(jql.order);
      const start = page(typeof src.nextPageToken === 'string' ? src.nextPageToken : null);
      const size = Math.min(Number(src.maxResults ?? 50), opts.searchPageSize ?? 100);
      const rows = all.slice(start, start + size);
      const fields = Array.isArray(src.fields) ? src.fields.join(',') : str(src.fields) || 'id';
      const q = new URLSearchParams({ fields });
      const isLast = start + size >= all.length;
      return json(200, {
        issues: rows.map((i) => {
          const full = issueJson(site, i, { ...req, query: q });
          return fields === 'id' ? { id: full.id, self: full.self, key: full.key } : full;
        }),
        // Absent on the last page (JRACLOUD-92184), not null.
        ...(isLast
          ? {}
          : { nextPageToken: Buffer.from(String(start + size)).toString('base64url') }),
        isLast,
      });
    } catch (err) {
      if (err instanceof JqlError) return jiraError(400, [err.message]);
      throw err;
    }
  };

  const I = '/rest/api/3/issue/(?<key>[^/]+)';
  const table: Route[] = [
    {
      method: 'GET',
      pattern: /^\/rest\/api\/3\/myself$/,
      handler: () =>
        json(200, {
          accountId: '5b10a2844c20165700ede21g',
          emailAddress: email,
          displayName: 'patchops bot',
          active: true,
          timeZone: 'UTC',
          accountType: 'atlassian',
        }),
    },
    {
      method: 'GET',
      pattern: /^\/rest\/api\/3\/project\/(?<key>[^/]+)$/,
      handler: (req) => {
        const key = decodeURIComponent(req.params.key!);
        const p = site.projects.find((x) => x.key === key.toUpperCase() || x.id === key);
        if (!p) return projectNotFound(key);
        return json(200, {
          self: `${site.base()}/rest/api/3/project/${p.id}`,
          id: p.id,
          key: p.key,
          name: p.name,
          projectTypeKey: 'software',
          simplified: false,
          issueTypes: site.issueTypes.map((n, k) => ({
            id: String(10001 + k),
            name: n,
            subtask: n === 'Subtask',
          })),
        });
      },
    },
    {
      method: 'POST',
      pattern: /^\/rest\/api\/3\/issue$/,
      handler: (req) => createIssue(site, req),
    },
    {
      method: 'POST',
      pattern: /^\/rest\/api\/3\/issueLink$/,
      handler: (req) => createLink(site, req),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${I}$`),
      handler: onIssue((i, req) => json(200, issueJson(site, i, req))),
    },
    {
      method: 'PUT',
      pattern: new RegExp(`^${I}$`),
      handler: onIssue((i, req) => editIssue(site, i, req)),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${I}/comment$`),
      handler: onIssue((i, req) => listComments(site, i, req)),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${I}/comment$`),
      handler: onIssue((i, req) => addComment(site, i, req)),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${I}/transitions$`),
      handler: onIssue((i) => listTransitions(site, i)),
    },
    {
      method: 'POST',
      pattern: new RegExp(`^${I}/transitions$`),
      handler: onIssue((i, req) => doTransition(site, i, req)),
    },
    {
      method: 'GET',
      pattern: new RegExp(`^${I}/properties/(?<prop>[^/]+)$`),
      handler: onIssue((i, req) => {
        const prop = decodeURIComponent(req.params.prop!);
        return prop in i.properties
          ? json(200, { key: prop, value: i.properties[prop] })
          : jiraError(404, [`The property with key '${prop}' does not exist.`]);
      }),
    },
    {
      method: 'PUT',
      pattern: new RegExp(`^${I}/properties/(?<prop>[^/]+)$`),
      handler: onIssue((i, req) => {
        const prop = decodeURIComponent(req.params.prop!);
        if (req.body === null || typeof req.body === 'string')
          return jiraError(400, ['The property value must be valid JSON.']);
        const existed = prop in i.properties;
        i.properties[prop] = req.body;
        return { status: existed ? 200 : 201 };
      }),
    },
    { method: 'GET', pattern: /^\/rest\/api\/3\/search\/jql$/, handler: search },
    { method: 'POST', pattern: /^\/rest\/api\/3\/search\/jql$/, handler: search },
    { method: 'GET', pattern: /^\/rest\/api\/[23]\/search$/, handler: () => searchRemoved() },
    { method: 'POST', pattern: /^\/rest\/api\/[23]\/search$/, handler: () => searchRemoved() },
  ];
  const routes = table.map((r) => ({ ...r, handler: authed(r.handler) }));
  return routes;
}
