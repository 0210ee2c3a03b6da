/**
 * The bot process of bench/slack, forked by ack.ts: what `patchops bot` runs — the Bolt
 * HTTP front door behind startBotServer, the command runner and a card publisher posting
 * through the Slack notifier — wired as test/e2e/slack.test.ts wires them. It runs alone
 * so that its event loop is not shared with the load generator, the fake Slack or the
 * worker.
 *
 * IPC: the child sends {type: 'ready', url}; the parent sends 'reset' (start measuring
 * event-loop delay), 'stats' (answered with {type: 'stats'}) and 'stop'. If the parent
 * goes away the child exits at once.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { CardPublisher } from '../../bot/cards/publisher.js';
import { CommandRunner } from '../../bot/commands/runner.js';
import { startBotServer } from '../../bot/server.js';
import { createSlackFrontDoor } from '../../bot/slack/app.js';
import { createSlackNotifier, slackWebClient } from '../../bot/slack/notifier.js';
import { createPool, createStore } from '../../store/index.js';
import { benchLog, parseBenchPolicy, slackConfig } from './common.js';

export interface BotConfig {
  databaseUrl: string;
  temporalAddress: string;
  taskQueue: string;
  slackApiUrl: string;
  policyYaml: string;
  updateIntervalMs: number;
  poolSize: number;
}

export interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
}

export type BotMessage =
  | { type: 'ready'; url: string }
  | { type: 'error'; message: string }
  | { type: 'stats'; loopDelayMs: LoopDelay; requestErrors: number };

export type ParentMessage = { type: 'reset' } | { type: 'stats' } | { type: 'stop' };

async function main(): Promise<void> {
  const config = JSON.parse(process.env.BENCH_SLACK_BOT ?? '') as BotConfig;
  const send = (m: BotMessage) => process.send?.(m);
  let stopping = false;
  process.on('disconnect', () => {
    if (!stopping) process.exit(1);
  });
  const log = benchLog;
  const policy = parseBenchPolicy(config.policyYaml);
  const pool = createPool(config.databaseUrl, config.poolSize);
  const store = createStore(pool);
  const connection = await Connection.connect({ address: config.temporalAddress });
  const temporal = new Client({ connection, namespace: 'default' });
  const slack = slackConfig(config.slackApiUrl);
  const publisher = new CardPublisher({
    store,
    notifiers: [createSlackNotifier(slack, slackWebClient(slack, log))],
    log,
    updateIntervalMs: config.updateIntervalMs,
  });
  const runner = new CommandRunner({
    temporal,
    taskQueue: config.taskQueue,
    store,
    policies: [policy],
    log,
  });
  const front = createSlackFrontDoor({
    config: slack,
    runner,
    publisher,
    store,
    policies: [policy],
    log,
  });
  let requestErrors = 0;
  const server = await startBotServer({ slack: front.handler }, '127.0.0.1', 0, (err) => {
    requestErrors++;
    log.error({ err }, 'bot request failed');
  });
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  process.on('message', (m: ParentMessage) => {
    if (m.type === 'reset') delay.reset();
    else if (m.type === 'stats') {
      const q = (p: number) => delay.percentile(p) / 1e6;
      send({
        type: 'stats',
        loopDelayMs: { p50: q(50), p99: q(99), max: delay.max / 1e6 },
        requestErrors,
      });
    } else if (m.type === 'stop') {
      stopping = true;
      void (async () => {
        delay.disable();
        await server.close();
        await publisher.flush();
        await connection.close();
        await pool.end();
        process.disconnect?.();
      })();
    }
  });
  send({ type: 'ready', url: server.url });
}

main().catch((err: unknown) => {
  process.send?.({ type: 'error', message: String((err as Error)?.stack ?? err) });
  process.exitCode = 1;
  process.disconnect?.();
});
