import { RmmError } from '../types.js';
import type { TacticalContext } from './context.js';

/**
 * Scans. Tactical's scan/ only tells the agent to search Windows Update and report back;
 * nothing records when a search started or finished, so a scan id carries its start time
 * and counts as done after the configured wait.
 */

const PREFIX = 'trmm-scan1.';
/** Requests in flight at once: Tactical's uWSGI has a handful of workers per server. */
const CONCURRENCY = 4;

export async function triggerScan(
  ctx: TacticalContext,
  deviceIds: string[],
): Promise<{ scanId: string }> {
  if (deviceIds.length === 0) {
    throw new RmmError('INVALID_ARGUMENT', 'triggerScan needs at least one device id');
  }
  const queue = [...new Set(deviceIds)];
  const worker = async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) await ctx.api.scan(id);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
  const startedAt = ctx.now();
  return { scanId: `${PREFIX}${startedAt}.${deviceIds.length}` };
}

export function readScan(scanId: string, now: number, waitMs: number): { done: boolean } {
  const m = scanId.startsWith(PREFIX) ? /^(\d+)\.(\d+)$/.exec(scanId.slice(PREFIX.length)) : null;
  if (!m)
    throw new RmmError('SCAN_NOT_FOUND', `"${scanId}" is not a Tactical RMM scan id from patchops`);
  return { done: now - Number(m[1]) >= waitMs };
}
