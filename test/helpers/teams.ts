import type { Logger } from 'pino';
import { CardPublisher } from '../../bot/cards/publisher.js';
import { CommandRunner } from '../../bot/commands/runner.js';
import { startBotServer, withReadiness, type BotServer } from '../../bot/server.js';
import {
  createTeamsAdapter,
  stopTeamsReadiness,
  teamsReadiness,
  type TeamsAuthOverrides,
} from '../../bot/teams/adapter.js';
import { createTeamsFrontDoor, type TeamsFrontDoor } from '../../bot/teams/bot.js';
import { createTeamsNotifier, type TeamsNotifier } from '../../bot/teams/notifier.js';
import type { TeamsConfig } from '../../cli/config-chat.js';
import type { Store } from '../../store/index.js';
import type { FakeConnector } from '../fakes/teams/connector.js';
import { policy, testDeps, type TestDeps } from './deps.js';
import type { RolloutSuite } from './rollout-suite.js';
import { testLog } from './temporal.js';

/** The tenant and approver the Teams activity builders use by default. */
export const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const ADA = 'c33aafc4-646d-4543-9d4c-abd28e4d2110';
export const CHANNEL = '19:6d97d816470f481dbcda38244b98689a@thread.tacv2';
export const CARD_TYPE = 'application/vnd.microsoft.card.adaptive';

/** A front door with authentication disabled (local fakes only). */
export const OPEN_TEAMS: TeamsConfig = {
  appId: undefined,
  appPassword: undefined,
  tenantId: undefined,
  appType: 'MultiTenant',
  authDisabled: true,
};

/** Fast rings; Ada (AAD id) in the builders' tenant approves for every client. */
export const teamsPolicies = [
  policy(`
scope: { level: global }
approval: { default: needs_approval }
rings:
  - { name: pilot, members: { percent: 20 }, soak: 1s, successThreshold: 0.5, concurrency: 5 }
  - { name: broad, members: { percent: 80 }, soak: 0s, successThreshold: 0.5, concurrency: 10 }
windows: []
approvers: { teams: { tenantId: ${TENANT}, users: [${ADA}] } }
approvalTimeout: { after: 10m, remindEvery: 5m, outcome: reject }
circuitBreaker: { maxFailureRate: 0.9, minSamples: 5 }
reboot: { mode: if_required, userDeferrals: 0 }
`),
];

/** A notifier on its own adapter, as the worker process builds one. */
export const teamsNotifier = (store: Store, log: Logger, config = OPEN_TEAMS): TeamsNotifier =>
  createTeamsNotifier({ ...createTeamsAdapter(config, log), store, policies: teamsPolicies, log });

/** A worker's deps whose activities post through their own Teams notifier, as in production. */
export function teamsWorkerDeps(
  s: RolloutSuite,
  opts: { devicesPerClient?: number; cardUpdateMs?: number } = {},
): TestDeps {
  const deps = testDeps(s.db.store, {
    policies: teamsPolicies,
    simulator: {
      clients: 1,
      devicesPerClient: opts.devicesPerClient ?? 5,
      knownBadPatch: false,
      offlineRate: 0,
    },
  });
  deps.notifiers.push(teamsNotifier(s.db.store, testLog));
  deps.timing = { ...deps.timing, cardUpdateMs: opts.cardUpdateMs ?? 100 };
  return deps;
}

/** The text of every reply the bot sent to one incoming activity, in order. */
export const repliesTo = (connector: FakeConnector, activityId: string): string[] =>
  connector.requests
    .filter((r) => r.operation === 'replyToActivity' && r.activityId === activityId)
    .map((r) => (r.body as { text?: unknown } | undefined)?.text)
    .map((text) => (typeof text === 'string' ? text : ''));

export interface ServedFrontDoor {
  door: TeamsFrontDoor;
  server: BotServer;
  /** The messaging endpoint, …/api/messages. */
  url: string;
  close(): Promise<void>;
}

/** A front door served by bot/server.ts on 127.0.0.1:0, its publisher on a notifier of its own. */
export async function serveTeams(
  s: RolloutSuite,
  log: Logger,
  opts: { config?: TeamsConfig; authOverrides?: TeamsAuthOverrides } = {},
): Promise<ServedFrontDoor> {
  const store = s.db.store;
  const policies = teamsPolicies;
  const runner = new CommandRunner({
    temporal: s.t.client,
    taskQueue: s.t.taskQueue,
    store,
    policies,
    log,
  });
  const notifiers = [teamsNotifier(store, log)];
  const publisher = new CardPublisher({ store, notifiers, log, updateIntervalMs: 100 });
  const door = createTeamsFrontDoor({
    config: opts.config ?? OPEN_TEAMS,
    runner,
    publisher,
    store,
    policies,
    log,
    ...(opts.authOverrides ? { authOverrides: opts.authOverrides } : {}),
  });
  // As cli/chat.ts wires it: /healthz reports the adapter's readiness under "teams".
  const handler = withReadiness(door.handler, () => teamsReadiness(door.adapter));
  const server = await startBotServer({ teams: handler }, '127.0.0.1', 0, (err) =>
    log.error({ err }, 'bot request failed'),
  );
  return {
    door,
    server,
    url: `${server.url}/api/messages`,
    close: async () => {
      await door.idle();
      await server.close();
      await stopTeamsReadiness(door.adapter);
    },
  };
}

export { until } from './until.js';

type Json = Record<string, unknown>;
/** The Adaptive Card of an activity the fake connector holds. */
export const cardOf = (
  a: { attachments?: Array<{ contentType: string; content?: unknown }> } | undefined,
) =>
  a?.attachments?.find((x) => x.contentType === CARD_TYPE)?.content as
    { body: Json[]; actions?: Json[] } | undefined;
export const textOf = (v: unknown): string => JSON.stringify(v ?? '');
