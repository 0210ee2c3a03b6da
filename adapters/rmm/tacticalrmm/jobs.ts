import { createHash } from 'node:crypto';
import { z } from 'zod';
import { RmmError, type JobStatus, type PatchResult } from '../types.js';
import { patchIdOf, withKb } from './mapping.js';
import { parseDateInstalled } from './time.js';
import type { WireAgent, WireWinUpdate } from './wire.js';

/**
 * Tactical has no job objects: install/ and reboot/ are fire-and-forget NATS messages.
 * A patchops job id therefore carries everything needed to judge the job later from the
 * agent's state (which agent, which KBs, since when), so any worker can read any job
 * and nothing has to be stored.
 */

/** How long a deploy may show no result before it counts as failed (agent gone, install lost). */
export const DEPLOY_DEADLINE_MS = 6 * 3_600_000;
/** How long a reboot may take before it counts as failed. */
export const REBOOT_DEADLINE_MS = 3_600_000;

const refSchema = z.object({
  v: z.literal(1),
  k: z.enum(['deploy', 'reboot']),
  a: z.string().min(1),
  p: z.array(z.string()),
  s: z.number().int(),
  h: z.string(),
});
export type JobRef = z.infer<typeof refSchema>;

const PREFIX = 'trmm1.';

export const keyHash = (key: string): string =>
  createHash('sha256').update(key).digest('base64url').slice(0, 12);

export function encodeJob(ref: Omit<JobRef, 'v'>): string {
  return PREFIX + Buffer.from(JSON.stringify({ v: 1, ...ref })).toString('base64url');
}

export function decodeJob(jobId: string): JobRef {
  if (jobId.startsWith(PREFIX)) {
    try {
      const json: unknown = JSON.parse(
        Buffer.from(jobId.slice(PREFIX.length), 'base64url').toString(),
      );
      const r = refSchema.safeParse(json);
      if (r.success) return r.data;
    } catch {
      // falls through to the error below: a damaged id is an unknown job
    }
  }
  throw new RmmError('JOB_NOT_FOUND', `"${jobId}" is not a Tactical RMM job id from patchops`);
}

/**
 * Whether an installed update still waits for a reboot. Tactical keeps `needs_reboot` per
 * agent, not per update, so an update counts as waiting when the agent needs a reboot and
 * has not booted since it was installed (`date_installed` has minute precision, hence the
 * minute of slack). A row without an install time was found installed by a scan, not
 * installed through Tactical, and counts as installed. With several updates in one run,
 * all of them wait: Tactical cannot tell which one asked for the reboot.
 */
export function waitsForReboot(
  u: Pick<WireWinUpdate, 'installed' | 'date_installed'>,
  agent: Pick<WireAgent, 'needs_reboot' | 'boot_time'>,
  timeZone: string | undefined,
): boolean {
  if (!u.installed || !agent.needs_reboot) return false;
  if (u.date_installed === null) return false;
  const at = timeZone ? parseDateInstalled(u.date_installed, timeZone) : undefined;
  if (at === undefined || agent.boot_time === null) return true;
  return agent.boot_time * 1000 < at + 60_000;
}

/** The outcome one KB has reached on the agent, or undefined while it has none. */
export function kbOutcome(
  kb: string,
  rows: WireWinUpdate[],
  agent: WireAgent,
  timeZone: string | undefined,
): PatchResult | undefined {
  const patchId = patchIdOf(kb);
  const mine = withKb(rows).filter((u) => u.kb.toUpperCase() === kb);
  if (mine.length === 0) {
    return {
      patchId,
      outcome: 'failed',
      error: `Tactical RMM no longer lists ${kb} for this agent (superseded or removed by a rescan)`,
    };
  }
  const installed = mine.find((u) => u.installed);
  if (installed) {
    return {
      patchId,
      outcome: waitsForReboot(installed, agent, timeZone) ? 'pending_reboot' : 'installed',
    };
  }
  if (mine.some((u) => u.result === 'failed')) {
    return {
      patchId,
      outcome: 'failed',
      // The agent reports only success or failure; Tactical keeps no HRESULT.
      error: 'Windows Update reported the installation failed (Tactical RMM records no error code)',
    };
  }
  return undefined;
}

/** A deploy job's state from the agent's update list. */
export function deployStatus(
  ref: JobRef,
  rows: WireWinUpdate[],
  agent: WireAgent,
  timeZone: string | undefined,
  now: number,
): JobStatus {
  const outcomes = ref.p.map((kb) => kbOutcome(kb, rows, agent, timeZone));
  const overdue = now - ref.s > DEPLOY_DEADLINE_MS;
  if (outcomes.some((o) => o === undefined) && !overdue) return { state: 'running', results: [] };
  const results = outcomes.map(
    (o, i): PatchResult =>
      o ?? {
        patchId: patchIdOf(ref.p[i]!),
        outcome: 'failed',
        error: `No result from the agent within ${DEPLOY_DEADLINE_MS / 3_600_000} h of the install request`,
      },
  );
  return { state: results.some((r) => r.outcome === 'failed') ? 'failed' : 'succeeded', results };
}

/**
 * Whether the agent booted at or after `since` (epoch ms). Tactical's boot_time is whole
 * epoch seconds, and a boot follows the request, so the second of the request counts.
 */
export const bootedSince = (agent: Pick<WireAgent, 'boot_time'>, since: number): boolean =>
  agent.boot_time !== null && agent.boot_time >= Math.floor(since / 1000);

/** A reboot job is done when the agent is back online with a boot time after the request. */
export function rebootStatus(ref: JobRef, agent: WireAgent, now: number): JobStatus {
  const booted = bootedSince(agent, ref.s);
  if (booted && agent.status === 'online') {
    return {
      state: 'succeeded',
      results: ref.p.map((kb) => ({ patchId: patchIdOf(kb), outcome: 'installed' })),
    };
  }
  if (now - ref.s <= REBOOT_DEADLINE_MS) return { state: 'running', results: [] };
  const error = booted
    ? 'The device rebooted but its agent has not come back online'
    : 'The device did not reboot within an hour of the request';
  return {
    state: 'failed',
    results: ref.p.map((kb) => ({ patchId: patchIdOf(kb), outcome: 'failed', error })),
  };
}
