import bolt from '@slack/bolt';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { SlackConfig } from '../../cli/config-chat.js';
import type { PolicyDocument } from '../../domain/policy/index.js';
import type { Store } from '../../store/index.js';
import { policyUsergroups, type ChatUser } from '../commands/access.js';
import type { CommandRunner } from '../commands/runner.js';
import type { CardPublisher } from '../cards/publisher.js';
import type { RouteHandler } from '../server.js';
import { UsergroupDirectory } from './directory.js';
import { registerSlackHandlers } from './handlers.js';
import { slackWebClient } from './notifier.js';
import { socketModeLink, type SocketModeLink } from './socket-mode.js';

const { App, HTTPReceiver, LogLevel } = bolt;

/** Slack rejects requests older than 5 minutes; we also reject ones that far in the future. */
export const MAX_CLOCK_SKEW_S = 300;

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
  /** For bot/server.ts (HTTP mode); undefined in Socket Mode. */
  handler: RouteHandler | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Who may talk to the bot: configured workspaces and channels (and DMs with it). */
export function allowed(
  config: SlackConfig,
  teamId: string | undefined,
  channelId: string | undefined,
): boolean {
  if (config.allowedTeams.length && !(teamId && config.allowedTeams.includes(teamId))) return false;
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
  let app: InstanceType<typeof App>;
  let handler: RouteHandler | undefined;
  let socket: SocketModeLink | undefined;
  if (config.mode === 'socket') {
    if (!config.appToken)
      throw new Error('SLACK_APP_TOKEN is required in Socket Mode (xapp-… with connections:write)');
    socket = socketModeLink(config.appToken, clientOptions, boltLog, log);
    app = new App({
      token: config.botToken,
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
    });
    app = new App({ token: config.botToken, receiver, clientOptions, logger: boltLog });
    handler = (req: IncomingMessage, res: ServerResponse) => {
      if (futureDated(req)) {
        log.warn({ ip: req.socket.remoteAddress }, 'slack request with a future timestamp refused');
        res.writeHead(401, { 'content-type': 'text/plain' }).end('invalid request timestamp');
        return;
      }
      receiver.requestListener(req, res);
    };
  }
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
    start: async () => {
      await socket?.start();
    },
    stop: async () => {
      await socket?.stop();
    },
  };
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
