import { json, type FakeRequest, type FakeResponse } from '../http/server.js';
import { isAdf, adfText } from './adf.js';
import { COMMENT_NOT_VALID, issueNotFound, jiraError, NOT_ADF } from './errors.js';
import {
  LINK_TYPES,
  offeredFrom,
  statusJson,
  type FakeIssue,
  type FakeLink,
  type FakeWorkflow,
} from './state.js';

/** The fake site's data and the handlers of the issue endpoints (REST v3 "Issues" group). */
export interface JiraSite {
  base: () => string;
  projects: { key: string; name: string; id: string }[];
  issueTypes: string[];
  workflow: FakeWorkflow;
  issues: Map<string, FakeIssue>;
  links: FakeLink[];
  nextId: () => string;
  nextKey: (project: string) => string;
  commentPageSize: number;
  /** Permissions the account lacks, e.g. "ADD_COMMENTS". */
  denied: Set<string>;
}

const status = (site: JiraSite, name: string) => {
  const s = site.workflow.statuses.find((x) => x.name === name);
  if (!s) throw new Error(`fake workflow has no status "${name}"`);
  return statusJson(site.base(), s);
};

function labelProblem(labels: unknown): string | undefined {
  if (!Array.isArray(labels)) return 'labels must be an array of strings';
  for (const l of labels) {
    if (typeof l !== 'string' || l === '') return 'The label must not be empty.';
    if (/\s/.test(l)) return `The label '${l}' contains spaces which is invalid.`;
    if (l.length > 255) return `The label '${l.slice(0, 20)}…' exceeds the 255 character limit.`;
  }
  return undefined;
}

export function issueJson(site: JiraSite, i: FakeIssue, req: FakeRequest) {
  const want = (req.query.get('fields') ?? '*all').split(',').map((f) => f.trim());
  const all = want.includes('*all') || want.includes('*navigable');
  const fields: Record<string, unknown> = {
    summary: i.summary,
    status: status(site, i.status),
    labels: i.labels,
    issuetype: { name: i.issueType, subtask: false },
    project: { key: i.project },
    description: i.description,
    issuelinks: site.links
      .filter((l) => l.inward === i.key || l.outward === i.key)
      .map((l) => {
        const t = LINK_TYPES.find((x) => x.name === l.type)!;
        const type = { id: t.id, name: t.name, inward: t.inward, outward: t.outward };
        return l.inward === i.key
          ? { id: l.id, type, outwardIssue: { key: l.outward } }
          : { id: l.id, type, inwardIssue: { key: l.inward } };
      }),
  };
  const picked = all
    ? fields
    : Object.fromEntries(Object.entries(fields).filter(([k]) => want.includes(k)));
  const expand = (req.query.get('expand') ?? '').split(',');
  const props = (req.query.get('properties') ?? '').split(',').filter(Boolean);
  return {
    expand: 'renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations',
    id: i.id,
    self: `${site.base()}/rest/api/3/issue/${i.id}`,
    key: i.key,
    fields: picked,
    ...(expand.includes('transitions')
      ? { transitions: offeredFrom(site.workflow, i.status).map((t) => transitionJson(site, t.id)) }
      : {}),
    ...(props.length
      ? {
          properties: Object.fromEntries(
            props.filter((p) => p in i.properties).map((p) => [p, i.properties[p]]),
          ),
        }
      : {}),
  };
}

function transitionJson(site: JiraSite, id: string) {
  const t = site.workflow.transitions.find((x) => x.id === id)!;
  return {
    id: t.id,
    name: t.name,
    to: status(site, t.to),
    hasScreen: false,
    isGlobal: t.from === 'any',
    isInitial: false,
    isAvailable: true,
    isConditional: false,
    isLooped: false,
  };
}

type Body = Record<string, unknown>;
/** A JSON scalar as text; anything else is no value. */
export const str = (v: unknown): string =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
const obj = (v: unknown): Body =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Body) : {};

export function createIssue(site: JiraSite, req: FakeRequest): FakeResponse {
  const body = obj(req.body);
  const f = obj(body.fields);
  const errors: Record<string, string> = {};
  const projectKey = obj(f.project).key ?? obj(f.project).id;
  const project = site.projects.find((p) => p.key === projectKey || p.id === projectKey);
  if (!project) errors.project = 'Specify a valid project ID or key';
  const type = site.issueTypes.find(
    (t) => t.toLowerCase() === str(obj(f.issuetype).name).toLowerCase(),
  );
  if (!type) errors.issuetype = 'Specify an issue type';
  if (typeof f.summary !== 'string' || !f.summary.trim())
    errors.summary = 'You must specify a summary of the issue.';
  else if (f.summary.length > 255) errors.summary = 'Summary must be less than 255 characters.';
  if (f.description !== undefined && !isAdf(f.description)) errors.description = NOT_ADF;
  else if (JSON.stringify(f.description ?? '').length > 32_767)
    errors.description =
      'The entered text is too long. It exceeds the allowed limit of 32,767 characters.';
  const lp = f.labels === undefined ? undefined : labelProblem(f.labels);
  if (lp) errors.labels = lp;
  if (Object.keys(errors).length) return jiraError(400, [], errors);
  const id = site.nextId();
  const key = site.nextKey(project!.key);
  const properties: Record<string, unknown> = {};
  for (const p of Array.isArray(body.properties) ? body.properties : [])
    properties[String(obj(p).key)] = obj(p).value;
  site.issues.set(key, {
    id,
    key,
    project: project!.key,
    issueType: type!,
    summary: f.summary as string,
    description: f.description ?? null,
    labels: [...new Set((f.labels as string[] | undefined) ?? [])],
    status: site.workflow.initial,
    comments: [],
    properties,
    createdAt: Date.now(),
  });
  return json(201, { id, key, self: `${site.base()}/rest/api/3/issue/${id}` });
}

export function editIssue(_site: JiraSite, i: FakeIssue, req: FakeRequest): FakeResponse {
  const body = obj(req.body);
  const update = obj(body.update);
  const fields = obj(body.fields);
  let labels = [...i.labels];
  if (fields.labels !== undefined) {
    const lp = labelProblem(fields.labels);
    if (lp) return jiraError(400, [], { labels: lp });
    labels = fields.labels as string[];
  }
  for (const op of Array.isArray(update.labels) ? update.labels : []) {
    const o = obj(op);
    if (o.add !== undefined) {
      const lp = labelProblem([o.add]);
      if (lp) return jiraError(400, [], { labels: lp });
      if (!labels.includes(o.add as string)) labels.push(o.add as string);
    }
    if (o.remove !== undefined) labels = labels.filter((l) => l !== o.remove);
  }
  if (typeof fields.summary === 'string') i.summary = fields.summary;
  i.labels = labels;
  return { status: 204 };
}

export function listComments(site: JiraSite, i: FakeIssue, req: FakeRequest): FakeResponse {
  const startAt = Number(req.query.get('startAt') ?? 0);
  const maxResults = Math.min(Number(req.query.get('maxResults') ?? 5000), site.commentPageSize);
  const order = req.query.get('orderBy') ?? 'created';
  const sorted = order === '-created' ? [...i.comments].reverse() : i.comments;
  return json(200, {
    startAt,
    maxResults,
    total: i.comments.length,
    comments: sorted.slice(startAt, startAt + maxResults).map((c) => commentJson(site, i, c)),
  });
}

const commentJson = (site: JiraSite, i: FakeIssue, c: FakeIssue['comments'][number]) => ({
  self: `${site.base()}/rest/api/3/issue/${i.id}/comment/${c.id}`,
  id: c.id,
  author: { accountId: '5b10a2844c20165700ede21g', displayName: 'patchops bot', active: true },
  body: c.body,
  created: c.created,
  updated: c.created,
  jsdPublic: true,
});

export function addComment(site: JiraSite, i: FakeIssue, req: FakeRequest): FakeResponse {
  if (site.denied.has('ADD_COMMENTS'))
    return jiraError(403, ['You do not have the permission to comment on this issue.']);
  const body = obj(req.body).body;
  if (!isAdf(body)) return jiraError(400, [], { comment: COMMENT_NOT_VALID });
  const c = { id: site.nextId(), body, created: new Date().toISOString() };
  i.comments.push(c);
  return json(201, commentJson(site, i, c));
}

export function doTransition(site: JiraSite, i: FakeIssue, req: FakeRequest): FakeResponse {
  if (site.denied.has('TRANSITION_ISSUES'))
    return jiraError(403, ['You do not have permission to transition this issue.']);
  const id = str(obj(obj(req.body).transition).id);
  const t = site.workflow.transitions.find((x) => x.id === id);
  if (!t) return jiraError(400, [`Transition id '${id}' is not valid for this issue.`]);
  if (!offeredFrom(site.workflow, i.status).includes(t))
    return jiraError(400, [
      `It seems that you have tried to perform a workflow operation (${t.name}) that is not valid for the current state of this issue (${i.key}). The likely cause is that somebody has changed the issue recently, please look at the issue history for details.`,
    ]);
  i.status = t.to;
  return { status: 204 };
}

export function listTransitions(site: JiraSite, i: FakeIssue): FakeResponse {
  return json(200, {
    expand: 'transitions',
    transitions: offeredFrom(site.workflow, i.status).map((t) => transitionJson(site, t.id)),
  });
}

export function createLink(site: JiraSite, req: FakeRequest): FakeResponse {
  const body = obj(req.body);
  const typeName = str(obj(body.type).name);
  const type = LINK_TYPES.find((t) => t.name.toLowerCase() === typeName.toLowerCase());
  if (!type) return jiraError(404, [`No issue link type with name '${typeName}' found.`]);
  const inward = site.issues.get(str(obj(body.inwardIssue).key));
  const outward = site.issues.get(str(obj(body.outwardIssue).key));
  if (!inward || !outward) return issueNotFound();
  // Jira keeps one link of a type between two issues.
  if (
    !site.links.some(
      (l) => l.type === type.name && l.inward === inward.key && l.outward === outward.key,
    )
  )
    site.links.push({
      id: site.nextId(),
      type: type.name,
      inward: inward.key,
      outward: outward.key,
    });
  return { status: 201 };
}

export { adfText };
