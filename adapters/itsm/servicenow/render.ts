import { createHash } from 'node:crypto';
import type { TicketDraft, TicketRef } from '../types.js';

/** task.short_description holds 160 characters, task.description 4,000. */
const SHORT_MAX = 160;
const DESCRIPTION_MAX = 4000;
/** task.correlation_id holds 100 characters. */
const CORRELATION_MAX = 100;

export type TicketTable = 'change_request' | 'incident';

export const shortDescription = (title: string) =>
  title.length <= SHORT_MAX ? title : `${title.slice(0, SHORT_MAX - 1)}…`;

/** Caps a description at the field's size, saying so instead of letting the instance cut it. */
export function capDescription(text: string): string {
  if (text.length <= DESCRIPTION_MAX) return text;
  const note = '\n… (cut to fit ServiceNow; the full list is in patchops)';
  return text.slice(0, DESCRIPTION_MAX - note.length) + note;
}

/** The change's description: the draft's text, then devices and patches as plain lists. */
export function changeDescription(d: TicketDraft): string {
  const patches = d.patches.map(
    (p) => `- ${p.id}: ${p.title} [${p.severity}${p.tier ? `, ${p.tier}` : ''}]`,
  );
  const shown = d.devices.length < d.deviceCount ? ` (first ${d.devices.length} shown)` : '';
  const head = [
    d.description.trim(),
    '',
    `Rollout: ${d.rolloutId} (client ${d.clientId})`,
    '',
    `Patches (${d.patches.length}):`,
    ...patches,
    '',
    `Devices (${d.deviceCount})${shown}:`,
  ].join('\n');
  // Devices go last and stop where the field ends, so patches are never the part that is cut.
  const lines: string[] = [];
  let size = head.length;
  for (const [i, name] of d.devices.entries()) {
    const line = `- ${name}`;
    if (size + line.length + 80 > DESCRIPTION_MAX) {
      lines.push(`… and ${d.deviceCount - i} more`);
      break;
    }
    lines.push(line);
    size += line.length + 1;
  }
  return capDescription([head, ...lines].join('\n'));
}

/**
 * The correlation_id stored for a key. Keys that fit and hold no "^" (the encoded-query
 * separator) are stored as they are, so people can read them; others become a readable
 * prefix plus a hash, which is as unique and still fits the field.
 */
export function correlationId(key: string): string {
  if (key.length <= CORRELATION_MAX && !key.includes('^') && key.trim() === key && key) return key;
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 32);
  return `${key.replace(/\^/g, '_').slice(0, CORRELATION_MAX - 34)}~${hash}`;
}

/** The marker a work note carries, so a retried comment can find the first one. */
export const noteMarker = (key: string) => `[patchops:${key}]`;

export const withMarker = (text: string, key: string) => `${text.trim()}\n\n${noteMarker(key)}`;

export function ticketUrl(instance: string, table: TicketTable, id: string): string {
  return `${instance}/nav_to.do?uri=${table}.do?sys_id=${id}`;
}

/** Which table a ticket lives in: from the URL patchops built, else its number's prefix. */
export function tableOf(ticket: TicketRef): TicketTable {
  if (ticket.url?.includes('uri=incident.do')) return 'incident';
  if (ticket.url?.includes('uri=change_request.do')) return 'change_request';
  return /^INC/i.test(ticket.number) ? 'incident' : 'change_request';
}
