/**
 * Issue and comment bodies in GitHub-flavoured Markdown, each carrying a hidden HTML
 * comment with the write's key, so a retry finds what an earlier attempt wrote.
 */
import type { IncidentDraft, TicketDraft } from '../types.js';

/** GitHub refuses bodies over 65,536 characters; leave room for the marker. */
const MAX_BODY = 65_000;
const MAX_DEVICE_ROWS = 200;

/** Keys are ours, but may hold any character; `>` would end the HTML comment early. */
const encodeKey = (key: string) => encodeURIComponent(key);

export const issueMarker = (key: string) => `<!-- patchops:correlation=${encodeKey(key)} -->`;
export const commentMarker = (key: string) => `<!-- patchops:comment=${encodeKey(key)} -->`;

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

function fit(body: string, tail: string): string {
  const room = MAX_BODY - tail.length;
  return (body.length > room ? `${body.slice(0, room - 40)}\n\n… (truncated)` : body) + tail;
}

export function changeBody(d: TicketDraft, key: string): string {
  const facts = [
    `**Rollout:** \`${d.rolloutId}\``,
    `**Client:** \`${d.clientId}\``,
    `**Risk:** ${d.risk}`,
    `**Impact:** ${d.impact}`,
    `**Window:** ${d.plannedStart ?? 'not yet known'} → ${d.plannedEnd ?? 'not yet known'}`,
    ...(d.emergency ? ['**Emergency change**'] : []),
  ];
  const patches = [
    `### Patches (${d.patches.length})`,
    '',
    '| Patch | Title | Severity | Tier |',
    '| --- | --- | --- | --- |',
    ...d.patches.map(
      (p) => `| ${cell(p.id)} | ${cell(p.title)} | ${cell(p.severity)} | ${cell(p.tier ?? '')} |`,
    ),
  ];
  const shown = d.devices.slice(0, MAX_DEVICE_ROWS);
  const more = d.deviceCount - shown.length;
  const devices = [
    `### Devices (${d.deviceCount})`,
    '',
    '| Device |',
    '| --- |',
    ...shown.map((name) => `| ${cell(name)} |`),
    ...(more > 0 ? ['', `… and ${more} more`] : []),
  ];
  const text = [d.description, '', facts.join(' · '), '', ...patches, '', ...devices].join('\n');
  return fit(text, `\n\n${issueMarker(key)}\n`);
}

/** `changeRef` is "#12" in the same repository, "owner/repo#12" in another. */
export function incidentBody(d: IncidentDraft, changeRef: string, key: string): string {
  const text = [
    `Caused by ${changeRef}`,
    '',
    d.description,
    '',
    `**Rollout:** \`${d.rolloutId}\` · **Client:** \`${d.clientId}\` · **Urgency:** ${d.urgency}`,
  ].join('\n');
  return fit(text, `\n\n${issueMarker(key)}\n`);
}

export function commentBody(text: string, key: string): string {
  return fit(text, `\n\n${commentMarker(key)}\n`);
}

export const hasMarker = (body: string | null | undefined, marker: string) =>
  !!body && body.includes(marker);
