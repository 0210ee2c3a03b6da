import type { RolloutSettings } from './rollout-settings.js';
import { nextOpening, type MaintenanceWindow } from './windows.js';

/**
 * What a rollout's ticket says, worked out from plain data: the change's risk and
 * impact, its planned span, ring notes and the close code. Pure, so it is unit-tested
 * without an ITSM.
 */

/** Device statuses of one ring, as counted in PostgreSQL. */
export interface RingTally {
  ring: string;
  total: number;
  counts: Partial<Record<string, number>>;
}

// CISA BOD 26-04 timelines (domain/risk.ts), most urgent first: 3-day tiers are high risk.
const TIER_RANK: Record<string, number> = { forensic: 4, act: 3, attend: 2, track: 1, upgrade: 0 };

/** The change's risk and impact from its most urgent patch tier. */
export function changeRisk(tiers: readonly string[]): {
  risk: 'high' | 'moderate' | 'low';
  impact: 1 | 2 | 3;
} {
  const top = Math.max(-1, ...tiers.map((t) => TIER_RANK[t] ?? 0));
  if (top >= 3) return { risk: 'high', impact: 1 };
  if (top === 2) return { risk: 'moderate', impact: 2 };
  return { risk: 'low', impact: 3 };
}

/**
 * From the first maintenance window the rollout may use to the end of a window after
 * every ring's soak: what a change manager plans around. Windows that follow each
 * device's own zone are read in `zone` (the client's first site), an estimate the
 * ticket says it is. Without windows the rollout may start at once.
 */
export function plannedSpan(
  settings: Pick<RolloutSettings, 'windows' | 'bypassWindows' | 'rings'>,
  now: number,
  zone: string,
): { start: string; end: string } {
  const soak = settings.rings.reduce((n, r) => n + r.soakMs, 0);
  const windows: MaintenanceWindow[] = settings.windows.map((w) => ({
    name: w.name,
    rule: w.rule,
    start: w.start,
    durationMs: w.durationMs,
    timezone: w.timezone === 'device' || w.timezone === 'site' ? zone : w.timezone,
  }));
  const first = settings.bypassWindows ? undefined : nextOpening(windows, now);
  if (!first) {
    return { start: iso(now), end: iso(now + soak + settings.rings.length * 3_600_000) };
  }
  const start = Math.max(now, first.startsAt);
  const last = nextOpening(windows, first.startsAt + soak) ?? first;
  return { start: iso(start), end: iso(Math.max(last.endsAt, start + 3_600_000)) };
}

const iso = (ms: number) => new Date(ms).toISOString();

const DONE = ['succeeded', 'failed', 'skipped', 'cancelled'];

/** "Ring pilot: 5 of 5 devices done — 4 succeeded, 1 failed." */
export function ringNote(r: RingTally): string {
  const done = DONE.reduce((n, s) => n + (r.counts[s] ?? 0), 0);
  const parts = DONE.filter((s) => r.counts[s]).map((s) => `${r.counts[s]} ${s}`);
  return `Ring ${r.ring}: ${done} of ${r.total} devices done${parts.length ? ` — ${parts.join(', ')}` : ''}.`;
}

/** Whether every device of the ring has an outcome. */
export function ringSettled(r: RingTally): boolean {
  return DONE.reduce((n, s) => n + (r.counts[s] ?? 0), 0) >= r.total && r.total > 0;
}

/** Patch outcomes of a rollout, for close notes. */
export interface PatchTally {
  installed: number;
  failed: number;
  pendingReboot: number;
  rolledBack: number;
}

/**
 * The close code for how the rollout ended: cancelled and rejected rollouts cancel the
 * change; a halt is unsuccessful; a completed one with failures or reboots still pending
 * is successful with issues.
 */
export function closureFor(
  phase: string,
  tally: PatchTally,
  note: string,
): { code: 'successful' | 'successful_issues' | 'unsuccessful' | 'cancelled'; notes: string } {
  const numbers = `${tally.installed} patch installs succeeded, ${tally.failed} failed, ${tally.pendingReboot} wait for a reboot${tally.rolledBack ? `, ${tally.rolledBack} rolled back` : ''}.`;
  const notes = `Rollout ${phase}: ${note}. ${numbers}`;
  if (phase === 'cancelled' || phase === 'rejected') return { code: 'cancelled', notes };
  if (phase !== 'completed') return { code: 'unsuccessful', notes };
  if (tally.failed > 0 || tally.pendingReboot > 0 || tally.rolledBack > 0)
    return { code: 'successful_issues', notes };
  return { code: 'successful', notes };
}
