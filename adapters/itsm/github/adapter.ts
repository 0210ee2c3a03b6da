import type { Logger } from 'pino';
import type {
  IncidentDraft,
  ItsmAdapter,
  TicketClosure,
  TicketDraft,
  TicketRef,
  TicketStage,
  WriteOptions,
} from '../types.js';
import { ItsmError } from '../types.js';
import type { GitHubClient } from './client.js';
import { VENDOR } from './errors.js';
import { BASE_LABEL, findIssueByMarker, hasCommentWithMarker, type Repo } from './lookup.js';
import { changeBody, commentBody, commentMarker, incidentBody, issueMarker } from './render.js';
import { parseRepo, type GitHubSettings } from './settings.js';
import { testGitHubConnection } from './test-connection.js';
import { commentSchema, issueSchema, labelListSchema, labelNames, type WireIssue } from './wire.js';

export const LABELS = {
  change: 'patchops:change',
  incident: 'patchops:incident',
  emergency: 'patchops:emergency',
  approved: 'patchops:approved',
  implementing: 'patchops:implementing',
} as const;

/** Stages in order; a ticket at a later one is "further" and is left alone. */
const STAGES: readonly TicketStage[] = ['approved', 'implementing'];

/**
 * How a rollout's end reads on GitHub. `unsuccessful` closes as completed: the change was
 * carried out and ended (its outcome is the label and the comment); not_planned means it
 * was never done, which is what `cancelled` is.
 */
const STATE_REASON: Record<TicketClosure['code'], 'completed' | 'not_planned'> = {
  successful: 'completed',
  successful_issues: 'completed',
  unsuccessful: 'completed',
  cancelled: 'not_planned',
};

const REF = /^([^/#\s]+)\/([^/#\s]+)#(\d+)$/;

function refOf(repo: Repo, issue: WireIssue): TicketRef {
  const id = `${repo.owner}/${repo.name}#${issue.number}`;
  return { externalId: id, number: id, url: issue.html_url };
}

function parseRef(t: TicketRef): { repo: Repo; number: number } {
  const m = REF.exec(t.externalId);
  if (!m)
    throw new ItsmError(
      'INVALID_REQUEST',
      `GitHub ticket id "${t.externalId}" is not "owner/repo#number"`,
    );
  return { repo: { owner: m[1]!, name: m[2]! }, number: Number(m[3]) };
}

const unique = (xs: string[]) => [...new Set(xs.filter(Boolean))];

export function createGitHubAdapter(s: GitHubSettings, gh: GitHubClient, log: Logger): ItsmAdapter {
  const repoFor = (routing: { repo?: string }): Repo => {
    if (!routing.repo) return s.repo;
    const r = parseRepo(routing.repo);
    if (!r)
      throw new ItsmError(
        'CONFIG_INVALID',
        `tickets.repo "${routing.repo}" of the client's policy is not "owner/name"; fix the policy's tickets.repo`,
      );
    return r;
  };
  const at = (repo: Repo) => ({ owner: repo.owner, repo: repo.name });

  const getIssue = (repo: Repo, n: number) =>
    gh.call(
      'GET /repos/{owner}/{repo}/issues/{issue_number}',
      { ...at(repo), issue_number: n },
      issueSchema,
      'read',
    );

  /**
   * Creates an issue once per key: looks first when asked to (or after a create whose
   * outcome is unknown); a create that times out or meets a 5xx is looked up, and when it
   * is not found yet the OUTCOME_UNKNOWN stands so the caller retries with `recheck` later
   * (GitHub may still be finishing it; creating again now could make two).
   */
  async function createOnce(
    repo: Repo,
    kindLabel: string,
    key: string,
    recheck: boolean,
    issue: { title: string; body: string; labels: string[] },
  ): Promise<WireIssue> {
    const marker = issueMarker(key);
    if (recheck) {
      const found = await findIssueByMarker(gh, repo, kindLabel, marker, s.pageSize);
      if (found) return found;
    }
    let created: WireIssue;
    try {
      created = await gh.call(
        'POST /repos/{owner}/{repo}/issues',
        { ...at(repo), ...issue },
        issueSchema,
        'create',
      );
    } catch (err) {
      if (!(err instanceof ItsmError) || err.code !== 'OUTCOME_UNKNOWN') throw err;
      const found = await findIssueByMarker(gh, repo, kindLabel, marker, s.pageSize);
      if (found) return found;
      throw err;
    }
    if (!labelNames(created).includes(BASE_LABEL)) {
      // GitHub silently drops labels when the caller lacks triage/write access; without
      // them a retry cannot find this issue again.
      log.warn(
        { vendor: VENDOR, issue: `${repo.owner}/${repo.name}#${created.number}` },
        'GitHub dropped the labels of a new issue: give the token triage or write access to the repository',
      );
    }
    return created;
  }

  async function commentOnce(repo: Repo, n: number, text: string, key: string, recheck: boolean) {
    const marker = commentMarker(key);
    if (recheck && (await hasCommentWithMarker(gh, repo, n, marker, s.pageSize))) return;
    const route = 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments';
    const params = { ...at(repo), issue_number: n, body: commentBody(text, key) };
    try {
      await gh.call(route, params, commentSchema, 'create');
    } catch (err) {
      if (!(err instanceof ItsmError) || err.code !== 'OUTCOME_UNKNOWN') throw err;
      if (await hasCommentWithMarker(gh, repo, n, marker, s.pageSize)) return;
      throw err;
    }
  }

  return {
    kind: 'github',

    async open(draft: TicketDraft, opts: WriteOptions) {
      const repo = repoFor(draft.routing);
      const labels = unique([
        BASE_LABEL,
        LABELS.change,
        draft.emergency ? LABELS.emergency : '',
        ...s.labels,
        ...(draft.routing.labels ?? []),
      ]);
      const issue = await createOnce(repo, LABELS.change, opts.key, opts.recheck, {
        title: draft.title,
        body: changeBody(draft, opts.key),
        labels,
      });
      const ref = refOf(repo, issue);
      log.info(
        { vendor: VENDOR, ticket: ref.externalId, key: opts.key },
        'GitHub change issue ready',
      );
      return ref;
    },

    async comment(ticket, text, opts) {
      const { repo, number } = parseRef(ticket);
      await commentOnce(repo, number, text, opts.key, opts.recheck);
    },

    async advance(ticket, stage, note, opts) {
      const { repo, number } = parseRef(ticket);
      const issue = await getIssue(repo, number);
      const have = labelNames(issue);
      const reached = STAGES.slice(STAGES.indexOf(stage)).some((st) => have.includes(LABELS[st]));
      if (reached || issue.state === 'closed') return;
      // The note first: were it second, a retry would find the label, stop, and lose it.
      await commentOnce(repo, number, note, opts.key, opts.recheck);
      // POST adds to the set (PATCH `labels` would replace it, dropping labels people added
      // since we read it); adding a present label is a no-op, so a repeat is harmless.
      await gh.call(
        'POST /repos/{owner}/{repo}/issues/{issue_number}/labels',
        { ...at(repo), issue_number: number, labels: [LABELS[stage]] },
        labelListSchema,
        'set',
      );
    },

    async openIncident(change: TicketRef, draft: IncidentDraft, opts: WriteOptions) {
      const repo = repoFor(draft.routing);
      const c = parseRef(change);
      const same = c.repo.owner === repo.owner && c.repo.name === repo.name;
      const changeRef = same ? `#${c.number}` : change.externalId;
      const labels = unique([
        BASE_LABEL,
        LABELS.incident,
        ...s.labels,
        ...(draft.routing.labels ?? []),
      ]);
      const issue = await createOnce(repo, LABELS.incident, opts.key, opts.recheck, {
        title: draft.title,
        body: incidentBody(draft, changeRef, opts.key),
        labels,
      });
      const ref = refOf(repo, issue);
      log.warn(
        { vendor: VENDOR, ticket: ref.externalId, change: change.externalId },
        'GitHub incident issue ready',
      );
      const back = same ? `#${issue.number}` : ref.externalId;
      await commentOnce(
        c.repo,
        c.number,
        `Incident ${back} opened: ${draft.title}`,
        `${opts.key}#incident-link`,
        opts.recheck,
      );
      return ref;
    },

    async close(ticket: TicketRef, closure: TicketClosure, opts: WriteOptions) {
      const { repo, number } = parseRef(ticket);
      const issue = await getIssue(repo, number);
      if (issue.state === 'closed') return;
      const head = closure.code === 'cancelled' ? 'Cancelled' : `Closed: ${closure.code}`;
      await commentOnce(repo, number, `${head}\n\n${closure.notes}`, opts.key, opts.recheck);
      // One PATCH sets state and labels together. `labels` replaces the set, so it carries
      // the set just read plus the close code.
      await gh.call(
        'PATCH /repos/{owner}/{repo}/issues/{issue_number}',
        {
          ...at(repo),
          issue_number: number,
          state: 'closed',
          state_reason: STATE_REASON[closure.code],
          labels: unique([...labelNames(issue), `patchops:${closure.code}`]),
        },
        issueSchema,
        'set',
      );
      log.info(
        { vendor: VENDOR, ticket: ticket.externalId, code: closure.code },
        'GitHub change issue closed',
      );
    },

    testConnection: () => testGitHubConnection(s, gh),
  };
}
