/**
 * The parts of GitHub's REST answers patchops reads (docs.github.com/en/rest/issues,
 * API version 2022-11-28). Unknown fields pass through; a missing or mistyped field we
 * rely on fails the call naming it.
 */
import { z } from 'zod';

/** An issue's labels come as objects; the schema also allows bare names. */
const label = z.union([z.string().transform((name) => ({ name })), z.object({ name: z.string() })]);

export const issueSchema = z.object({
  number: z.number().int().positive(),
  html_url: z.string().url(),
  title: z.string(),
  state: z.enum(['open', 'closed']),
  /** completed, not_planned, reopened, duplicate; null while open. Kept loose: GitHub adds values. */
  state_reason: z.string().nullable().optional(),
  body: z.string().nullable().optional(),
  labels: z.array(label),
  /** Present when the "issue" is a pull request: the issues list includes them. */
  pull_request: z.unknown().optional(),
});
export type WireIssue = z.output<typeof issueSchema>;

export const issueListSchema = z.array(issueSchema);

export const commentSchema = z.object({
  id: z.number().int(),
  body: z.string().nullable().optional(),
  html_url: z.string().url(),
});
export const commentListSchema = z.array(commentSchema);

/** POST /repos/{o}/{r}/issues/{n}/labels answers the issue's whole label set. */
export const labelListSchema = z.array(z.object({ name: z.string() }));

export const repositorySchema = z.object({
  full_name: z.string(),
  has_issues: z.boolean(),
  archived: z.boolean().optional(),
  /** The caller's role on the repository; absent for some installation tokens. */
  permissions: z
    .object({
      admin: z.boolean().optional(),
      maintain: z.boolean().optional(),
      push: z.boolean().optional(),
      triage: z.boolean().optional(),
      pull: z.boolean().optional(),
    })
    .optional(),
});

export const labelNames = (issue: WireIssue): string[] => issue.labels.map((l) => l.name);
