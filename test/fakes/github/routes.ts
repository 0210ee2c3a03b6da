/**
 * The REST endpoints patchops' GitHub adapter uses, per docs.github.com/en/rest/issues
 * (issues, comments, labels) and /rest/repos/repos#get-a-repository.
 */
import type { FakeRequest, FakeResponse, Route } from '../http/server.js';
import type { FakeCredentials } from './auth.js';
import type { FakeCredential, FakeIssue, FakeRepo, GitHubState } from './state.js';
import { ghError, notFound, paginate, validationFailed } from './wire.js';

const REPO = String.raw`(?:repos/(?<owner>[^/]+)/(?<repo>[^/]+)|repositories/(?<rid>\d+))`;
const re = (tail: string) => new RegExp(`^/${REPO}${tail}$`);

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

type Ctx = { repo: FakeRepo; cred: FakeCredential };

export function githubRoutes(state: GitHubState, creds: FakeCredentials): Route[] {
  /** Credentials first (401), then a repository the credential can see (else 404). */
  const withRepo =
    (fn: (req: FakeRequest, ctx: Ctx) => FakeResponse) =>
    (req: FakeRequest): FakeResponse => {
      const cred = creds.of(req);
      if ('status' in cred) return cred;
      const p = req.params;
      const repo = p.rid ? state.repoById(Number(p.rid)) : state.repo(p.owner ?? '', p.repo ?? '');
      if (!repo) return notFound();
      const full = `${repo.owner}/${repo.name}`.toLowerCase();
      if (cred.repos !== '*' && !cred.repos.some((r) => r.toLowerCase() === full))
        return notFound();
      if (!repo.has_issues && /\/issues/.test(req.path))
        return ghError(410, 'Issues are disabled for this repo');
      return fn(req, { repo, cred });
    };
  const withIssue = (fn: (req: FakeRequest, ctx: Ctx & { issue: FakeIssue }) => FakeResponse) =>
    withRepo((req, ctx) => {
      const issue = ctx.repo.issues.find((i) => i.number === Number(req.params.n));
      return issue ? fn(req, { ...ctx, issue }) : notFound();
    });
  const labelNames = (raw: unknown): string[] | undefined => {
    if (!Array.isArray(raw)) return undefined;
    const names = raw.map((l: unknown) =>
      typeof l === 'string'
        ? l
        : typeof l === 'object' && l
          ? (l as { name?: unknown }).name
          : undefined,
    );
    return names.every((n): n is string => typeof n === 'string' && n.length > 0)
      ? names
      : undefined;
  };
  const body = (req: FakeRequest) =>
    req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {};

  return [
    {
      method: 'GET',
      pattern: re(''),
      handler: withRepo((_req, { repo, cred }) => ({
        status: 200,
        body: state.repoJson(repo, cred),
      })),
    },
    {
      method: 'GET',
      pattern: re('/issues'),
      handler: withRepo((req, { repo }) => {
        const st = req.query.get('state') ?? 'open';
        const want = (req.query.get('labels') ?? '')
          .split(',')
          .map((l) => l.trim().toLowerCase())
          .filter(Boolean);
        const desc = (req.query.get('direction') ?? 'desc') === 'desc';
        const items = repo.issues
          .filter((i) => st === 'all' || i.state === st)
          .filter((i) => want.every((w) => i.labels.some((l) => l.name.toLowerCase() === w)))
          .sort((a, b) => (desc ? b.number - a.number : a.number - b.number));
        const { page, headers } = paginate(
          items,
          req.query,
          `${state.apiUrl()}/repositories/${repo.id}/issues`,
        );
        return { status: 200, body: page.map((i) => state.issueJson(repo, i)), headers };
      }),
    },
    {
      method: 'POST',
      pattern: re('/issues'),
      handler: withRepo((req, { repo, cred }) => {
        const b = body(req);
        if (typeof b.title !== 'string' || !b.title) return validationFailed('Issue', 'title');
        const names = b.labels === undefined ? [] : labelNames(b.labels);
        if (!names) return validationFailed('Issue', 'labels', 'invalid');
        const at = now();
        const issue: FakeIssue = {
          id: state.id(),
          number: repo.issues.length + 1,
          title: b.title,
          body: typeof b.body === 'string' ? b.body : null,
          state: 'open',
          state_reason: null,
          // "Only users with push access can set labels for new issues. Labels are silently dropped otherwise."
          labels: cred.permission === 'write' ? names.map((n) => state.label(repo, n)) : [],
          comments: [],
          created_at: at,
          updated_at: at,
          closed_at: null,
        };
        repo.issues.push(issue);
        const json = state.issueJson(repo, issue);
        return { status: 201, body: json, headers: { Location: json.url } };
      }),
    },
    {
      method: 'GET',
      pattern: re(String.raw`/issues/(?<n>\d+)`),
      handler: withIssue((_req, { repo, issue }) => ({
        status: 200,
        body: state.issueJson(repo, issue),
      })),
    },
    {
      method: 'PATCH',
      pattern: re(String.raw`/issues/(?<n>\d+)`),
      handler: withIssue((req, { repo, issue, cred }) => {
        const b = body(req);
        if (cred.permission !== 'write')
          return ghError(403, 'Must have admin rights to Repository.');
        if (b.state !== undefined && b.state !== 'open' && b.state !== 'closed')
          return validationFailed('Issue', 'state', 'invalid');
        const reasons = ['completed', 'not_planned', 'reopened', 'duplicate', null];
        if (b.state_reason !== undefined && !reasons.includes(b.state_reason as string))
          return validationFailed('Issue', 'state_reason', 'invalid');
        const names = b.labels === undefined ? undefined : labelNames(b.labels);
        if (b.labels !== undefined && !names) return validationFailed('Issue', 'labels', 'invalid');
        if (typeof b.title === 'string') issue.title = b.title;
        if (typeof b.body === 'string') issue.body = b.body;
        // `labels` replaces the whole set: "Pass one or more labels to replace the set of labels".
        if (names) issue.labels = names.map((n) => state.label(repo, n));
        if (b.state === 'closed' && issue.state === 'open') {
          issue.state = 'closed';
          issue.closed_at = now();
          issue.state_reason = (b.state_reason as FakeIssue['state_reason']) ?? 'completed';
        } else if (b.state === 'open' && issue.state === 'closed') {
          issue.state = 'open';
          issue.closed_at = null;
          issue.state_reason = 'reopened';
        } else if (b.state_reason !== undefined && issue.state === 'closed') {
          issue.state_reason = b.state_reason as FakeIssue['state_reason'];
        }
        issue.updated_at = now();
        return { status: 200, body: state.issueJson(repo, issue) };
      }),
    },
    {
      method: 'GET',
      pattern: re(String.raw`/issues/(?<n>\d+)/comments`),
      handler: withIssue((req, { repo, issue }) => {
        const link = `${state.apiUrl()}/repositories/${repo.id}/issues/${issue.number}/comments`;
        const { page, headers } = paginate(issue.comments, req.query, link);
        return { status: 200, body: page.map((c) => state.commentJson(repo, issue, c)), headers };
      }),
    },
    {
      method: 'POST',
      pattern: re(String.raw`/issues/(?<n>\d+)/comments`),
      handler: withIssue((req, { repo, issue }) => {
        const b = body(req);
        if (typeof b.body !== 'string' || !b.body) return validationFailed('IssueComment', 'body');
        const c = { id: state.id(), body: b.body, created_at: now() };
        issue.comments.push(c);
        issue.updated_at = c.created_at;
        const json = state.commentJson(repo, issue, c);
        return { status: 201, body: json, headers: { Location: json.url } };
      }),
    },
    {
      method: 'POST',
      pattern: re(String.raw`/issues/(?<n>\d+)/labels`),
      handler: withIssue((req, { repo, issue, cred }) => {
        if (cred.permission !== 'write')
          return ghError(403, 'Must have admin rights to Repository.');
        // The body is {"labels": [...]} or, as GitHub also accepts, the bare array.
        const names = labelNames(Array.isArray(req.body) ? req.body : body(req).labels);
        if (!names) return validationFailed('Label', 'labels', 'invalid');
        for (const n of names)
          if (!issue.labels.some((l) => l.name.toLowerCase() === n.toLowerCase()))
            issue.labels.push(state.label(repo, n));
        issue.updated_at = now();
        return { status: 200, body: issue.labels.map((l) => state.labelJson(repo, l)) };
      }),
    },
    {
      method: 'POST',
      pattern: /^\/app\/installations\/(?<iid>\d+)\/access_tokens$/,
      handler: (req) => creds.issueInstallationToken(req, Number(req.params.iid)),
    },
  ];
}
