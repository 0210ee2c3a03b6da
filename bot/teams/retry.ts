import { setTimeout as sleep } from 'node:timers/promises';

/** The most we wait for one Retry-After before giving the call back to its caller. */
const MAX_WAIT_MS = 60_000;

interface HttpError {
  statusCode?: number;
  response?: { headers?: { get?(name: string): string | undefined } };
}

export const statusOf = (err: unknown): number | undefined => (err as HttpError)?.statusCode;

/** Retry-After in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(err: unknown, now = Date.now()): number | undefined {
  const raw = (err as HttpError)?.response?.headers?.get?.('retry-after');
  if (!raw) return undefined;
  const secs = Number(raw);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(raw);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

const retryable = (status: number | undefined) =>
  status === 429 || (status !== undefined && status >= 500 && status < 600);

/**
 * Runs one Connector call, waiting out 429 and 5xx answers (Retry-After when given, else
 * exponential back-off) for this call only: other conversations' calls never queue behind it.
 */
export async function withConnectorRetry<T>(
  call: () => Promise<T>,
  opts: { maxRetries?: number; onRetry?: (err: unknown, waitMs: number) => void } = {},
): Promise<T> {
  const maxRetries = opts.maxRetries ?? 4;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!retryable(statusOf(err)) || attempt >= maxRetries) throw err;
      const wait = Math.min(MAX_WAIT_MS, retryAfterMs(err) ?? 500 * 2 ** attempt);
      opts.onRetry?.(err, wait);
      await sleep(wait);
    }
  }
}
