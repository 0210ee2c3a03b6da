import { actionsFor, type RolloutCard } from '../../bot/cards/model.js';

/** A realistic approval card for renderer tests. */
export function sampleCard(over: Partial<RolloutCard> = {}): RolloutCard {
  return {
    kind: 'rollout',
    rolloutId: 'rollout-acme-1',
    clientId: 'acme',
    clientName: 'Acme Corp',
    phase: 'awaiting_approval',
    paused: false,
    headline: 'Approval needed',
    patchCount: 12,
    deviceCount: 80,
    severity: { critical: 2, important: 5, moderate: 4, low: 1, none: 0 },
    highlights: [
      {
        patchId: 'KB5091777',
        title: 'Cumulative update',
        cves: ['CVE-2026-1', 'CVE-2026-2', 'CVE-2026-3', 'CVE-2026-4'],
        cvss: 9.8,
        kev: true,
      },
    ],
    kevCount: 1,
    cveCount: 9,
    rings: [
      { name: 'pilot', devices: 16, succeeded: 0, failed: 0, skipped: 0, running: 0 },
      { name: 'broad', devices: 64, succeeded: 0, failed: 0, skipped: 0, running: 0 },
    ],
    currentRing: null,
    window: 'nightly: daily 22:00 for 4h (device time)',
    ticket: { id: 'LOG-1', url: null },
    decision: null,
    haltReason: null,
    actions: actionsFor('rollout', 'awaiting_approval', false),
    round: 0,
    promoteRing: null,
    updatedAt: '2026-11-24T10:00:00.000Z',
    ...over,
  };
}
