/**
 * Finding what an earlier attempt wrote, by the marker it left. The issues list (not the
 * search API, whose index lags behind writes) narrowed to patchops' labels, newest first,
 * so a recent ticket is usually on the first page; comments are walked oldest first.
 */
import type { GitHubClient } from './client.js';
import { hasMarker } from './render.js';
import { commentListSchema, issueListSchema, type WireIssue } from './wire.js';

export interface Repo {
  owner: string;
  name: string;
}

export const BASE_LABEL = 'patchops';

export function findIssueByMarker(
  gh: GitHubClient,
  repo: Repo,
  kindLabel: string,
  marker: string,
  pageSize: number,
): Promise<WireIssue | undefined> {
  return gh.find(
    'GET /repos/{owner}/{repo}/issues',
    {
      owner: repo.owner,
      repo: repo.name,
      labels: `${BASE_LABEL},${kindLabel}`,
      state: 'all',
      sort: 'created',
      direction: 'desc',
      per_page: pageSize,
    },
    issueListSchema,
    // The list holds pull requests too; a marker in a PR body is not ours.
    (issue) => (!issue.pull_request && hasMarker(issue.body, marker) ? issue : undefined),
  );
}

export async function hasCommentWithMarker(
  gh: GitHubClient,
  repo: Repo,
  issueNumber: number,
  marker: string,
  pageSize: number,
): Promise<boolean> {
  const hit = await gh.find(
    'GET /repos/{owner}/{repo}/issues/{issue_number}/comments',
    { owner: repo.owner, repo: repo.name, issue_number: issueNumber, per_page: pageSize },
    commentListSchema,
    (c) => (hasMarker(c.body, marker) ? true : undefined),
  );
  return hit === true;
}
