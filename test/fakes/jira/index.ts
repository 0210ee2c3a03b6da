/**
 * A fake Jira Cloud site following the Jira Cloud platform REST API v3 reference
 * (developer.atlassian.com/cloud/jira/platform/rest/v3: Issues, Issue comments, Issue
 * links, Issue properties, Issue search "search/jql", Myself, Projects), Atlassian's
 * Document Format spec, its rate-limiting page (429 + Retry-After, X-RateLimit-* and
 * RateLimit-Reason headers) and changelog CHANGE-2046 (the old /search answers 410 Gone).
 * Basic auth with e-mail + API token. Built on test/fakes/http/server.ts.
 */
import type { FakeTicket } from '../http/ticket-view.js';
import { startFakeHttp, type FakeHttpServer } from '../http/server.js';
import { adfText } from './adf.js';
import { jiraError } from './errors.js';
import type { JiraSite } from './issues.js';
import { jiraRoutes } from './routes.js';
import { SIMPLIFIED_WORKFLOW, type FakeIssue, type FakeWorkflow } from './state.js';

export { CHANGE_WORKFLOW, SIMPLIFIED_WORKFLOW, type FakeWorkflow } from './state.js';

/** The account the fake accepts unless told otherwise. */
export const FAKE_JIRA_EMAIL = 'ops@example.com';
export const FAKE_JIRA_TOKEN = 'ATATT3xFfGF0-fake-jira-token';

export interface FakeJiraOptions {
  email?: string;
  apiToken?: string;
  projects?: { key: string; name: string }[];
  issueTypes?: string[];
  /** Which issue type `tickets()` reports as an incident (default "Bug"). */
  incidentIssueType?: string;
  workflow?: FakeWorkflow;
  /** Most issues per search page (Jira's own cap is 5000 ids / 100 with fields). */
  searchPageSize?: number;
  /** Most comments per page. */
  commentPageSize?: number;
  /** Jira's search index trails writes: issues younger than this are not found yet. */
  searchLagMs?: number;
}

export type { FakeTicket } from '../http/ticket-view.js';

export interface FakeJira extends Omit<FakeHttpServer, 'fault'> {
  fault: FakeHttpServer['fault'];
  /** Queues Jira's 429 (Retry-After and rate-limit headers) for matching requests. */
  rateLimit(o: { path?: RegExp; method?: string; retryAfterSeconds: number; times?: number }): void;
  /** Takes a project permission away from the account, e.g. "ADD_COMMENTS", "TRANSITION_ISSUES". */
  deny(permission: string): void;
  issues(): FakeIssue[];
  tickets(): FakeTicket[];
}

export async function startFakeJira(opts: FakeJiraOptions = {}): Promise<FakeJira> {
  const email = opts.email ?? FAKE_JIRA_EMAIL;
  const apiToken = opts.apiToken ?? FAKE_JIRA_TOKEN;
  const expected = `Basic ${Buffer.from(`${email}:${apiToken}`).toString('base64')}`;
  let url = '';
  let ids = 10000;
  const counters = new Map<string, number>();
  const site: JiraSite = {
    base: () => url,
    projects: (opts.projects ?? [{ key: 'OPS', name: 'Operations' }]).map((p, n) => ({
      ...p,
      id: String(10000 + n),
    })),
    issueTypes: opts.issueTypes ?? ['Task', 'Bug', 'Story', 'Epic', 'Subtask'],
    workflow: opts.workflow ?? SIMPLIFIED_WORKFLOW,
    issues: new Map(),
    links: [],
    nextId: () => String(++ids),
    nextKey: (p) => {
      const n = (counters.get(p) ?? 0) + 1;
      counters.set(p, n);
      return `${p}-${n}`;
    },
    commentPageSize: opts.commentPageSize ?? 100,
    denied: new Set(),
  };

  const routes = jiraRoutes(site, { email, expected, ...opts });

  const server = await startFakeHttp(routes, () => jiraError(404, ['null for uri: not found']));
  url = server.url;
  const incidentType = (opts.incidentIssueType ?? 'Bug').toLowerCase();
  return {
    ...server,
    rateLimit: (o) =>
      server.fault({
        ...(o.method ? { method: o.method } : {}),
        ...(o.path ? { path: o.path } : {}),
        times: o.times ?? 1,
        status: 429,
        retryAfterSeconds: o.retryAfterSeconds,
        headers: {
          'X-RateLimit-Limit': '350',
          'X-RateLimit-Remaining': '0',
          'X-RateLimit-Reset':
            new Date(Date.now() + o.retryAfterSeconds * 1000).toISOString().slice(0, 16) + 'Z',
          'RateLimit-Reason': 'jira-burst-based',
        },
      }),
    deny: (p) => site.denied.add(p),
    issues: () => [...site.issues.values()],
    tickets: () =>
      [...site.issues.values()].map((i) => {
        const link = site.links.find((l) => l.inward === i.key || l.outward === i.key);
        const memo = i.properties.patchops as { key?: unknown } | undefined;
        const close = i.labels.find((l) => l.startsWith('patchops-close-'));
        return {
          id: i.key,
          number: i.key,
          kind: i.issueType.toLowerCase() === incidentType ? 'incident' : 'change',
          title: i.summary,
          state: i.status,
          ...(close ? { closeCode: close.slice('patchops-close-'.length) } : {}),
          comments: i.comments.map((c) => adfText(c.body)),
          ...(typeof memo?.key === 'string' ? { correlation: memo.key } : {}),
          ...(link ? { linkedTo: link.inward === i.key ? link.outward : link.inward } : {}),
        };
      }),
  };
}
