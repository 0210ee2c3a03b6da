/**
 * The fake GitHub's memory: repositories, issues, comments and labels, shaped as GitHub's
 * REST API (2022-11-28) returns them — docs.github.com/en/rest/issues/{issues,comments,labels}
 * and docs.github.com/en/rest/repos/repos#get-a-repository — checked against the recorded
 * answers in github.com/octokit/fixtures (scenarios add-labels-to-issue, paginate-issues).
 */

export interface FakeLabel {
  id: number;
  name: string;
  color: string;
}

export interface FakeComment {
  id: number;
  body: string;
  created_at: string;
}

export interface FakeIssue {
  id: number;
  number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  state_reason: 'completed' | 'not_planned' | 'reopened' | 'duplicate' | null;
  labels: FakeLabel[];
  comments: FakeComment[];
  created_at: string;
  updated_at: string;
  closed_at: string | null;
}

export interface FakeRepo {
  id: number;
  owner: string;
  name: string;
  has_issues: boolean;
  issues: FakeIssue[];
  labels: Map<string, FakeLabel>;
}

/** Who a credential is: which repositories it sees and whether labels stick. */
export interface FakeCredential {
  /** "owner/name" it can see; '*' for all. Others answer 404, as GitHub does. */
  repos: '*' | string[];
  /** 'read' can open issues and comment, but labels on a new issue are silently dropped. */
  permission: 'write' | 'read';
}

export class GitHubState {
  readonly repos = new Map<string, FakeRepo>();
  private nextId = 1000;

  constructor(readonly apiUrl: () => string) {}

  id(): number {
    return this.nextId++;
  }

  addRepo(fullName: string, opts: { hasIssues?: boolean } = {}): FakeRepo {
    const [owner, name] = fullName.split('/') as [string, string];
    const repo: FakeRepo = {
      id: this.id(),
      owner,
      name,
      has_issues: opts.hasIssues ?? true,
      issues: [],
      labels: new Map(),
    };
    this.repos.set(fullName.toLowerCase(), repo);
    return repo;
  }

  repo(owner: string, name: string): FakeRepo | undefined {
    return this.repos.get(`${owner}/${name}`.toLowerCase());
  }

  repoById(id: number): FakeRepo | undefined {
    return [...this.repos.values()].find((r) => r.id === id);
  }

  /** GitHub creates a label that does not exist yet (grey, ededed) when one is applied. */
  label(repo: FakeRepo, name: string): FakeLabel {
    const key = name.toLowerCase();
    let l = repo.labels.get(key);
    if (!l) {
      l = { id: this.id(), name, color: 'ededed' };
      repo.labels.set(key, l);
    }
    return l;
  }

  repoJson(r: FakeRepo, c: FakeCredential) {
    const base = this.apiUrl();
    const write = c.permission === 'write';
    return {
      id: r.id,
      node_id: `R_${r.id}`,
      name: r.name,
      full_name: `${r.owner}/${r.name}`,
      private: true,
      owner: { login: r.owner, id: 1, type: 'Organization' },
      html_url: `https://github.com/${r.owner}/${r.name}`,
      url: `${base}/repos/${r.owner}/${r.name}`,
      has_issues: r.has_issues,
      archived: false,
      disabled: false,
      default_branch: 'main',
      permissions: { admin: false, maintain: false, push: write, triage: write, pull: true },
    };
  }

  labelJson(r: FakeRepo, l: FakeLabel) {
    return {
      id: l.id,
      node_id: `LA_${l.id}`,
      url: `${this.apiUrl()}/repos/${r.owner}/${r.name}/labels/${encodeURIComponent(l.name)}`,
      name: l.name,
      color: l.color,
      default: false,
      description: null,
    };
  }

  issueJson(r: FakeRepo, i: FakeIssue) {
    const api = `${this.apiUrl()}/repos/${r.owner}/${r.name}`;
    return {
      url: `${api}/issues/${i.number}`,
      repository_url: api,
      labels_url: `${api}/issues/${i.number}/labels{/name}`,
      comments_url: `${api}/issues/${i.number}/comments`,
      events_url: `${api}/issues/${i.number}/events`,
      html_url: `https://github.com/${r.owner}/${r.name}/issues/${i.number}`,
      id: i.id,
      node_id: `I_${i.id}`,
      number: i.number,
      title: i.title,
      user: { login: 'patchops-bot', id: 7, type: 'User' },
      labels: i.labels.map((l) => this.labelJson(r, l)),
      state: i.state,
      locked: false,
      assignee: null,
      assignees: [],
      milestone: null,
      comments: i.comments.length,
      created_at: i.created_at,
      updated_at: i.updated_at,
      closed_at: i.closed_at,
      author_association: 'MEMBER',
      active_lock_reason: null,
      body: i.body,
      closed_by: i.state === 'closed' ? { login: 'patchops-bot', id: 7, type: 'User' } : null,
      state_reason: i.state_reason,
    };
  }

  commentJson(r: FakeRepo, i: FakeIssue, c: FakeComment) {
    const api = `${this.apiUrl()}/repos/${r.owner}/${r.name}`;
    return {
      id: c.id,
      node_id: `IC_${c.id}`,
      url: `${api}/issues/comments/${c.id}`,
      html_url: `https://github.com/${r.owner}/${r.name}/issues/${i.number}#issuecomment-${c.id}`,
      issue_url: `${api}/issues/${i.number}`,
      body: c.body,
      user: { login: 'patchops-bot', id: 7, type: 'User' },
      created_at: c.created_at,
      updated_at: c.created_at,
      author_association: 'MEMBER',
    };
  }
}
