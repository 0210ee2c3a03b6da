import bolt from '@slack/bolt';
import { ErrorCode, WebClient } from '@slack/web-api';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { SlackConfig } from '../../cli/config-chat.js';
import type { PolicyDocument } from '../../domain/policy/index.js';
import type { Store } from '../../store/index.js';
import { policyUsergroups, type ChatUser } from '../commands/access.js';
import type { CommandRunner } from '../commands/runner.js';
import type { CardPublisher } from '../cards/publisher.js';
import {
  PlatformStartup,
  readBody,
  withReadiness,
  type Readiness,
  type RouteHandler,
} from '../server.js';
import { UsergroupDirectory } from './directory.js';
import { registerSlackHandlers } from './handlers.js';
import { slackWebClient } from './notifier.js';
import { authTest, SlackStartupError, type SlackIdentity } from './retry.js';
import { SlackSocketModeError, socketModeLink, type SocketModeLink } from './socket-mode.js';

const { App, HTTPReceiver, LogLevel } = bolt;

/** Slack rejects requests older than 5 minutes; we also reject ones that far in the future. */
export const MAX_CLOCK_SKEW_S = 300;
/** No Slack request is this large (a modal's state included); a bigger body is refused unread. */
export const MAX_SLACK_BODY_BYTES = 1_048_576;
/** How long a request waits for the first auth.test in flight before a 503 (Slack's budget is 3 s). */
const FIRST_AUTH_WAIT_MS = 1_500;
export { SlackStartupError, type SlackIdentity };

export interface SlackDeps {
  config: SlackConfig;
  runner: CommandRunner;
  publisher: CardPublisher;
  store: Store;
  policies: readonly PolicyDocument[];
  log: Logger;
}

export interface SlackFrontDoor {
  app: InstanceType<typeof App>;
  /** For bot/server.ts (HTTP mode, readiness attached); undefined in Socket Mode. */
  handler: RouteHandler | undefined;
  /** Whether auth.test (and in Socket Mode the socket) succeeded, for /healthz. */
  readiness(): Readiness;
  /**
   * Starts auth.test (then Socket Mode) with back-off in the background. Resolves once the
   * first attempt is over: ready, or Slack unreachable (attempts go on); rejects when Slack
   * refused a token (SlackStartupError / SlackSocketModeError).
   */
  start(): Promise<void>;
  /** Stops the attempts and the socket. */
  stop(): Promise<void>;
}

/**
 * The workspaces (and Enterprise Grid organisations) the door lets in: PATCHOPS_SLACK_ALLOWED_TEAMS
 * when set ("*" = any), else the bot token's own workspace — or its organisation when the app is
 * installed org-wide. undefined while auth.test has not answered.
 */
export function admittedTeams(
  config: SlackConfig,
  me: SlackIdentity | undefined,
): ReadonlySet<string> | 'any' | undefined {
  if (config.allowedTeams.includes('*')) return 'any';
  if (config.allowedTeams.length) return new Set(config.allowedTeams);
  if (!me) return undefined;
  const own = me.isEnterpriseInstall ? me.enterpriseId : me.teamId;
  return new Set(own ? [own] : []);
}

/** Whether a request from this team / organisation passes the door. */
export function teamAdmitted(
  admitted: ReadonlySet<string> | 'any' | undefined,
  teamId: string | undefined,
  enterpriseId: string | undefined,
): boolean {
  if (admitted === 'any') return true;
  if (!admitted) return false;
  return Boolean((teamId && admitted.has(teamId)) || (enterpriseId && admitted.has(enterpriseId)));
}

/**
 * Which channels may talk to the bot: the configured ones (and DMs with it). Workspaces are
 * checked before any handler runs, at the door (admittedTeams), enterprise ids included.
 */
export function allowed(
  config: SlackConfig,
  _teamId: string | undefined,
  channelId: string | undefined,
): boolean {
  if (!channelId || channelId.startsWith('D')) return true;
  const channels = config.allowedChannels.length
    ? config.allowedChannels
    : Object.values(config.channels);
  return channels.includes(channelId);
}

/**
 * The Bolt app: HTTP receiver by default (behind our signature-time check), Socket Mode as an
 * option (start() connects, stop() disconnects; HTTP mode is served by bot/server.ts).
 */
export function createSlackFrontDoor(deps: SlackDeps): SlackFrontDoor {
  const { config, log } = deps;
  const boltLog = boltLogger(log);
  const clientOptions = config.apiUrl ? { slackApiUrl: config.apiUrl } : {};
  let me: SlackIdentity | undefined;
  // Our own authorize instead of Bolt's `token`: Bolt's calls auth.test once at construction
  // and keeps that promise, so a Slack unreachable at start left every request hanging (3 s,
  // then 404) for good. Ours answers from the auth.test the start-up attempts made.
  const authorize = () => {
    if (!me) return Promise.reject(new Error('the Slack front door is not ready (auth.test)'));
    return Promise.resolve({
      botToken: config.botToken,
      ...(me.botId ? { botId: me.botId } : {}),
      ...(me.botUserId ? { botUserId: me.botUserId } : {}),
    });
  };
  let app: InstanceType<typeof App>;
  let handler: RouteHandler | undefined;
  let socket: SocketModeLink | undefined;
  const probe = new WebClient(config.botToken, {
    ...clientOptions,
    // One try per attempt, bounded: PlatformStartup does the waiting, and can be stopped.
    retryConfig: { retries: 0 },
    timeout: 5_000,
    // Its "http request failed" warnings repeat what PlatformStartup logs once per attempt.
    logger: { ...boltLog, warn: boltLog.debug },
  });
  const startup = new PlatformStartup(
    'slack',
    async () => {
      me = undefined;
      me = await authTest(probe);
      await socket?.connect();
    },
    log,
    {
      permanent: (err) => err instanceof SlackStartupError || err instanceof SlackSocketModeError,
      describe: describeFailure,
    },
  );
  if (config.mode === 'socket') {
    if (!config.appToken)
      throw new Error('SLACK_APP_TOKEN is required in Socket Mode (xapp-… with connections:write)');
    socket = socketModeLink(config.appToken, clientOptions, boltLog, log, (err) =>
      startup.markDown(err),
    );
    app = new App({
      authorize,
      receiver: socket.receiver,
      socketMode: true,
      clientOptions: { ...clientOptions },
      logger: boltLog,
    });
  } else {
    if (!config.signingSecret) throw new Error('SLACK_SIGNING_SECRET is required in HTTP mode');
    const receiver = new HTTPReceiver({
      signingSecret: config.signingSecret,
      endpoints: ['/slack/events'],
      logger: boltLog,
      bodyLimit: MAX_SLACK_BODY_BYTES,
      // Bolt rejects only when its own reading of the body fails (an event that is no object, a
      // channel that is null): the sender's mistake. Listener errors go to app.error instead.
      processEventErrorHandler: ({ error, response }) => {
        log.warn({ err: { message: error.message } }, 'malformed slack request refused');
        if (response.headersSent) return Promise.resolve(false);
        response.writeHead(400, { 'content-type': 'text/plain' }).end('malformed request');
        return Promise.resolve(true);
      },
    });
    app = new App({ authorize, receiver, clientOptions, logger: boltLog });
    const serve = async (req: IncomingMessage, res: ServerResponse) => {
      if (Number(req.headers['content-length']) > MAX_SLACK_BODY_BYTES) {
        res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' });
        res.end('request too large');
        return;
      }
      if (futureDated(req)) {
        log.warn({ ip: req.socket.remoteAddress }, 'slack request with a future timestamp refused');
        res.writeHead(401, { 'content-type': 'text/plain' }).end('invalid request timestamp');
        return;
      }
      // Read here, handed to Bolt as its own "buffered request": Bolt 5.1 crashes on a body that
      // parses to no object (`null` reads `.ssl_check` of null in an unawaited closure: the
      // request hangs and the rejection is unhandled, which ends the process).
      const raw = await readBody(req, MAX_SLACK_BODY_BYTES);
      if (raw === 'too large') {
        res.writeHead(413, { 'content-type': 'text/plain' }).end('request too large');
        return;
      }
      if (!parsesToObject(raw, req.headers['content-type'])) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('malformed request');
        return;
      }
      (req as IncomingMessage & { rawBody?: Buffer }).rawBody = raw;
      await startup.settled(FIRST_AUTH_WAIT_MS);
      if (!me) {
        // Honest and quick: Slack retries events; a user sees "try again" instead of a 3 s hang.
        res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '5' });
        res.end('patchops cannot reach Slack yet; try again shortly');
        return;
      }
      receiver.requestListener(req, res);
    };
    handler = withReadiness(serve, () => startup.readiness());
  }
  // Nothing may leave Slack waiting 3 s for a 404: a request no listener acknowledged (an
  // action id nobody handles, a body Bolt cannot type) is acknowledged once Bolt is done.
  const processEvent = app.processEvent.bind(app);
  app.processEvent = async (event) => {
    let acked = false;
    const ack = event.ack;
    await processEvent({
      ...event,
      ack: (response) => {
        acked = true;
        return ack(response);
      },
    });
    if (!acked) await ack().catch(() => undefined);
  };
  // The door: requests from a workspace or organisation not admitted go no further (any
  // handler, the conversation store) and are logged once per team.
  const refused = new Set<string>();
  app.use(async (args) => {
    const { context, next } = args;
    if (teamAdmitted(admittedTeams(config, me), context.teamId, context.enterpriseId)) {
      await next();
      return;
    }
    const who = `${context.enterpriseId ?? '-'}/${context.teamId ?? '-'}`;
    if (!refused.has(who) && refused.size < 1_000) {
      refused.add(who);
      log.warn(
        { team: context.teamId, enterprise: context.enterpriseId },
        'slack request from a workspace that is not allowed refused (PATCHOPS_SLACK_ALLOWED_TEAMS); further ones from it are not logged',
      );
    }
    const ack = (args as { ack?: () => Promise<void> }).ack;
    if (ack) await ack();
  });
  const web = slackWebClient(config, log);
  const directory = new UsergroupDirectory(web, () => policyUsergroups(deps.policies));
  const userOf = async (id: string, team: string | undefined): Promise<ChatUser> => ({
    platform: 'slack',
    id,
    tenant: team,
    groups: await directory.groupsOf(id),
  });
  registerSlackHandlers(app, { ...deps, web, userOf });
  app.error(async (err) => {
    log.error(
      { err: { code: (err as { code?: string }).code, message: err.message } },
      'slack handler failed',
    );
    return Promise.resolve();
  });
  return {
    app,
    handler,
    readiness: () => startup.readiness(),
    start: () => startup.start(),
    stop: async () => {
      await startup.stop();
      await socket?.stop();
    },
  };
}

/** A start-up failure in an operator's words: Slack's error code or the network's, never a token. */
function describeFailure(err: unknown): string {
  if (err instanceof SlackStartupError || err instanceof SlackSocketModeError)
    return redactSlackSecrets(err.message);
  const e = err as { code?: string; data?: { error?: string }; original?: { message?: string } };
  if (e.code === ErrorCode.PlatformError) return `auth.test: ${e.data?.error ?? 'error'}`;
  if (e.code === ErrorCode.RequestError)
    return `Slack unreachable: ${redactSlackSecrets(e.original?.message ?? 'request failed')}`;
  if (e.code === ErrorCode.HTTPError)
    return `Slack answered HTTP ${(err as { statusCode?: number }).statusCode ?? '?'}`;
  return redactSlackSecrets(err instanceof Error ? err.message : String(err));
}

/** Whether Bolt's reading of this body (its parseHTTPRequestBody) gives an object. */
function parsesToObject(raw: Buffer, contentType: string | undefined): boolean {
  const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  try {
    if (contentType === 'application/x-www-form-urlencoded') {
      const payload = new URLSearchParams(raw.toString()).getAll('payload');
      return payload.length !== 1 || isObject(JSON.parse(payload[0]!));
    }
    return isObject(JSON.parse(raw.toString()));
  } catch {
    return false;
  }
}

function futureDated(req: IncomingMessage): boolean {
  const ts = Number(req.headers['x-slack-request-timestamp']);
  return Number.isFinite(ts) && ts - Math.floor(Date.now() / 1000) > MAX_CLOCK_SKEW_S;
}

/**
 * What Bolt and the Socket Mode client must not put in our logs: at debug level the client
 * logs every envelope whole (response_url can post to the channel for 30 minutes; `token` is
 * the verification token, `bot_access_token` a bot token) and the WebSocket URL's ticket.
 */
const SECRETS: readonly [RegExp, string][] = [
  [/("(?:\w*_)?token"\s*:\s*)"[^"]*"/g, '$1"[redacted]"'],
  [/("response_url"\s*:\s*)"[^"]*"/g, '$1"[redacted]"'],
  [/([?&]ticket=)[^&"\s]+/g, '$1[redacted]'],
  [/\bx(?:app|ox[abeoprs])-[\w-]+/g, '[redacted]'],
];

export function redactSlackSecrets(text: string): string {
  return SECRETS.reduce((t, [re, to]) => t.replace(re, to), text);
}

function boltLogger(log: Logger) {
  const l = log.child({ name: 'slack' });
  const text = (m: unknown[]) =>
    redactSlackSecrets(m.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' '));
  return {
    debug: (...m: unknown[]) => l.debug(text(m)),
    info: (...m: unknown[]) => l.info(text(m)),
    warn: (...m: unknown[]) => l.warn(text(m)),
    error: (...m: unknown[]) => l.error(text(m)),
    setLevel: () => undefined,
    getLevel: () => LogLevel.INFO,
    setName: () => undefined,
  };
}
