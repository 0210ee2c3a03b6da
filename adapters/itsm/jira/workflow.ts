import type { TicketStage } from '../types.js';
import { z } from 'zod';
import { PROPERTY_KEY } from './correlation.js';
import type { JiraIssue, JiraTransition } from './wire.js';

/** What patchops remembers on the issue (entity property "patchops"). */
export interface IssueMemo {
  /** The write key the issue was opened with. */
  key?: string;
  /** The status each stage moved the issue to, written just before the transition. */
  stages?: Partial<Record<TicketStage, string>>;
}

const same = (a: string, b: string) =>
  a.localeCompare(b, undefined, { sensitivity: 'accent' }) === 0;

const memoSchema = z.looseObject({
  key: z.string().optional(),
  stages: z.partialRecord(z.enum(['approved', 'implementing']), z.string()).optional(),
});

/**
 * The memo on the issue. One edited by hand into another shape counts as absent: the
 * status checks in `reached` still hold, and the next advance writes a well-formed memo.
 */
export function memoOf(issue: JiraIssue): IssueMemo {
  const r = memoSchema.safeParse(issue.properties?.[PROPERTY_KEY]);
  return r.success ? r.data : {};
}

/** The offered transition with this name (Jira's ids differ per workflow; names are configured). */
export function offered(issue: JiraIssue, name: string): JiraTransition | undefined {
  return issue.transitions?.find((t) => same(t.name, name));
}

export const isDone = (issue: JiraIssue): boolean =>
  issue.fields.status.statusCategory.key === 'done';

const LATER: Record<TicketStage, TicketStage[]> = { approved: ['implementing'], implementing: [] };

/**
 * Whether the issue is at `stage` or beyond, so advancing would do nothing or go backwards.
 * Jira has no stage order of its own, so it is read from several signs, any one enough:
 * the status category is done; patchops recorded this stage's target status (or a later
 * stage) and the issue is there; the named transition loops to the current status; the
 * transition is not offered and the status bears its name (Jira does not offer a move to
 * the status an issue is in, and default workflows name transitions after statuses); or,
 * for `approved`, work has started (status "In Progress"-like) and the transition would
 * lead back to a To Do status.
 */
export function reached(issue: JiraIssue, stage: TicketStage, name: string): boolean {
  const status = issue.fields.status;
  if (isDone(issue)) return true;
  const memo = memoOf(issue).stages ?? {};
  if (memo[stage] !== undefined && same(memo[stage], status.name)) return true;
  if (LATER[stage].some((s) => memo[s] !== undefined)) return true;
  const t = offered(issue, name);
  if (t && same(t.to.name, status.name)) return true;
  if (!t && same(status.name, name)) return true;
  return (
    stage === 'approved' &&
    status.statusCategory.key === 'indeterminate' &&
    (!t || t.to.statusCategory.key === 'new')
  );
}

/** "To Do", "In Progress" — for messages that say what Jira offered instead. */
export const offeredNames = (issue: JiraIssue): string =>
  (issue.transitions ?? []).map((t) => `"${t.name}"`).join(', ') || 'none';
