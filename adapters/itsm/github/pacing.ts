/**
 * Write pacing for octokit's throttling plugin when GITHUB_WRITE_INTERVAL_MS is set.
 *
 * The plugin spaces writes through Bottleneck groups (`throttle.write`, `throttle.notifications`
 * in its options): it only ever calls `group.key(id).schedule(jobOptions, fn, ...args)`. This
 * is that much of a group, so patchops need not depend on Bottleneck itself. Unset, the
 * plugin's own groups apply (1 s between writes, 3 s between issue/comment creations).
 */
/** The part of a Bottleneck.Group the throttling plugin uses. */
export interface PacingGroup {
  key(id?: string): {
    schedule<T>(
      job: unknown,
      fn: (...args: unknown[]) => T | Promise<T>,
      ...args: unknown[]
    ): Promise<T>;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function pacingGroup(intervalMs: number): PacingGroup {
  let last = 0;
  let queue: Promise<unknown> = Promise.resolve();
  const limiter = {
    schedule<T>(
      _job: unknown,
      fn: (...args: unknown[]) => T | Promise<T>,
      ...args: unknown[]
    ): Promise<T> {
      const turn = queue.then(async () => {
        const wait = last + intervalMs - Date.now();
        if (wait > 0) await sleep(wait);
        last = Date.now();
      });
      queue = turn;
      return turn.then(() => fn(...args));
    },
  };
  return { key: () => limiter };
}
