import { setTimeout as sleep } from 'node:timers/promises';
import {
  ErrorCode,
  type WebAPIPlatformError,
  type WebAPIRateLimitedError,
  type WebClient,
} from '@slack/web-api';

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

/** auth.test answers that waiting will not fix: start() rejects with them. */
const TOKEN_REJECTED = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
]);

/** The bot token's own identity (auth.test): its workspace is the default allow-list. */
export interface SlackIdentity {
  teamId: string | undefined;
  enterpriseId: string | undefined;
  isEnterpriseInstall: boolean;
  botId: string | undefined;
  botUserId: string | undefined;
}

/** auth.test refused SLACK_BOT_TOKEN: waiting will not help. */
export class SlackStartupError extends Error {
  readonly code = 'SLACK_BOT_TOKEN_REJECTED';
  constructor(slackError: string, options: { cause: unknown }) {
    super(
      `Slack refused SLACK_BOT_TOKEN (${slackError}) in auth.test: use the Bot User OAuth Token (xoxb-…) from OAuth & Permissions of the app, installed in the workspace`,
      options,
    );
    this.name = 'SlackStartupError';
  }
}

/** The start-up call: auth.test, once (PlatformStartup retries it); a refused token is SlackStartupError. */
export async function authTest(client: WebClient): Promise<SlackIdentity> {
  try {
    const r = await client.auth.test();
    return {
      teamId: r.team_id,
      enterpriseId: r.enterprise_id,
      isEnterpriseInstall: r.is_enterprise_install === true,
      botId: r.bot_id,
      botUserId: r.user_id,
    };
  } catch (err) {
    const e = err as Partial<WebAPIPlatformError>;
    if (e.code === ErrorCode.PlatformError && TOKEN_REJECTED.has(e.data?.error ?? ''))
      throw new SlackStartupError(e.data!.error, { cause: err });
    throw err;
  }
}
