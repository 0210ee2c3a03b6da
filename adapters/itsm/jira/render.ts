import type { IncidentDraft, TicketDraft } from '../types.js';
import {
  bulletList,
  doc,
  heading,
  paragraphs,
  table,
  text,
  type AdfDoc,
  type AdfNode,
} from './adf.js';

/**
 * Jira refuses a description over 32,767 characters, counted on the stored document, so
 * the lists are cut until the ADF fits with room to spare, with a line saying how many
 * more there are. A few hundred devices and patches usually fit whole.
 */
const MAX_CHARS = 30_000;

/** A change ticket's description: the draft's text, a patch table and the device list. */
export function changeDescription(d: TicketDraft): AdfDoc {
  let devices = Math.min(d.devices.length, 500);
  let patches = Math.min(d.patches.length, 300);
  for (;;) {
    const out = render(d, devices, patches);
    if (JSON.stringify(out).length <= MAX_CHARS || (devices === 0 && patches === 0)) return out;
    // Shrink the longer list first: devices are usually the bulk.
    if (devices >= patches) devices = Math.floor(devices * 0.75);
    else patches = Math.floor(patches * 0.75);
  }
}

const more = (n: number): AdfNode[] =>
  n > 0 ? [{ type: 'paragraph', content: text(`… and ${n} more`, ['em']) }] : [];

function render(d: TicketDraft, deviceCount: number, patchCount: number): AdfDoc {
  const facts = [
    `Rollout: ${d.rolloutId}`,
    `Client: ${d.clientId}`,
    `Risk: ${d.risk}, impact ${d.impact}${d.emergency ? ', EMERGENCY change' : ''}`,
    `Planned: ${d.plannedStart ?? 'not yet known'} → ${d.plannedEnd ?? 'not yet known'}`,
  ];
  const patches = d.patches.slice(0, patchCount);
  const devices = d.devices.slice(0, deviceCount);
  return doc([
    ...paragraphs(d.description),
    bulletList(facts),
    heading(3, `Patches (${d.patches.length})`),
    ...(patches.length
      ? [
          table(
            ['Patch', 'Title', 'Severity', 'Tier'],
            patches.map((p) => [p.id, p.title, p.severity, p.tier ?? '']),
          ),
        ]
      : []),
    ...more(d.patches.length - patches.length),
    heading(3, `Devices (${d.deviceCount})`),
    ...(devices.length ? [bulletList(devices)] : []),
    ...more(d.deviceCount - devices.length),
  ]);
}

export function incidentDescription(d: IncidentDraft, change: string): AdfDoc {
  return doc([
    ...paragraphs(d.description),
    bulletList([
      `Rollout: ${d.rolloutId}`,
      `Client: ${d.clientId}`,
      `Urgency: ${d.urgency}`,
      `Change: ${change}`,
    ]),
  ]);
}

/** A comment: the text, then the marker that lets a retry find it. */
export function commentBody(plain: string, marker: string): AdfDoc {
  return doc([...paragraphs(plain), { type: 'paragraph', content: text(marker, ['code']) }]);
}
