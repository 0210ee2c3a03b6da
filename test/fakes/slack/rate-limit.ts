/**
 * Slack's per-method Web API rate limits, off unless a test turns them on.
 *
 * Sources (looked up 2025):
 * - https://docs.slack.dev/apis/web-api/rate-limits — Tier 1 1+/min, Tier 2 20+/min,
 *   Tier 3 50+/min, Tier 4 100+/min, applied "per API method per workspace/team per app";
 *   Special tier: chat.postMessage "generally allows posting one message per second per
 *   channel"; an exceeded limit answers HTTP 429 with `Retry-After: <seconds>`.
 * - each method's page (https://api.slack.com/methods/<method>, "Rate limits"):
 *   chat.update Tier 3, chat.postEphemeral Tier 4, views.open / views.update /
 *   views.publish Tier 4, usergroups.users.list Tier 2, conversations.list Tier 2,
 *   conversations.info Tier 3, conversations.members Tier 4, apps.connections.open Tier 1,
 *   auth.test Special
 *   ("allows hundreds of requests per minute" — modelled here as 300/min).
 */

export const TIER_PER_MINUTE = { 1: 1, 2: 20, 3: 50, 4: 100 } as const;

interface RateRule {
  max: number;
  windowMs: number;
  /** chat.postMessage is limited per channel rather than per method. */
  perChannel: boolean;
}

const MINUTE = 60_000;
const perMinute = (max: number): RateRule => ({ max, windowMs: MINUTE, perChannel: false });

export const METHOD_RATE_RULES: Readonly<Record<string, RateRule>> = {
  'auth.test': perMinute(300),
  'apps.connections.open': perMinute(TIER_PER_MINUTE[1]),
  'chat.postMessage': { max: 1, windowMs: 1000, perChannel: true },
  'chat.update': perMinute(TIER_PER_MINUTE[3]),
  'chat.postEphemeral': perMinute(TIER_PER_MINUTE[4]),
  'views.open': perMinute(TIER_PER_MINUTE[4]),
  'views.update': perMinute(TIER_PER_MINUTE[4]),
  'views.publish': perMinute(TIER_PER_MINUTE[4]),
  'usergroups.users.list': perMinute(TIER_PER_MINUTE[2]),
  'conversations.list': perMinute(TIER_PER_MINUTE[2]),
  'conversations.info': perMinute(TIER_PER_MINUTE[3]),
  'conversations.members': perMinute(TIER_PER_MINUTE[4]),
};

export type RateLimitDecision = { allowed: true } | { allowed: false; retryAfterSec: number };

/**
 * A sliding-window counter per (token, method[, channel]). Calls it rejects do not count,
 * like Slack's, so a client that honours Retry-After gets through.
 */
export class RateLimiter {
  private readonly hits = new Map<string, number[]>();
  /** A rule set by a test; `null` exempts the method even when tiers are on. */
  private readonly overrides = new Map<string, RateRule | null>();

  /**
   * @param tiersOn enforce METHOD_RATE_RULES for every method
   * @param scale multiplies every window (1/60 turns "per minute" into "per second")
   */
  constructor(
    private readonly tiersOn: boolean,
    private readonly scale: number,
  ) {
    if (!(scale > 0)) throw new Error(`tierScale must be a positive number, got ${scale}`);
  }

  /** `{ perMinute }` enforces that limit for the method; `null` switches its limit off. */
  set(method: string, limit: { perMinute: number } | null): void {
    this.overrides.set(method, limit === null ? null : perMinute(limit.perMinute));
    for (const key of [...this.hits.keys()]) {
      if (key.split('|')[1] === method) this.hits.delete(key);
    }
  }

  check(
    method: string,
    token: string,
    channel: string | undefined,
    now: number,
  ): RateLimitDecision {
    const rule = this.ruleFor(method);
    if (!rule) return { allowed: true };
    const windowMs = rule.windowMs * this.scale;
    const key = [token, method, rule.perChannel ? (channel ?? '') : ''].join('|');
    const recent = (this.hits.get(key) ?? []).filter((t) => t > now - windowMs);
    this.hits.set(key, recent);
    const oldest = recent[0];
    if (recent.length >= rule.max && oldest !== undefined) {
      // Slack's Retry-After is whole seconds; WebClient parses it with parseInt.
      return {
        allowed: false,
        retryAfterSec: Math.max(1, Math.ceil((oldest + windowMs - now) / 1000)),
      };
    }
    recent.push(now);
    return { allowed: true };
  }

  private ruleFor(method: string): RateRule | undefined {
    if (this.overrides.has(method)) return this.overrides.get(method) ?? undefined;
    return this.tiersOn ? METHOD_RATE_RULES[method] : undefined;
  }
}
