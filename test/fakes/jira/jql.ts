import type { FakeIssue } from './state.js';

/**
 * The slice of JQL the fake understands: clauses joined by AND, each `field = value`,
 * `field != value` or `field in (a, b)`, over project, labels, issuetype, status and key,
 * with an optional ORDER BY created|key ASC|DESC. Values are bare words or double-quoted
 * strings with \" and \\ escapes. Anything else is a JQL error, as Jira reports one.
 */
export type Jql = {
  filter: (i: FakeIssue) => boolean;
  order: (a: FakeIssue, b: FakeIssue) => number;
};

export class JqlError extends Error {}

const FIELDS: Record<string, (i: FakeIssue) => string[]> = {
  project: (i) => [i.project],
  labels: (i) => i.labels,
  issuetype: (i) => [i.issueType],
  type: (i) => [i.issueType],
  status: (i) => [i.status],
  key: (i) => [i.key],
};

function tokenize(src: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) i++;
    else if (c === '"' || c === "'") {
      let s = '';
      i++;
      while (i < src.length && src[i] !== c) {
        if (src[i] === '\\') i++;
        s += src[i] ?? '';
        i++;
      }
      if (i >= src.length) throw new JqlError('The quoted string has no closing quote.');
      i++;
      out.push(`"${s}`); // a leading quote marks a string token
    } else if ('(),'.includes(c)) {
      out.push(c);
      i++;
    } else if (c === '!' && src[i + 1] === '=') {
      out.push('!=');
      i += 2;
    } else if (c === '=') {
      out.push('=');
      i++;
    } else {
      const m = /^[^\s(),=!"']+/.exec(src.slice(i))![0];
      out.push(m);
      i += m.length;
    }
  }
  return out;
}

const value = (t: string | undefined): string => {
  if (t === undefined || ['(', ')', ','].includes(t)) throw new JqlError('Expecting a value.');
  return t.startsWith('"') ? t.slice(1) : t;
};

export function parseJql(src: string): Jql {
  const tokens = tokenize(src);
  let p = 0;
  const clauses: Array<(i: FakeIssue) => boolean> = [];
  let order: Jql['order'] = (a, b) => Number(a.id) - Number(b.id);
  while (p < tokens.length) {
    const word = tokens[p]!.toLowerCase();
    if (word === 'order' && tokens[p + 1]?.toLowerCase() === 'by') {
      const field = tokens[p + 2]?.toLowerCase();
      const desc = tokens[p + 3]?.toLowerCase() === 'desc';
      if (field !== 'created' && field !== 'key')
        throw new JqlError(`Not able to sort using field '${field}'.`);
      order = (a, b) => (Number(a.id) - Number(b.id)) * (desc ? -1 : 1);
      p = tokens.length;
      break;
    }
    const get = FIELDS[word];
    if (!get)
      throw new JqlError(
        `Field '${tokens[p]}' does not exist or you do not have permission to view it.`,
      );
    const op = tokens[p + 1]?.toLowerCase();
    p += 2;
    if (op === '=' || op === '!=') {
      const v = value(tokens[p++]);
      const negate = op === '!=';
      clauses.push((i) => get(i).some((x) => x.toLowerCase() === v.toLowerCase()) !== negate);
    } else if (op === 'in') {
      if (tokens[p++] !== '(') throw new JqlError("Expecting '(' after 'in'.");
      const vs: string[] = [];
      while (tokens[p] !== ')') {
        vs.push(value(tokens[p++]).toLowerCase());
        if (tokens[p] === ',') p++;
        else if (tokens[p] !== ')') throw new JqlError("Expecting ',' or ')'.");
      }
      p++;
      clauses.push((i) => get(i).some((x) => vs.includes(x.toLowerCase())));
    } else {
      throw new JqlError(`Expecting operator but got '${op ?? ''}'. Supported here: =, !=, in.`);
    }
    if (p < tokens.length && tokens[p]!.toLowerCase() === 'and') p++;
    else if (p < tokens.length && tokens[p]!.toLowerCase() !== 'order')
      throw new JqlError(`Expecting either 'OR' or 'AND' but got '${tokens[p]}'.`);
  }
  if (clauses.length === 0)
    throw new JqlError(
      'Unbounded JQL queries are not allowed here. Please add a search restriction to your query.',
    );
  return { filter: (i) => clauses.every((c) => c(i)), order };
}
