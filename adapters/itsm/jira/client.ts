import type { HttpClient } from '../../http/client.js';
import type { AdfDoc } from './adf.js';
import { PROPERTY_KEY } from './correlation.js';
import {
  commentPageSchema,
  commentSchema,
  createdIssueSchema,
  emptySchema,
  issueSchema,
  myselfSchema,
  projectSchema,
  searchPageSchema,
  type JiraIssue,
} from './wire.js';

const enc = encodeURIComponent;

/** Comments are read newest first: a retry's marker is near the top. */
const COMMENT_PAGE = 100;
const SEARCH_PAGE = 50;

/**
 * Jira Cloud REST v3 calls, one method per endpoint, answers parsed by the shared HTTP
 * client. No retry logic of its own beyond what the HTTP client does; no policy.
 */
export class JiraApi {
  constructor(private readonly http: HttpClient) {}

  /** POST /rest/api/3/issue: not repeatable; an unknown outcome is looked up by label. */
  async createIssue(body: {
    fields: Record<string, unknown>;
    properties?: { key: string; value: unknown }[];
  }): Promise<{ id: string; key: string }> {
    const r = await this.http.request({
      method: 'POST',
      url: '/rest/api/3/issue',
      data: body,
      schema: createdIssueSchema,
    });
    return r.data;
  }

  /** Every issue a JQL query matches, following nextPageToken to the end. */
  async search(jql: string, fields: string[]): Promise<{ id: string; key: string }[]> {
    const out: { id: string; key: string }[] = [];
    let token: string | undefined;
    for (;;) {
      const r = await this.http.request({
        method: 'GET',
        url: '/rest/api/3/search/jql',
        params: { jql, fields: fields.join(','), maxResults: SEARCH_PAGE, nextPageToken: token },
        schema: searchPageSchema,
      });
      out.push(...r.data.issues);
      token = r.data.nextPageToken ?? undefined;
      if (!token || r.data.isLast === true || r.data.issues.length === 0) return out;
    }
  }

  /** The issue's status, labels and links, with the transitions it offers now. */
  async issue(key: string): Promise<JiraIssue> {
    const r = await this.http.request({
      method: 'GET',
      url: `/rest/api/3/issue/${enc(key)}`,
      params: {
        fields: 'status,labels,issuelinks',
        expand: 'transitions',
        properties: PROPERTY_KEY,
      },
      schema: issueSchema,
      endpoint: 'GET /rest/api/3/issue/{key}',
    });
    return r.data;
  }

  /** Whether any comment's body satisfies `match`, reading pages newest first. */
  async findComment(key: string, match: (body: unknown) => boolean): Promise<boolean> {
    let startAt = 0;
    for (;;) {
      const r = await this.http.request({
        method: 'GET',
        url: `/rest/api/3/issue/${enc(key)}/comment`,
        params: { startAt, maxResults: COMMENT_PAGE, orderBy: '-created' },
        schema: commentPageSchema,
        endpoint: 'GET /rest/api/3/issue/{key}/comment',
      });
      if (r.data.comments.some((c) => match(c.body))) return true;
      startAt = r.data.startAt + r.data.comments.length;
      if (r.data.comments.length === 0 || startAt >= r.data.total) return false;
    }
  }

  async addComment(key: string, body: AdfDoc): Promise<void> {
    await this.http.request({
      method: 'POST',
      url: `/rest/api/3/issue/${enc(key)}/comment`,
      data: { body },
      schema: commentSchema,
      endpoint: 'POST /rest/api/3/issue/{key}/comment',
    });
  }

  /** POST …/transitions: moving to a status twice fails or is a no-op; the caller reads first. */
  async transition(key: string, transitionId: string): Promise<void> {
    await this.http.request({
      method: 'POST',
      url: `/rest/api/3/issue/${enc(key)}/transitions`,
      data: { transition: { id: transitionId } },
      schema: emptySchema,
      endpoint: 'POST /rest/api/3/issue/{key}/transitions',
    });
  }

  /** PUT /rest/api/3/issue/{key}: adding a label that is there already changes nothing. */
  async addLabels(key: string, labels: string[]): Promise<void> {
    await this.http.request({
      method: 'PUT',
      url: `/rest/api/3/issue/${enc(key)}`,
      data: { update: { labels: labels.map((add) => ({ add })) } },
      schema: emptySchema,
      endpoint: 'PUT /rest/api/3/issue/{key}',
    });
  }

  /** PUT …/properties/{propertyKey}: replaces the value; repeatable. */
  async setProperty(key: string, value: unknown): Promise<void> {
    await this.http.request({
      method: 'PUT',
      url: `/rest/api/3/issue/${enc(key)}/properties/${PROPERTY_KEY}`,
      data: value,
      schema: emptySchema,
      endpoint: 'PUT /rest/api/3/issue/{key}/properties/{propertyKey}',
    });
  }

  /** POST /rest/api/3/issueLink; the caller checks `issuelinks` first on a retry. */
  async link(type: string, inwardKey: string, outwardKey: string): Promise<void> {
    await this.http.request({
      method: 'POST',
      url: '/rest/api/3/issueLink',
      data: {
        type: { name: type },
        inwardIssue: { key: inwardKey },
        outwardIssue: { key: outwardKey },
      },
      schema: emptySchema,
    });
  }

  async myself(): Promise<{ accountId: string; displayName?: string | undefined }> {
    const r = await this.http.request({
      method: 'GET',
      url: '/rest/api/3/myself',
      schema: myselfSchema,
    });
    return r.data;
  }

  async project(key: string): Promise<{ key: string; name: string; issueTypes: string[] }> {
    const r = await this.http.request({
      method: 'GET',
      url: `/rest/api/3/project/${enc(key)}`,
      params: { expand: 'issueTypes' },
      schema: projectSchema,
      endpoint: 'GET /rest/api/3/project/{key}',
    });
    return {
      key: r.data.key,
      name: r.data.name,
      issueTypes: (r.data.issueTypes ?? []).map((t) => t.name),
    };
  }
}
