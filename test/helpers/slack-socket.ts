import { pino } from 'pino';
import { CardPublisher } from '../../bot/cards/publisher.js';
import { CommandRunner } from '../../bot/commands/runner.js';
import { createSlackFrontDoor, type SlackFrontDoor } from '../../bot/slack/app.js';
import { createSlackNotifier, slackWebClient } from '../../bot/slack/notifier.js';
import type { SlackConfig } from '../../cli/config-chat.js';
import type { PolicyDocument } from '../../domain/policy/index.js';
import { startResponseUrlSink, type ResponseUrlSink } from '../fakes/slack/response-url.js';
import { startFakeSlack, type FakeSlack, type FakeSlackOptions } from '../fakes/slack/web-api.js';
import { testDeps, type TestDeps } from './deps.js';
import type { RolloutSuite } from './rollout-suite.js';
import { testLog } from './temporal.js';

/** The app-level token the fake accepts by default. */
export const APP_TOKEN = 'xapp-test';

export interface SocketSlack {
  fake: FakeSlack;
  /** Where slash-command and interaction payloads say to respond. */
  sink: ResponseUrlSink;
  config: SlackConfig;
  front: SlackFrontDoor;
  /** The front door's own publisher (it re-renders cards after a click). */
  publisher: CardPublisher;
  /** Every line the front door logged, at debug level (to check what reaches logs). */
  logLines: string[];
  /** Activity deps whose notifiers include Slack, as `patchops worker` builds them. */
  workerDeps(opts: Parameters<typeof testDeps>[1]): TestDeps;
  close(): Promise<void>;
}

/**
 * A fake Slack (Web API + Socket Mode) and the real Slack front door in Socket Mode, started
 * (connected) for one suite. Cards go to `channel`.
 */
export async function serveSlackSocket(
  s: RolloutSuite,
  o: { policies: PolicyDocument[]; channel: string; fake?: FakeSlackOptions },
): Promise<SocketSlack> {
  const fake = await startFakeSlack(o.fake);
  const sink = await startResponseUrlSink();
  const config: SlackConfig = {
    botToken: 'xoxb-test',
    signingSecret: undefined,
    appToken: APP_TOKEN,
    mode: 'socket',
    apiUrl: fake.url,
    channels: { '*': o.channel },
    allowedChannels: [],
    allowedTeams: ['T0001'],
  };
  const logLines: string[] = [];
  const log = pino(
    { level: 'debug' },
    pino.multistream([
      { level: 'debug', stream: { write: (line: string) => void logLines.push(line) } },
      { level: testLog.level, stream: process.stdout },
    ]),
  );
  const notifier = () => createSlackNotifier(config, slackWebClient(config));
  const publisher = new CardPublisher({
    store: s.db.store,
    notifiers: [notifier()],
    log: testLog,
    updateIntervalMs: 100,
  });
  const runner = new CommandRunner({
    temporal: s.t.client,
    taskQueue: s.t.taskQueue,
    store: s.db.store,
    policies: o.policies,
    log: testLog,
  });
  const front = createSlackFrontDoor({
    config,
    runner,
    publisher,
    store: s.db.store,
    policies: o.policies,
    log,
  });
  await front.start();
  return {
    fake,
    sink,
    config,
    front,
    publisher,
    logLines,
    workerDeps(opts) {
      const deps = testDeps(s.db.store, opts);
      deps.notifiers.push(notifier());
      deps.timing = { ...deps.timing, cardUpdateMs: 100 };
      return deps;
    },
    close: async () => {
      await front.stop();
      await publisher.flush();
      await sink.close();
      await fake.close();
    },
  };
}
