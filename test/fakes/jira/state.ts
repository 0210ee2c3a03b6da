/** The fake site's memory: projects, issue types, one workflow, issues and link types. */

export type StatusCategory = 'new' | 'indeterminate' | 'done';

export interface FakeStatus {
  id: string;
  name: string;
  category: StatusCategory;
}

export interface FakeTransitionDef {
  id: string;
  name: string;
  /** Status names it starts from; "any" for a global transition. */
  from: string[] | 'any';
  to: string;
}

export interface FakeWorkflow {
  statuses: FakeStatus[];
  transitions: FakeTransitionDef[];
  /** The status a new issue starts in. */
  initial: string;
}

export interface FakeComment {
  id: string;
  body: unknown;
  created: string;
}

export interface FakeLink {
  id: string;
  type: string;
  inward: string;
  outward: string;
}

export interface FakeIssue {
  id: string;
  key: string;
  project: string;
  issueType: string;
  summary: string;
  description: unknown;
  labels: string[];
  status: string;
  comments: FakeComment[];
  properties: Record<string, unknown>;
  /** ms since epoch; the search index sees the issue `searchLagMs` later. */
  createdAt: number;
}

/**
 * Jira Software's default simplified workflow: three statuses and global transitions named
 * after them, with the ids a new site gives them (11, 21, 31) — ids are not names.
 */
export const SIMPLIFIED_WORKFLOW: FakeWorkflow = {
  statuses: [
    { id: '10000', name: 'To Do', category: 'new' },
    { id: '3', name: 'In Progress', category: 'indeterminate' },
    { id: '10001', name: 'Done', category: 'done' },
  ],
  transitions: [
    { id: '11', name: 'To Do', from: 'any', to: 'To Do' },
    { id: '21', name: 'In Progress', from: 'any', to: 'In Progress' },
    { id: '31', name: 'Done', from: 'any', to: 'Done' },
  ],
  initial: 'To Do',
};

/** A change workflow whose transition names differ from status names, with a cancel path. */
export const CHANGE_WORKFLOW: FakeWorkflow = {
  statuses: [
    { id: '10100', name: 'Open', category: 'new' },
    { id: '10101', name: 'Approved', category: 'new' },
    { id: '10102', name: 'Implementing', category: 'indeterminate' },
    { id: '10103', name: 'Closed', category: 'done' },
    { id: '10104', name: 'Cancelled', category: 'done' },
  ],
  transitions: [
    { id: '101', name: 'Approve', from: ['Open'], to: 'Approved' },
    { id: '111', name: 'Start implementation', from: ['Approved'], to: 'Implementing' },
    { id: '121', name: 'Complete', from: ['Implementing'], to: 'Closed' },
    { id: '131', name: 'Cancel', from: ['Open', 'Approved', 'Implementing'], to: 'Cancelled' },
  ],
  initial: 'Open',
};

const CATEGORY = {
  new: { id: 2, key: 'new', name: 'To Do', colorName: 'blue-gray' },
  indeterminate: { id: 4, key: 'indeterminate', name: 'In Progress', colorName: 'yellow' },
  done: { id: 3, key: 'done', name: 'Done', colorName: 'green' },
} as const;

/** A status as Jira renders it inside issues and transitions. */
export function statusJson(base: string, s: FakeStatus) {
  return {
    self: `${base}/rest/api/3/status/${s.id}`,
    id: s.id,
    name: s.name,
    description: '',
    statusCategory: {
      self: `${base}/rest/api/3/statuscategory/${CATEGORY[s.category].id}`,
      ...CATEGORY[s.category],
    },
  };
}

/** Transitions offered from a status: a global one is not offered into the status the issue is in. */
export function offeredFrom(wf: FakeWorkflow, status: string): FakeTransitionDef[] {
  return wf.transitions.filter((t) =>
    t.from === 'any' ? t.to !== status : t.from.includes(status),
  );
}

export const LINK_TYPES = [
  { id: '10000', name: 'Blocks', inward: 'is blocked by', outward: 'blocks' },
  { id: '10001', name: 'Cloners', inward: 'is cloned by', outward: 'clones' },
  { id: '10002', name: 'Duplicate', inward: 'is duplicated by', outward: 'duplicates' },
  { id: '10003', name: 'Relates', inward: 'relates to', outward: 'relates to' },
];
