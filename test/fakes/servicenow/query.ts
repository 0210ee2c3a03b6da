/**
 * Encoded queries as the Table API reads them (docs: c_TableAPI.md, sysparm_query): conditions
 * `<field><op><value>` joined by `^` (AND) or `^OR`, ops = != LIKE STARTSWITH ENDSWITH
 * ISEMPTY ISNOTEMPTY IN, ORDERBY / ORDERBYDESC clauses. A condition on a field the table
 * does not have is ignored, as the instance does by default (glide.invalid_query.returns_no_rows
 * is false), so a typo in a field name returns every row.
 */
import type { Row } from './model.js';

type Op = '=' | '!=' | 'LIKE' | 'STARTSWITH' | 'ENDSWITH' | 'ISEMPTY' | 'ISNOTEMPTY' | 'IN';
interface Condition {
  field: string;
  op: Op;
  value: string;
}
export interface Query {
  /** OR-groups of AND-ed conditions. */
  groups: Condition[][];
  order: Array<{ field: string; desc: boolean }>;
  /** Whether any condition names a field (the instance checks read access on those). */
  hasConditions: boolean;
}

const OPS: Op[] = ['ISNOTEMPTY', 'ISEMPTY', 'STARTSWITH', 'ENDSWITH', 'LIKE', '!=', '=', 'IN'];

export function parseQuery(text: string, fields: readonly string[]): Query {
  const q: Query = { groups: [[]], order: [], hasConditions: false };
  if (!text) return q;
  for (const [i, raw] of text.split('^').entries()) {
    let part = raw;
    if (!part || part === 'EQ') continue;
    // ORDERBY first: it starts with "OR" too, and read as an OR it would open an empty
    // group that matches every row.
    if (part.startsWith('ORDERBYDESC')) {
      q.order.push({ field: part.slice(11), desc: true });
      continue;
    }
    if (part.startsWith('ORDERBY')) {
      q.order.push({ field: part.slice(7), desc: false });
      continue;
    }
    if (part.startsWith('OR') && i > 0) {
      part = part.slice(2);
      q.groups.push([]);
    }
    const field = /^[a-z0-9_.]+/.exec(part)?.[0] ?? '';
    const rest = part.slice(field.length);
    const op = OPS.find((o) => rest.startsWith(o));
    if (!op || !fields.includes(field)) continue;
    q.hasConditions = true;
    q.groups[q.groups.length - 1]!.push({ field, op, value: rest.slice(op.length) });
  }
  return q;
}

function test(row: Row, c: Condition): boolean {
  const v = row[c.field] ?? '';
  switch (c.op) {
    case '=':
      return v === c.value;
    case '!=':
      return v !== c.value;
    case 'LIKE':
      return v.toLowerCase().includes(c.value.toLowerCase());
    case 'STARTSWITH':
      return v.toLowerCase().startsWith(c.value.toLowerCase());
    case 'ENDSWITH':
      return v.toLowerCase().endsWith(c.value.toLowerCase());
    case 'ISEMPTY':
      return v === '';
    case 'ISNOTEMPTY':
      return v !== '';
    case 'IN':
      return c.value.split(',').includes(v);
  }
}

export function runQuery(rows: readonly Row[], q: Query): Row[] {
  const hit = rows.filter((r) => q.groups.some((g) => g.every((c) => test(r, c))));
  for (const { field, desc } of [...q.order].reverse()) {
    hit.sort((a, b) => (desc ? -1 : 1) * (a[field] ?? '').localeCompare(b[field] ?? ''));
  }
  return hit;
}

/** The Link header of one page (docs: first, prev, next, last with sysparm_offset/limit). */
export function linkHeader(
  base: string,
  params: URLSearchParams,
  offset: number,
  limit: number,
  total: number,
): string {
  const at = (o: number) => {
    const p = new URLSearchParams(params);
    p.set('sysparm_offset', String(o));
    p.set('sysparm_limit', String(limit));
    return `<${base}?${p.toString()}>`;
  };
  const lastOffset = total === 0 ? 0 : Math.floor((total - 1) / limit) * limit;
  const links = [`${at(0)};rel="first"`];
  if (offset > 0) links.push(`${at(Math.max(0, offset - limit))};rel="prev"`);
  if (offset + limit < total) links.push(`${at(offset + limit)};rel="next"`);
  links.push(`${at(lastOffset)};rel="last"`);
  return links.join(',');
}
