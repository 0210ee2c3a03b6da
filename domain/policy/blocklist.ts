import type { Patch } from '../model.js';

/**
 * Blocklist patterns as policies write them: "KB5034441", "openssl=*", "Java*". A patch is
 * blocked when a pattern matches its vendorRef, its patchops id or its product name.
 */

export interface BlocklistMatch {
  pattern: string;
  field: 'vendorRef' | 'id' | 'product';
  value: string;
}

/** The first pattern that matches the patch's vendorRef, id or product, if any. */
export function blocklistMatch(
  patterns: readonly string[],
  patch: Pick<Patch, 'id' | 'vendorRef' | 'product'>,
): BlocklistMatch | undefined {
  for (const pattern of patterns) {
    for (const field of ['vendorRef', 'id', 'product'] as const) {
      if (globMatch(pattern, patch[field])) return { pattern, field, value: patch[field] };
    }
  }
  return undefined;
}

/**
 * Whole-string, case-insensitive match where `*` is any run of characters. Hand-rolled
 * rather than a RegExp so that no pattern can backtrack catastrophically.
 */
export function globMatch(pattern: string, text: string): boolean {
  const p = pattern.toLowerCase();
  const t = text.toLowerCase();
  let pi = 0;
  let ti = 0;
  let star = -1; // position of the last `*` seen in p
  let resume = 0; // where in t that star's match would extend to next
  while (ti < t.length) {
    if (pi < p.length && p[pi] !== '*' && p[pi] === t[ti]) {
      pi++;
      ti++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      resume = ti;
    } else if (star >= 0) {
      pi = star + 1;
      ti = ++resume;
    } else {
      return false;
    }
  }
  while (p[pi] === '*') pi++;
  return pi === p.length;
}
