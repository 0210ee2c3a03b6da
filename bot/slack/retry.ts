import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, type WebAPIRateLimitedError } from '@slack/web-api';

/**
 * Runs one Web API call, waiting out 429s for this call only. The WebClient is built with
 * rejectRateLimitedCalls: its own handling pauses the client's whole queue, which would
 * stall unrelated messages (and modals, whose trigger_id lives 3 s) behind one busy channel.
 */
export async function withRateLimit<T>(call: () => Promise<T>, maxWaits = 5): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const e = err as Partial<WebAPIRateLimitedError>;
      if (e.code !== ErrorCode.RateLimitedError || attempt >= maxWaits) throw err;
      await sleep(Math.max(1, e.retryAfter ?? 1) * 1000);
    }
  }
}
