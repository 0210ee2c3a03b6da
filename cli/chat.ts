import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Notifier } from '../adapters/chat/types.js';
import { CardPublisher } from '../bot/cards/publisher.js';
import { CommandRunner } from '../bot/commands/runner.js';
import { startBotServer, withReadiness, type BotServer } from '../bot/server.js';
import { stopTeamsReadiness, teamsReadiness } from '../bot/teams/adapter.js';
import { createTeamsAdapter } from '../bot/teams/adapter.js';
import { createTeamsFrontDoor } from '../bot/teams/bot.js';
import { createTeamsNotifier } from '../bot/teams/notifier.js';
import { createSlackFrontDoor, type SlackFrontDoor } from '../bot/slack/app.js';
import { createSlackNotifier, slackWebClient } from '../bot/slack/notifier.js';
import type { PolicyDocument } from '../domain/policy/index.js';
import type { Store } from '../store/index.js';
import type { Config } from './config.js';

/** The chat notifiers the configuration turns on (Slack, Teams); the log notifier is added by the caller. */
export function chatNotifiers(
  config: Config,
  store: Store,
  log: Logger,
  policies: readonly PolicyDocument[],
): Notifier[] {
  const out: Notifier[] = [];
  const slack = config.chat.slack;
  if (slack) out.push(createSlackNotifier(slack, slackWebClient(slack, log)));
  const teams = config.chat.teams;
  if (teams) {
    const { adapter, appId } = createTeamsAdapter(teams, log);
    out.push(createTeamsNotifier({ adapter, appId, store, policies, log }));
  }
  return out;
}

export interface RunningBot {
  server: BotServer | undefined;
  slack: SlackFrontDoor | undefined;
  publisher: CardPublisher;
  close(): Promise<void>;
}

/** Starts every configured front door on one HTTP server (`patchops bot`, and `dev` when configured). */
export async function startChat(a: {
  config: Config;
  temporal: Client;
  taskQueue: string;
  store: Store;
  policies: readonly PolicyDocument[];
  log: Logger;
  port?: number;
}): Promise<RunningBot> {
  const { config, store, log } = a;
  // The Teams front door brings its own notifier (its adapter); it joins this list below.
  const notifiers = config.chat.slack
    ? [createSlackNotifier(config.chat.slack, slackWebClient(config.chat.slack, log))]
    : [];
  const publisher = new CardPublisher({
    store,
    notifiers,
    log,
    updateIntervalMs: config.chat.updateIntervalMs,
  });
  const runner = new CommandRunner({
    temporal: a.temporal,
    taskQueue: a.taskQueue,
    store,
    policies: a.policies,
    log,
  });
  const slack = config.chat.slack
    ? createSlackFrontDoor({
        config: config.chat.slack,
        runner,
        publisher,
        store,
        policies: a.policies,
        log,
      })
    : undefined;
  await slack?.start();
  const teams = config.chat.teams
    ? createTeamsFrontDoor({
        config: config.chat.teams,
        runner,
        publisher,
        store,
        policies: a.policies,
        log,
      })
    : undefined;
  if (teams) notifiers.push(teams.notifier);
  // Any configured platform gets /healthz and /livez (Socket Mode too, though it needs no
  // inbound route): readiness per platform, honestly.
  const server =
    slack || teams
      ? await startBotServer(
          {
            slack: slack?.handler,
            teams: teams
              ? withReadiness(teams.handler, () => teamsReadiness(teams.adapter))
              : undefined,
          },
          config.chat.bot.host,
          a.port ?? config.chat.bot.port,
          (err) => log.error({ err }, 'bot request failed'),
          slack && !slack.handler ? { slack: () => slack.readiness() } : {},
        )
      : undefined;
  if (server)
    log.info(
      {
        url: server.url,
        slack: slack ? `${server.url}/slack/events` : 'off',
        teams: teams ? `${server.url}/api/messages` : 'off',
      },
      'chat front doors listening',
    );
  return {
    server,
    slack,
    publisher,
    close: async () => {
      await server?.close();
      if (teams) await stopTeamsReadiness(teams.adapter);
      await slack?.stop();
      await teams?.idle();
      await publisher.flush();
    },
  };
}
