import { z } from 'zod';
import { policySchema, type PolicyDocument } from './schema.js';
import { readYaml } from '../yaml-text.js';

/**
 * Policy files are read by the CLI and the worker; this turns their text into a policy
 * or into every problem at once, each line naming the file, the field and the fix. No
 * I/O: callers pass the text and the name to report it under.
 */

export type ParsePolicyResult =
  { ok: true; policy: PolicyDocument } | { ok: false; errors: string[] };

/**
 * The largest policy file read: real ones are a few KB. YAML parsing and zod checking grow
 * with the text (a 50 MB file took 76 s and 3.4 GB), so anything larger is refused unread.
 */
export const MAX_POLICY_BYTES = 1_048_576;

/** The refusal of a policy file over MAX_POLICY_BYTES, naming the file, its size and the limit. */
export function policyTooLarge(fileName: string, bytes: number): string {
  const mib = (n: number) => `${(n / 1_048_576).toFixed(n < 10_485_760 ? 2 : 1)} MiB`;
  return `${fileName}: the file is ${mib(bytes)} (${bytes} bytes); policy files are limited to ${mib(MAX_POLICY_BYTES)} (${MAX_POLICY_BYTES} bytes) — split it, or remove what is not policy`;
}

export function parsePolicy(yamlText: string, fileName: string): ParsePolicyResult {
  const bytes = utf8Length(yamlText);
  if (bytes > MAX_POLICY_BYTES) return { ok: false, errors: [policyTooLarge(fileName, bytes)] };
  const read = readYaml(yamlText, fileName);
  if (!read.ok) return read;
  const data = read.data;
  if (data === null || data === undefined) {
    return {
      ok: false,
      errors: [`${fileName}: the file is empty; a policy needs at least "scope"`],
    };
  }
  const parsed = policySchema.safeParse(data, { reportInput: true });
  if (parsed.success) return { ok: true, policy: parsed.data };
  return {
    ok: false,
    errors: formatIssues(parsed.error.issues, []).map((e) => `${fileName}: ${e}`),
  };
}

/** UTF-8 size of a string without encoding it (domain code runs where Buffer does not). */
function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      n += 4; // a surrogate pair
      i++;
    } else n += 3;
  }
  return n;
}

type Path = readonly PropertyKey[];

/** `rings[1].soak` style, as people write it in documentation and tickets. */
export function formatPath(path: Path): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

function line(path: Path, message: string): string {
  return path.length === 0 ? message : `${formatPath(path)}: ${message}`;
}

function formatIssues(issues: readonly z.core.$ZodIssue[], prefix: Path): string[] {
  return issues.flatMap((issue) => formatIssue(issue, [...prefix, ...issue.path]));
}

function formatIssue(issue: z.core.$ZodIssue, path: Path): string[] {
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => {
        const known = knownKeysAt(policySchema, path);
        const guess = closest(key, known);
        const hint = guess ? `did you mean "${guess}"?` : `known keys: ${known.join(', ')}`;
        return line([...path, key], `unknown key; ${hint}`);
      });
    case 'invalid_union': {
      // zod reports every branch; when the value clearly meant one branch (it has that
      // branch's type), its own errors ("bad duration") say far more than "invalid input".
      const meant = issue.errors.filter((branch) => branch.every((i) => !isTypeMismatch(i)));
      const only = meant.length === 1 ? meant[0] : undefined;
      return only ? formatIssues(only, path) : [line(path, issue.message)];
    }
    case 'invalid_type':
      if (issue.input === undefined) return [line(path, `missing; expected ${issue.expected}`)];
      return [line(path, issue.message)];
    default:
      return [line(path, issue.message)];
  }
}

function isTypeMismatch(issue: z.core.$ZodIssue): boolean {
  return (
    issue.path.length === 0 &&
    (issue.code === 'invalid_type' ||
      issue.code === 'invalid_value' ||
      issue.code === 'invalid_union')
  );
}

/** Keys an object schema accepts at `path`, found by walking the schema like the parser. */
function knownKeysAt(schema: z.core.$ZodType, path: Path): string[] {
  const s = schema as z.ZodType;
  if (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodPrefault) {
    return knownKeysAt(s.unwrap(), path);
  }
  if (s instanceof z.ZodPipe) return knownKeysAt(s.in, path);
  if (s instanceof z.ZodUnion) {
    return (s.options as z.core.$ZodType[]).flatMap((o) => knownKeysAt(o, path));
  }
  const [head, ...rest] = path;
  if (s instanceof z.ZodArray) {
    return typeof head === 'number' ? knownKeysAt(s.element, rest) : [];
  }
  if (s instanceof z.ZodObject) {
    const shape = s.shape as Record<string, z.core.$ZodType>;
    if (head === undefined) return Object.keys(shape);
    const child = typeof head === 'string' ? shape[head] : undefined;
    return child ? knownKeysAt(child, rest) : [];
  }
  return [];
}

/** The known key a typo most likely meant, if any is close enough to be a fair guess. */
function closest(typo: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const key of known) {
    const d = editDistance(typo.toLowerCase(), key.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [key, d];
  }
  return bestDistance <= Math.max(1, Math.floor(typo.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}
