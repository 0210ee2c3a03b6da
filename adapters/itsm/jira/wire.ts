import { z } from 'zod';

/**
 * The parts of Jira Cloud REST v3 answers patchops reads (developer.atlassian.com/cloud/
 * jira/platform/rest/v3: issues, issue comments, issue search, myself, projects). Objects
 * are loose: Jira adds fields freely, and only the ones below matter.
 */

/** statusCategory.key: "new" (To Do), "indeterminate" (In Progress) or "done". */
export const statusSchema = z.looseObject({
  id: z.string().optional(),
  name: z.string(),
  statusCategory: z.looseObject({ key: z.string() }),
});
export type JiraStatus = z.output<typeof statusSchema>;

export const transitionSchema = z.looseObject({
  id: z.string(),
  name: z.string(),
  to: statusSchema,
});
export type JiraTransition = z.output<typeof transitionSchema>;

/** POST /rest/api/3/issue → 201 */
export const createdIssueSchema = z.looseObject({ id: z.string(), key: z.string() });

const issueLinkSchema = z.looseObject({
  type: z.looseObject({ name: z.string() }),
  inwardIssue: z.looseObject({ key: z.string() }).optional(),
  outwardIssue: z.looseObject({ key: z.string() }).optional(),
});

/** GET /rest/api/3/issue/{key}?fields=status,labels,issuelinks&expand=transitions */
export const issueSchema = z.looseObject({
  id: z.string(),
  key: z.string(),
  fields: z.looseObject({
    status: statusSchema,
    labels: z.array(z.string()).optional(),
    issuelinks: z.array(issueLinkSchema).optional(),
  }),
  transitions: z.array(transitionSchema).optional(),
  /** Entity properties asked for with `properties=`; absent ones are left out. */
  properties: z.record(z.string(), z.unknown()).optional(),
});
export type JiraIssue = z.output<typeof issueSchema>;

/** GET /rest/api/3/search/jql → one page; `nextPageToken` is absent on the last page. */
export const searchPageSchema = z.looseObject({
  issues: z.array(z.looseObject({ id: z.string(), key: z.string() })),
  nextPageToken: z.string().nullish(),
  isLast: z.boolean().optional(),
});

/** GET /rest/api/3/issue/{key}/comment → PageOfComments */
export const commentPageSchema = z.looseObject({
  startAt: z.number(),
  maxResults: z.number(),
  total: z.number(),
  comments: z.array(z.looseObject({ id: z.string(), body: z.unknown() })),
});

/** POST /rest/api/3/issue/{key}/comment → 201 Comment */
export const commentSchema = z.looseObject({ id: z.string() });

/** 204 No Content (transitions, edits) and 201 with an empty body (issueLink). */
export const emptySchema = z.unknown();

/** GET /rest/api/3/myself */
export const myselfSchema = z.looseObject({
  accountId: z.string(),
  displayName: z.string().optional(),
  active: z.boolean().optional(),
});

/** GET /rest/api/3/project/{key}?expand=issueTypes */
export const projectSchema = z.looseObject({
  id: z.string(),
  key: z.string(),
  name: z.string(),
  issueTypes: z.array(z.looseObject({ id: z.string(), name: z.string() })).optional(),
});
