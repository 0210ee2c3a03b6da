import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { checkPolicySet, parsePolicy, type PolicyDocument } from '../domain/policy/index.js';
import { MAX_POLICY_BYTES, policyTooLarge } from '../domain/policy/parse.js';

export class PolicyLoadError extends Error {
  readonly code = 'POLICY_INVALID';
  constructor(readonly problems: string[]) {
    super(`invalid policies:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

/** Every *.yaml / *.yml directly in `dir` (sub-folders such as examples/ are not active). */
export function policyFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .map((name) => path.join(dir, name))
    .filter((full) => /\.ya?ml$/.test(full) && statSync(full).isFile());
}

/**
 * A policy file's text, or why it is not read: over MAX_POLICY_BYTES it is refused before
 * reading (its name, size and the limit in the message). Read errors are thrown.
 */
export function readPolicyText(
  file: string,
  fileName = file,
): { ok: true; text: string } | { ok: false; error: string } {
  const size = statSync(file).size;
  if (size > MAX_POLICY_BYTES) return { ok: false, error: policyTooLarge(fileName, size) };
  return { ok: true, text: readFileSync(file, 'utf8') };
}

/** Parses and checks a set of policy files, reporting every problem of every file at once. */
export function loadPolicyFiles(files: string[], relativeTo = process.cwd()): PolicyDocument[] {
  const problems: string[] = [];
  const parsed: Array<{ fileName: string; policy: PolicyDocument }> = [];
  for (const file of files) {
    const fileName = path.relative(relativeTo, file) || file;
    // Refused before reading: a huge file would be read whole only to be refused.
    const read = readPolicyText(file, fileName);
    if (!read.ok) {
      problems.push(read.error);
      continue;
    }
    const result = parsePolicy(read.text, fileName);
    if (result.ok) parsed.push({ fileName, policy: result.policy });
    else problems.push(...result.errors);
  }
  problems.push(...checkPolicySet(parsed));
  if (problems.length) throw new PolicyLoadError(problems);
  return parsed.map((p) => p.policy);
}
