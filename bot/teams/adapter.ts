import {
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  StatusCodes,
  type Activity,
} from 'botbuilder';
// botbuilder's own pinned dependency: CloudAdapter answers 401 only for its AuthenticationError.
import { AuthenticationError, type AuthenticateRequestResult } from 'botframework-connector';
import type { Logger } from 'pino';
import type { TeamsConfig } from '../../cli/config-chat.js';

/** Overrides of botbuilder's authentication settings: sovereign clouds, and tests' local OpenID metadata. */
export type TeamsAuthOverrides = Record<string, string>;

export interface TeamsAdapter {
  adapter: CloudAdapter;
  /** The Microsoft App ID proactive messages are sent as ('' with authentication disabled). */
  appId: string;
}

/**
 * botbuilder lets jsonwebtoken's own errors (a bad signature, a token not yet valid) escape as
 * a 500, which the Bot Connector retries; they are authentication failures and answer 401.
 */
class StrictAuthentication extends ConfigurationBotFrameworkAuthentication {
  override async authenticateRequest(
    activity: Activity,
    authHeader: string,
  ): Promise<AuthenticateRequestResult> {
    try {
      return await super.authenticateRequest(activity, authHeader);
    } catch (err) {
      const name = (err as Error | undefined)?.name ?? '';
      if (['JsonWebTokenError', 'TokenExpiredError', 'NotBeforeError'].includes(name))
        throw new AuthenticationError(
          `Unauthorized: ${(err as Error).message}`,
          StatusCodes.UNAUTHORIZED,
        );
      throw err;
    }
  }
}

export const AUTH_DISABLED_WARNING = 'Teams authentication is DISABLED — local testing only';

/**
 * The CloudAdapter for the configured Azure Bot. With an app id it validates every incoming
 * JWT (issuer, audience = app id, signing key, serviceUrl claim) and signs outgoing calls; with
 * `authDisabled` it accepts unauthenticated activities and sends unauthenticated replies, which
 * only the Bot Framework Emulator and local fakes accept.
 */
export function createTeamsAdapter(
  config: TeamsConfig,
  log: Logger,
  overrides: TeamsAuthOverrides = {},
): TeamsAdapter {
  let auth: ConfigurationBotFrameworkAuthentication;
  let appId = '';
  if (config.authDisabled && config.appId)
    // The config module refuses this too; a front door built by hand must not slip through.
    throw new Error('Teams auth cannot be disabled while MICROSOFT_APP_ID is set');
  if (config.authDisabled) {
    log.warn({ teams: 'auth-disabled' }, AUTH_DISABLED_WARNING);
    auth = new ConfigurationBotFrameworkAuthentication({});
  } else {
    if (!config.appId)
      throw new Error('MICROSOFT_APP_ID is required unless Teams auth is disabled');
    appId = config.appId;
    const options: Record<string, string | undefined> = {
      MicrosoftAppId: config.appId,
      MicrosoftAppPassword: config.appPassword,
      MicrosoftAppTenantId: config.tenantId,
      MicrosoftAppType: config.appType,
      ...overrides,
    };
    auth = new StrictAuthentication(
      Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
    );
  }
  const adapter = new CloudAdapter(auth);
  adapter.onTurnError = async (context, err) => {
    log.error({ err, activity: context.activity.type }, 'teams turn failed');
    if (context.activity.type === 'message')
      await context
        .sendActivity('patchops could not handle that message; the bot log has the details.')
        .catch(() => undefined);
  };
  return { adapter, appId };
}
