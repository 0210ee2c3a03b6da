import { createHash } from 'node:crypto';

/** Every issue patchops opens carries this label, so people can filter on it. */
export const PATCHOPS_LABEL = 'patchops';

/** The issue entity property holding the correlation key in readable form. */
export const PROPERTY_KEY = 'patchops';

/**
 * The label that finds an issue again by its write key. Jira labels may not hold spaces
 * and stop at 255 characters, and JQL matches them case-insensitively, so the key is
 * hashed: stable, short, and safe inside a quoted JQL string.
 */
export function correlationLabel(key: string): string {
  return `patchops-key-${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

/** The label that records how a change was closed, e.g. "patchops-close-successful". */
export const closeLabel = (code: string): string => `patchops-close-${code}`;

/**
 * The line that marks a comment as written for `key`; found again by reading comments.
 * Kept visible (ADF has no hidden text) and short.
 */
export const commentMarker = (key: string): string => `[patchops:${key}]`;

/**
 * Labels from a client's policy: Jira refuses spaces, so runs of whitespace become "-";
 * longer than 255 characters is cut (Jira's limit). Empty ones are dropped.
 */
export function sanitiseLabel(label: string): string {
  return label.trim().replace(/\s+/g, '-').slice(0, 255);
}

/** A JQL string literal: double quotes, with backslashes and quotes escaped. */
export const jqlString = (value: string): string =>
  `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
