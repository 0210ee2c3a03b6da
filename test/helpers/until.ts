import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import type { patchCycle } from '../../workflows/index.js';
import { progressQuery, type Progress } from '../../workflows/messages.js';

/** Polls every 50 ms until fn returns something truthy; fails naming `what` after `ms`. */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  ms = 30_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Polls a rollout's progress Query until `check` holds; returns that progress. */
export async function progressUntil(
  handle: WorkflowHandle<typeof patchCycle>,
  check: (p: Progress) => boolean,
  what: string,
): Promise<Progress> {
  return until(what, async () => {
    const p = await handle.query(progressQuery);
    return check(p) ? p : undefined;
  });
}
