import {
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  StatusCodes,
  type Activity,
  type Request,
  type Response,
  type TurnContext,
} from 'botbuilder';
// botbuilder's own pinned dependency: CloudAdapter answers 401 only for its AuthenticationError.
import { AuthenticationError, type AuthenticateRequestResult } from 'botframework-connector';
import type { Logger } from 'pino';
import type { TeamsConfig } from '../../cli/config-chat.js';
import { PlatformStartup, type Readiness } from '../server.js';
import { fetchKeys, keyFetchFailure, TeamsKeysUnavailableError } from './retry.js';

export { TeamsKeysUnavailableError };

/** Overrides of botbuilder's authentication settings: sovereign clouds, and tests' local OpenID metadata. */
export type TeamsAuthOverrides = Record<string, string>;

export interface TeamsAdapter {
  adapter: CloudAdapter;
  /** The Microsoft App ID proactive messages are sent as ('' with authentication disabled). */
  appId: string;
}

/** The public cloud's OpenID metadata for tokens the Bot Connector sends to bots. */
const PUBLIC_OPENID_METADATA = 'https://login.botframework.com/v1/.well-known/openidconfiguration';

/** An authenticated activity from a tenant not in the allow-list. */
export class TeamsTenantRefusedError extends Error {
  readonly code = 'TEAMS_TENANT_REFUSED';
  constructor(readonly tenant: string | undefined) {
    super(`activity from tenant ${tenant ?? '(none)'} refused`);
    this.name = 'TeamsTenantRefusedError';
  }
}

/** The tenant ids an activity names (channelData.tenant.id, conversation.tenantId). */
export function tenantsOf(activity: Partial<Activity>): string[] {
  const fromChannel = (activity.channelData as { tenant?: { id?: unknown } } | undefined)?.tenant
    ?.id;
  const fromConversation = (activity.conversation as { tenantId?: unknown } | undefined)?.tenantId;
  return [fromChannel, fromConversation].filter(
    (t): t is string => typeof t === 'string' && t !== '',
  );
}

/**
 * Whether the door lets an activity in: "*" admits any; otherwise it must name a tenant and
 * every tenant it names must be listed (compared case-insensitively: GUIDs).
 */
export function tenantAdmitted(allowed: readonly string[], activity: Partial<Activity>): boolean {
  if (allowed.includes('*')) return true;
  const named = tenantsOf(activity).map((t) => t.toLowerCase());
  const list = new Set(allowed.map((t) => t.toLowerCase()));
  return named.length > 0 && named.every((t) => list.has(t));
}

/** The allow-list in force: the configured one, else the app's tenant, else any (hand-built configs). */
export function allowedTenantsOf(config: TeamsConfig): string[] {
  if (config.allowedTenants) return config.allowedTenants;
  return config.tenantId ? [config.tenantId] : ['*'];
}

/**
 * Authentication, then the tenant allow-list, before any bot logic runs. botbuilder lets
 * jsonwebtoken's own errors (a bad signature, a token not yet valid) escape as a 500, which the
 * Bot Connector retries: they are authentication failures (401). A failure to fetch Microsoft's
 * keys is not the caller's fault: TeamsKeysUnavailableError (503).
 */
class StrictAuthentication extends ConfigurationBotFrameworkAuthentication {
  constructor(
    options: Record<string, string>,
    private readonly admit: (activity: Activity) => void,
  ) {
    super(options);
  }

  override async authenticateRequest(
    activity: Activity,
    authHeader: string,
  ): Promise<AuthenticateRequestResult> {
    let result: AuthenticateRequestResult;
    try {
      result = await super.authenticateRequest(activity, authHeader);
    } catch (err) {
      const name = (err as Error | undefined)?.name ?? '';
      if (['JsonWebTokenError', 'TokenExpiredError', 'NotBeforeError'].includes(name))
        throw new AuthenticationError(
          `Unauthorized: ${(err as Error).message}`,
          StatusCodes.UNAUTHORIZED,
        );
      if (keyFetchFailure(err)) throw new TeamsKeysUnavailableError({ cause: err });
      throw err;
    }
    this.admit(activity);
    return result;
  }
}

/** What the door keeps per adapter: readiness of the key endpoint and the tenant gate. */
interface DoorState {
  startup: PlatformStartup | undefined;
  allowedTenants: string[];
}

const doors = new WeakMap<CloudAdapter, DoorState>();

/**
 * The Teams front door's readiness for /healthz: Microsoft's OpenID keys reachable (checked in
 * the background from the first call on, with back-off) and at least one tenant allowed.
 */
export function teamsReadiness(adapter: CloudAdapter): Readiness {
  const door = doors.get(adapter);
  if (!door) return { ready: true };
  if (door.allowedTenants.length === 0)
    return {
      ready: false,
      error:
        'no tenant is allowed: set PATCHOPS_TEAMS_ALLOWED_TENANTS (tenant ids, or "*") or MICROSOFT_APP_TENANT_ID',
    };
  if (!door.startup) return { ready: true };
  void door.startup.start().catch(() => undefined);
  return door.startup.readiness();
}

/** Stops the background key checks (tests, shutdown). */
export async function stopTeamsReadiness(adapter: CloudAdapter): Promise<void> {
  await doors.get(adapter)?.startup?.stop();
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
  const door: DoorState = { startup: undefined, allowedTenants: allowedTenantsOf(config) };
  const refused = new Set<string>();
  const admit = (activity: Activity) => {
    if (tenantAdmitted(door.allowedTenants, activity)) return;
    const tenant = tenantsOf(activity).find((t) => !door.allowedTenants.includes(t));
    const key = tenant ?? '(none)';
    if (!refused.has(key) && refused.size < 1_000) {
      refused.add(key);
      log.warn(
        { tenant: key, activity: activity.type },
        'teams activity from a tenant that is not allowed refused (PATCHOPS_TEAMS_ALLOWED_TENANTS); further ones from it are not logged',
      );
    }
    throw new TeamsTenantRefusedError(tenant);
  };
  if (config.authDisabled) {
    log.warn({ teams: 'auth-disabled' }, AUTH_DISABLED_WARNING);
    auth = new StrictAuthentication({}, admit);
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
    const given = Object.fromEntries(
      Object.entries(options).filter(([, v]) => v !== undefined),
    ) as Record<string, string>;
    auth = new StrictAuthentication(given, admit);
    const metadataUrl = given.ToBotFromChannelOpenIdMetadataUrl ?? PUBLIC_OPENID_METADATA;
    door.startup = new PlatformStartup('teams', (signal) => fetchKeys(metadataUrl, signal), log, {
      describe: (err) =>
        `Bot Framework OpenID keys unreachable (${metadataUrl}): ${(err as Error).message}`,
    });
  }
  const adapter = new TeamsCloudAdapter(auth);
  doors.set(adapter, door);
  guardHttp(adapter, log, door);
  adapter.onTurnError = async (context, err) => {
    log.error({ err, activity: context.activity.type }, 'teams turn failed');
    if (context.activity.type === 'message')
      await context
        .sendActivity('patchops could not handle that message; the bot log has the details.')
        .catch(() => undefined);
  };
  return { adapter, appId };
}

type Logic = (context: TurnContext) => Promise<void>;

/** CloudAdapter with its activity pipeline reachable by guardHttp. */
class TeamsCloudAdapter extends CloudAdapter {
  runActivity(authHeader: string, activity: Activity, logic: Logic) {
    return this.processActivity(authHeader, activity, logic);
  }
}

/**
 * Replaces CloudAdapter.process for HTTP requests (WebSocket upgrades keep botbuilder's):
 * botbuilder answers every failure with a 500 carrying the error's message (and prints it with
 * console.error). Here: 401 for authentication failures, 403 for a tenant not allowed, 503 with
 * Retry-After when Microsoft's keys cannot be fetched, 500 for our own faults — each with a
 * short fixed body, the details in the log.
 */
function guardHttp(adapter: TeamsCloudAdapter, log: Logger, door: DoorState): void {
  const original = adapter.process.bind(adapter) as (...args: unknown[]) => Promise<void>;
  const http = async (req: Request, res: Response, logic: Logic): Promise<void> => {
    const end = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      res.status(status);
      for (const [k, v] of Object.entries(headers)) res.header(k, v);
      if (body !== undefined && body !== null) res.send(body);
      res.end();
    };
    if (req.method !== 'POST') return end(StatusCodes.METHOD_NOT_ALLOWED);
    const body = req.body as unknown;
    if (!body || typeof body !== 'object' || Array.isArray(body))
      return end(StatusCodes.BAD_REQUEST, 'expected an activity (a JSON object)');
    const activity = fixTimestamps(body as Activity);
    if (typeof activity.type !== 'string' || !activity.type)
      return end(StatusCodes.BAD_REQUEST, 'activity.type: missing');
    const authHeader = req.headers.authorization ?? req.headers.Authorization ?? '';
    try {
      const invoke = await adapter.runActivity(
        typeof authHeader === 'string' ? authHeader : '',
        activity,
        logic,
      );
      return end(invoke?.status ?? StatusCodes.OK, invoke?.body);
    } catch (err) {
      if (err instanceof TeamsTenantRefusedError) return end(403, 'tenant not allowed');
      if (err instanceof TeamsKeysUnavailableError) {
        log.error({ err: err.message }, 'teams request refused: signing keys unavailable');
        door.startup?.markDown(err);
        return end(503, 'authentication unavailable; try again shortly', { 'retry-after': '10' });
      }
      if (err instanceof AuthenticationError) {
        log.warn({ reason: err.message }, 'teams request unauthenticated');
        return end(StatusCodes.UNAUTHORIZED, 'unauthorized');
      }
      log.error({ err }, 'teams request failed');
      return end(StatusCodes.INTERNAL_SERVER_ERROR, 'internal error');
    }
  };
  adapter.process = (
    req: Request,
    resOrSocket: unknown,
    logicOrHead: unknown,
    maybeLogic?: Logic,
  ) =>
    maybeLogic
      ? original(req, resOrSocket, logicOrHead, maybeLogic)
      : http(req, resOrSocket as Response, logicOrHead as Logic);
}

/** What botbuilder's validateAndFixActivity does: ISO timestamps become Dates (raw kept). */
function fixTimestamps(activity: Activity): Activity {
  const a = activity as unknown as Record<string, unknown>;
  for (const [field, raw] of [
    ['timestamp', 'rawTimestamp'],
    ['expiration', 'rawExpiration'],
    ['localTimestamp', 'rawLocalTimestamp'],
  ] as const) {
    if (typeof a[field] === 'string') {
      a[raw] = a[field];
      a[field] = new Date(a[field]);
    }
  }
  return activity;
}
