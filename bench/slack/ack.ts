/**
 * Measurement 1 of bench/slack: how fast the real Bolt HTTP front door acks under a steady
 * open-loop stream of signed interactions, while it does real work after each ack.
 *
 * A rollout waits for approval on a real worker (this process) against a real Temporal dev
 * server and PostgreSQL; its card is posted to the fake Slack Web API. The bot (bot.ts) runs
 * in a process of its own. Every 1000/rps ms, whatever came back, this process sends one
 * signed request: alternately an approve click on that card by a user who is not an
 * approver (→ PostgreSQL lookups, an audit row, an ephemeral refusal through the fake) and
 * `/patch status` (→ PostgreSQL, a reply to its response_url). Each click comes from its
 * own user, so the follow-up (ephemeral, reply) is matched to the request that caused it.
 */
import { performance } from 'node:perf_hooks';
import type { Client } from '@temporalio/client';
import { createLogNotifier } from '../../adapters/chat/log.js';
import { createLogItsm } from '../../adapters/itsm/log.js';
import { createSlackNotifier, slackWebClient } from '../../bot/slack/notifier.js';
import { createPool, createStore } from '../../store/index.js';
import { blockActions, slashCommand, type SlackPayload } from '../../test/fakes/slack/payloads.js';
import { startFakeSlack } from '../../test/fakes/slack/web-api.js';
import { treeCpuSeconds } from '../rollout/measure.js';
import type { LoopDelay } from './bot.js';
import { sendSigned, startBot } from './bot-process.js';
import * as c from './common.js';

const ACK_DEADLINE_MS = 3_000;

export interface AckOptions {
  client: Client;
  temporalAddress: string;
  temporalPid: number | undefined;
  adminDbUrl: string;
  seconds: number;
  rps: number;
  updateIntervalMs: number;
}

type Kind = 'click' | 'status';

export interface KindResult {
  ack: c.Stats;
  non200: number;
  over3s: number;
  /** Request → its ephemeral refusal (click) or response_url reply (status) at the fake. */
  followUp: c.Stats;
  followUpMissing: number;
}

export interface AckResult {
  sent: number;
  all: { ack: c.Stats; non200: number; over3s: number };
  kinds: Record<Kind, KindResult>;
  /** How late the generator sent against its schedule, at worst. */
  scheduleLagMaxMs: number;
  /** From the last send until every follow-up had arrived (or the wait gave up). */
  drainS: number;
  loopDelayMs: LoopDelay;
  requestErrors: number;
  cpuS: { bot?: number; bench: number; temporal?: number; postgres?: number };
  load: c.LoadStats;
  slackCalls: Record<string, number>;
}

interface Sample {
  kind: Kind;
  user: string;
  key: string;
  wall: number;
  ms: number;
  status: number;
}

export async function measureAck(o: AckOptions): Promise<AckResult> {
  const stops = new c.Teardown('ack');
  const total = Math.round(o.seconds * o.rps);
  const users = Array.from({ length: total }, (_, i) => `U9${String(i).padStart(7, '0')}`);
  const warmUsers = Array.from({ length: 10 }, (_, i) => `U8${String(i).padStart(7, '0')}`);
  try {
    const db = await c.throwawayDatabase(o.adminDbUrl, 'ack');
    stops.add(() => db.drop());
    const pool = createPool(db.url);
    stops.add(() => pool.end());
    const store = createStore(pool);
    const fake = await startFakeSlack({
      usergroups: { [c.USERGROUP]: [c.GROUP_APPROVER] },
      channels: [
        {
          id: c.CHANNEL,
          name: 'patching',
          members: [c.APPROVER, c.GROUP_APPROVER, ...users, ...warmUsers],
        },
      ],
    });
    stops.add(() => fake.close());
    const sink = await c.responseSink();
    stops.add(() => sink.close());
    const slack = c.slackConfig(fake.url);
    const yaml = c.policyYaml('needs_approval', 50);
    const taskQueue = `bench-slack-ack-${Date.now().toString(36)}`;
    const worker = await c.startWorker(o.temporalAddress, taskQueue, {
      store,
      log: c.benchLog,
      rmm: c.benchSimulator(50),
      itsm: createLogItsm(c.benchLog),
      notifiers: [
        createLogNotifier(c.benchLog),
        createSlackNotifier(slack, slackWebClient(slack, c.benchLog)),
      ],
      policies: [c.parseBenchPolicy(yaml)],
      timing: { jobPollMs: 20, offlineRetryMs: 1_000, cardUpdateMs: o.updateIntervalMs },
    });
    stops.add(() => worker.stop());
    const rolloutId = `bench-slack-ack-${Date.now().toString(36)}`;
    const handle = await o.client.workflow.start('patchCycle', {
      taskQueue,
      workflowId: rolloutId,
      args: [{ rolloutId, clientId: 'acme', startedBy: 'bench' }],
    });
    stops.add(() => handle.terminate('bench done'));
    const end = Date.now() + 60_000;
    let cardTs: string | undefined;
    while (!cardTs) {
      if (Date.now() > end) throw new Error('no approval card after 60 s');
      cardTs = (fake.messages.get(c.CHANNEL) ?? []).find((m) => {
        const blocks = JSON.stringify(m.blocks ?? []);
        return !m.thread_ts && blocks.includes(rolloutId) && blocks.includes('patchops.approve');
      })?.ts;
      if (!cardTs) await c.sleep(100);
    }
    c.say(`ack: rollout ${rolloutId} awaits approval, card ${cardTs}`);

    const bot = await startBot({
      databaseUrl: db.url,
      temporalAddress: o.temporalAddress,
      taskQueue,
      slackApiUrl: fake.url,
      policyYaml: yaml,
      updateIntervalMs: o.updateIntervalMs,
      poolSize: 10,
    });
    stops.add(() => bot.stop());
    const events = `${bot.url}/slack/events`;
    const value = JSON.stringify({ action: 'approve', rolloutId, round: 0 });
    const payload = (kind: Kind, user: string, key: string): SlackPayload =>
      kind === 'click'
        ? blockActions({
            user,
            channel: c.CHANNEL,
            messageTs: cardTs,
            actionId: 'patchops.approve',
            value,
          })
        : slashCommand({
            command: '/patch',
            text: 'status',
            user,
            channel: c.CHANNEL,
            responseUrl: `${sink.url}/r/${key}`,
          });

    // Warm-up (not measured): the first requests JIT-compile the handlers and fill the
    // user-group cache.
    for (const [i, user] of warmUsers.entries())
      await sendSigned(events, payload(i % 2 ? 'status' : 'click', user, `warm${i}`));
    await c.sleep(1_000);

    c.say(`ack: ${total} requests at ${o.rps}/s for ${o.seconds} s`);
    bot.ask({ type: 'reset' });
    const load = c.machineLoad();
    const cpu0 = {
      bot: treeCpuSeconds(bot.pid),
      bench: c.selfCpuSeconds(),
      temporal: treeCpuSeconds(o.temporalPid),
      postgres: c.postgresCpuSeconds(),
    };
    const samples: Sample[] = [];
    const inflight: Array<Promise<void>> = [];
    const period = 1000 / o.rps;
    const t0 = performance.now() + 50;
    let lag = 0;
    for (let i = 0; i < total; i++) {
      const due = t0 + i * period;
      const wait = due - performance.now();
      if (wait > 1) await c.sleep(wait);
      lag = Math.max(lag, performance.now() - due);
      const kind: Kind = i % 2 === 0 ? 'click' : 'status';
      const user = users[i]!;
      const key = String(i);
      const wall = Date.now();
      inflight.push(
        sendSigned(events, payload(kind, user, key)).then((r) => {
          samples.push({ kind, user, key, wall, ...r });
        }),
      );
    }
    const lastSend = Date.now();
    await Promise.all(inflight);
    const loopDelay = await bot.stats();
    const cpu = {
      bot: c.diff(treeCpuSeconds(bot.pid), cpu0.bot),
      bench: c.selfCpuSeconds() - cpu0.bench,
      temporal: c.diff(treeCpuSeconds(o.temporalPid), cpu0.temporal),
      postgres: c.diff(c.postgresCpuSeconds(), cpu0.postgres),
    };

    // Follow-ups: ephemerals at the fake (by user) and replies at the sink (by key).
    const ephemeralAt = () => {
      const at = new Map<string, number>();
      for (const call of fake.callsTo('chat.postEphemeral'))
        if (call.status === 200 && !call.error && typeof call.body.user === 'string')
          at.set(call.body.user, at.get(call.body.user) ?? call.at);
      return at;
    };
    const followUp = (s: Sample, eph: Map<string, number>) =>
      s.kind === 'click' ? eph.get(s.user) : sink.arrivals.get(`/r/${s.key}`);
    const drainEnd = Date.now() + 60_000;
    while (Date.now() < drainEnd) {
      const eph = ephemeralAt();
      if (samples.every((s) => followUp(s, eph) !== undefined)) break;
      await c.sleep(200);
    }
    const eph = ephemeralAt();
    const arrivals = samples.flatMap((s) => followUp(s, eph) ?? []);
    const drainS = (Math.max(lastSend, ...arrivals) - lastSend) / 1000;
    const loadStats = load.stop();
    const kindResult = (kind: Kind): KindResult => {
      const ks = samples.filter((s) => s.kind === kind);
      const follow = ks.flatMap((s) => {
        const at = followUp(s, eph);
        return at === undefined ? [] : [at - s.wall];
      });
      return {
        ack: c.stats(ks.map((s) => s.ms)),
        non200: ks.filter((s) => s.status !== 200).length,
        over3s: ks.filter((s) => s.ms > ACK_DEADLINE_MS).length,
        followUp: c.stats(follow),
        followUpMissing: ks.length - follow.length,
      };
    };
    const slackCalls: Record<string, number> = {};
    for (const call of fake.calls) slackCalls[call.method] = (slackCalls[call.method] ?? 0) + 1;
    return {
      sent: samples.length,
      all: {
        ack: c.stats(samples.map((s) => s.ms)),
        non200: samples.filter((s) => s.status !== 200).length,
        over3s: samples.filter((s) => s.ms > ACK_DEADLINE_MS).length,
      },
      kinds: { click: kindResult('click'), status: kindResult('status') },
      scheduleLagMaxMs: lag,
      drainS,
      loopDelayMs: loopDelay.loopDelayMs,
      requestErrors: loopDelay.requestErrors,
      cpuS: cpu,
      load: loadStats,
      slackCalls,
    };
  } finally {
    await stops.run();
  }
}
