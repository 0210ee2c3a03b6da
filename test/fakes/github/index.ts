/**
 * A fake GitHub REST API (api.github.com, version 2022-11-28) for the GitHub issues ITSM
 * adapter: repositories, issues, comments and labels with GitHub's wire format, paging by
 * Link header, token and GitHub App authentication, x-ratelimit-* headers on every answer,
 * and on demand the secondary (403 + retry-after + GitHub's message) and primary
 * (x-ratelimit-remaining 0 + x-ratelimit-reset) rate limits.
 *
 * Follows docs.github.com/en/rest/issues/{issues,comments,labels}, /rest/repos/repos,
 * /rest/using-the-rest-api/rate-limits-for-the-rest-api and the recorded exchanges of
 * github.com/octokit/fixtures (add-labels-to-issue, paginate-issues).
 */
import type { FakeTicket } from '../http/ticket-view.js';
import {
  startFakeHttp,
  type FakeHttpServer,
  type FakeRequest,
  type FakeResponse,
} from '../http/server.js';
import { FakeCredentials, bearer, type FakeApp } from './auth.js';
import { githubRoutes } from './routes.js';
import { GitHubState, type FakeCredential, type FakeIssue } from './state.js';
import {
  PRIMARY_LIMIT_MESSAGE,
  SECONDARY_LIMIT_DOCS,
  SECONDARY_LIMIT_MESSAGE,
  notFound,
  rateHeaders,
} from './wire.js';

export type { FakeApp } from './auth.js';
export type { FakeCredential, FakeIssue, FakeRepo } from './state.js';

export const FAKE_GITHUB_TOKEN = 'ghp_patchopsFakeToken0000000000000000001';

export interface FakeGitHubOptions {
  /** Repositories that exist, "owner/name" (default ["acme/patching"]). */
  repos?: string[];
  /** The main token (sees every repository, write access); default FAKE_GITHUB_TOKEN. */
  token?: string;
  /** More tokens with narrower access. */
  tokens?: Record<string, FakeCredential>;
  /** A GitHub App installation that may trade JWTs for installation tokens. */
  app?: FakeApp;
}

export type { FakeTicket } from '../http/ticket-view.js';

export interface FakeGitHub extends Omit<FakeHttpServer, 'url'> {
  url: string;
  state: GitHubState;
  /** Every issue of every repository, with its repository's name. */
  issues(): Array<FakeIssue & { repo: string }>;
  tickets(): FakeTicket[];
  /** The next `times` matching requests get GitHub's secondary rate limit answer. */
  secondaryRateLimit(o?: {
    method?: string;
    path?: RegExp;
    times?: number;
    retryAfterSeconds?: number;
    status?: 403 | 429;
  }): void;
  /** The next `times` matching requests find the hourly quota used up until `resetInSeconds`. */
  primaryRateLimit(o?: {
    method?: string;
    path?: RegExp;
    times?: number;
    resetInSeconds?: number;
  }): void;
}

const CLOSE_CODES = ['successful', 'successful_issues', 'unsuccessful', 'cancelled'];
const MARKER = /<!-- patchops:(?:correlation|comment)=([^\s>]*) -->/;
const stripMarker = (text: string) => text.replace(MARKER, '').trim();

export async function startFakeGitHub(opts: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  let url = '';
  const state = new GitHubState(() => url);
  for (const r of opts.repos ?? ['acme/patching']) state.addRepo(r);
  const creds = new FakeCredentials(opts.app);
  creds.tokens.set(opts.token ?? FAKE_GITHUB_TOKEN, { repos: '*', permission: 'write' });
  for (const [t, c] of Object.entries(opts.tokens ?? {})) creds.tokens.set(t, c);

  // Every answer carries the caller's quota, as GitHub's do.
  const used = new Map<string, number>();
  const reset = () => Math.floor(Date.now() / 1000) + 3600;
  const withQuota = (handler: (req: FakeRequest) => FakeResponse) => (req: FakeRequest) => {
    const who = bearer(req) ?? 'anonymous';
    used.set(who, (used.get(who) ?? 0) + 1);
    const answer = handler(req);
    return {
      ...answer,
      headers: { ...rateHeaders(5000 - used.get(who)!, reset()), ...answer.headers },
    };
  };
  const routes = githubRoutes(state, creds).map((r) => ({
    ...r,
    handler: withQuota(r.handler as (q: FakeRequest) => FakeResponse),
  }));
  const server = await startFakeHttp(
    routes,
    withQuota(() => notFound()),
  );
  url = server.url;

  const issues = () =>
    [...state.repos.values()].flatMap((r) =>
      r.issues.map((i) => ({ ...i, repo: `${r.owner}/${r.name}` })),
    );

  return {
    ...server,
    url,
    state,
    issues,
    tickets: () =>
      issues()
        .filter((i) => i.labels.some((l) => l.name === 'patchops'))
        .map((i): FakeTicket => {
          const id = `${i.repo}#${i.number}`;
          const names = i.labels.map((l) => l.name);
          const code = names.find(
            (n) => CLOSE_CODES.includes(n.replace(/^patchops:/, '')) && n.startsWith('patchops:'),
          );
          const correlation = MARKER.exec(i.body ?? '')?.[1];
          const cause = /^Caused by (?:(?<repo>[^\s#]+\/[^\s#]+))?#(?<n>\d+)/m.exec(i.body ?? '');
          return {
            id,
            number: id,
            kind: names.includes('patchops:incident') ? 'incident' : 'change',
            title: i.title,
            state: i.state,
            ...(code ? { closeCode: code.replace(/^patchops:/, '') } : {}),
            comments: i.comments.map((c) => stripMarker(c.body)),
            ...(correlation !== undefined ? { correlation: decodeURIComponent(correlation) } : {}),
            ...(cause ? { linkedTo: `${cause.groups!.repo ?? i.repo}#${cause.groups!.n}` } : {}),
          };
        }),
    secondaryRateLimit: (o = {}) =>
      server.fault({
        ...(o.method ? { method: o.method } : {}),
        ...(o.path ? { path: o.path } : {}),
        times: o.times ?? 1,
        status: o.status ?? 403,
        retryAfterSeconds: o.retryAfterSeconds ?? 1,
        body: { message: SECONDARY_LIMIT_MESSAGE, documentation_url: SECONDARY_LIMIT_DOCS },
        headers: rateHeaders(4000, reset()),
      }),
    primaryRateLimit: (o = {}) =>
      server.fault({
        ...(o.method ? { method: o.method } : {}),
        ...(o.path ? { path: o.path } : {}),
        times: o.times ?? 1,
        status: 403,
        body: {
          message: PRIMARY_LIMIT_MESSAGE,
          documentation_url:
            'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit',
        },
        headers: rateHeaders(0, Math.floor(Date.now() / 1000) + (o.resetInSeconds ?? 1)),
      }),
  };
}
