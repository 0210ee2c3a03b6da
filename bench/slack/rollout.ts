/**
 * Measurement 2 of bench/slack: which Slack Web API calls one rollout makes, and whether
 * Slack would refuse any of them. A real worker (this process) runs patchCycle for one
 * simulated client with no latency, its activities posting and updating cards through the
 * Slack notifier into the fake Slack Web API with Slack's rate limits on at real tiers
 * (chat.postMessage 1/s per channel, chat.update Tier 3 = 50/min, …).
 */
import type { Client } from '@temporalio/client';
import { createLogNotifier } from '../../adapters/chat/log.js';
import { createLogItsm } from '../../adapters/itsm/log.js';
import { CardPublisher } from '../../bot/cards/publisher.js';
import { createSlackNotifier, slackWebClient } from '../../bot/slack/notifier.js';
import { createPool, createStore } from '../../store/index.js';
import type { CycleState } from '../../workflows/cycle-state.js';
import { startFakeSlack, type RecordedCall } from '../../test/fakes/slack/web-api.js';
import { treeCpuSeconds } from '../rollout/measure.js';
import * as c from './common.js';

export interface RolloutOptions {
  client: Client;
  temporalAddress: string;
  temporalPid: number | undefined;
  adminDbUrl: string;
  devices: number;
  concurrency: number;
  updateIntervalMs: number;
  timeoutMs: number;
}

export interface MethodCalls {
  method: string;
  calls: number;
  rateLimited: number;
  /** Answers with ok: false other than ratelimited. */
  failed: number;
}

export interface RolloutResult {
  phase: string;
  rings: string;
  /** patchCycle start → result. */
  wallMs: number;
  /** patchCycle start → the last Slack call (final card update included). */
  lastCallMs: number;
  methods: MethodCalls[];
  total: number;
  rateLimited: number;
  /** Most chat.update calls any one message got within a sliding 60-s window. */
  maxUpdatesPerMessage60s: number;
  /** Most chat.update calls in any 60-s window, all messages (Tier 3 is per workspace). */
  maxUpdates60s: number;
  /** Shortest time between two chat.update calls to the same message. */
  minUpdateGapMs: number;
  messagesUpdated: number;
  /** Cards and notices the channel holds at the end: top-level / in threads. */
  posted: { topLevel: number; threaded: number };
  finalCardCurrent: boolean;
  cpuS: { bench: number; temporal?: number; postgres?: number };
  load: c.LoadStats;
}

/** Largest number of timestamps within any window of `windowMs` (inclusive start). */
export function maxInWindow(times: readonly number[], windowMs: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let lo = 0, hi = 0; hi < t.length; hi++) {
    while (t[hi]! - t[lo]! >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

export async function measureRollout(o: RolloutOptions): Promise<RolloutResult> {
  const stops = new c.Teardown('rollout');
  try {
    const db = await c.throwawayDatabase(o.adminDbUrl, 'rollout');
    stops.add(() => db.drop());
    const pool = createPool(db.url, 10);
    stops.add(() => pool.end());
    const store = createStore(pool);
    const fake = await startFakeSlack({
      rateLimits: true,
      tierScale: 1,
      usergroups: { [c.USERGROUP]: [c.GROUP_APPROVER] },
      channels: [{ id: c.CHANNEL, name: 'patching', members: [c.APPROVER, c.GROUP_APPROVER] }],
    });
    stops.add(() => fake.close());
    const slack = c.slackConfig(fake.url);
    const notifiers = [
      createLogNotifier(c.benchLog),
      createSlackNotifier(slack, slackWebClient(slack, c.benchLog)),
    ];
    // The worker's publisher, built as createActivities would from cardUpdateMs; held here
    // so the last coalesced card update can be awaited.
    const publisher = new CardPublisher({
      store,
      notifiers,
      log: c.benchLog,
      updateIntervalMs: o.updateIntervalMs,
    });
    const taskQueue = `bench-slack-rollout-${Date.now().toString(36)}`;
    const worker = await c.startWorker(
      o.temporalAddress,
      taskQueue,
      {
        store,
        log: c.benchLog,
        rmm: c.benchSimulator(o.devices),
        itsm: createLogItsm(c.benchLog),
        notifiers,
        publisher,
        policies: [c.parseBenchPolicy(c.policyYaml('auto', o.concurrency))],
        timing: { jobPollMs: 20, offlineRetryMs: 1_000, cardUpdateMs: o.updateIntervalMs },
      },
      {
        maxConcurrentActivityTaskExecutions: 200,
        maxConcurrentWorkflowTaskExecutions: 100,
        maxCachedWorkflows: 1000,
      },
    );
    stops.add(() => worker.stop());

    const rolloutId = `bench-slack-rollout-${Date.now().toString(36)}`;
    c.say(`rollout: ${rolloutId}, ${o.devices} devices`);
    const load = c.machineLoad();
    const cpu0 = {
      bench: c.selfCpuSeconds(),
      temporal: treeCpuSeconds(o.temporalPid),
      postgres: c.postgresCpuSeconds(),
    };
    const t0 = Date.now();
    const handle = await o.client.workflow.start('patchCycle', {
      taskQueue,
      workflowId: rolloutId,
      args: [{ rolloutId, clientId: 'acme', startedBy: 'bench' }],
    });
    let timer: NodeJS.Timeout | undefined;
    const state = await Promise.race([
      handle.result() as Promise<CycleState>,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`rollout not done after ${o.timeoutMs / 60_000} min`)),
          o.timeoutMs,
        );
      }),
    ])
      .catch(async (err: unknown) => {
        await handle.terminate('bench timed out').catch(() => undefined);
        throw err;
      })
      .finally(() => clearTimeout(timer));
    const wallMs = Date.now() - t0;
    c.say(`rollout: ${state.phase} in ${(wallMs / 1000).toFixed(1)} s; flushing card updates`);
    // flush() runs pending updates but not one re-queued by an update that was running
    // meanwhile: flush until a pass makes no Slack call.
    for (let pass = 0; pass < 10; pass++) {
      const before = fake.calls.length;
      await publisher.flush();
      await c.sleep(200);
      if (fake.calls.length === before) break;
    }
    const cpu = {
      bench: c.selfCpuSeconds() - cpu0.bench,
      temporal: c.diff(treeCpuSeconds(o.temporalPid), cpu0.temporal),
      postgres: c.diff(c.postgresCpuSeconds(), cpu0.postgres),
    };
    const loadStats = load.stop();

    const calls = fake.calls.filter((x) => x.at >= t0);
    const byMethod = new Map<string, RecordedCall[]>();
    for (const x of calls) byMethod.set(x.method, [...(byMethod.get(x.method) ?? []), x]);
    const methods = [...byMethod.entries()]
      .map(([method, xs]) => ({
        method,
        calls: xs.length,
        rateLimited: xs.filter((x) => x.status === 429).length,
        failed: xs.filter((x) => x.status !== 429 && x.error !== undefined).length,
      }))
      .sort((a, b) => b.calls - a.calls || a.method.localeCompare(b.method));
    const updates = byMethod.get('chat.update') ?? [];
    const perMessage = new Map<string, number[]>();
    for (const u of updates) {
      const k = `${String(u.body.channel)}|${String(u.body.ts)}`;
      perMessage.set(k, [...(perMessage.get(k) ?? []), u.at]);
    }
    const channel = fake.messages.get(c.CHANNEL) ?? [];
    const card = channel.find(
      (m) => !m.thread_ts && JSON.stringify(m.blocks ?? []).includes(rolloutId),
    );
    return {
      phase: state.phase,
      rings: state.rings.map((r) => `${r.name} ${r.succeeded}/${r.total}`).join(', '),
      wallMs,
      lastCallMs: Math.max(0, ...calls.map((x) => x.at)) - t0,
      methods,
      total: calls.length,
      rateLimited: fake.rateLimited,
      maxUpdatesPerMessage60s: Math.max(
        0,
        ...[...perMessage.values()].map((ts) => maxInWindow(ts, 60_000)),
      ),
      maxUpdates60s: maxInWindow(
        updates.map((u) => u.at),
        60_000,
      ),
      minUpdateGapMs: Math.min(...[...perMessage.values()].map(minGap)),
      messagesUpdated: perMessage.size,
      posted: {
        topLevel: channel.filter((m) => !m.thread_ts).length,
        threaded: channel.filter((m) => m.thread_ts).length,
      },
      finalCardCurrent: /Completed/.test(JSON.stringify(card?.blocks ?? [])),
      cpuS: cpu,
      load: loadStats,
    };
  } finally {
    await stops.run();
  }
}

function minGap(times: readonly number[]): number {
  const t = [...times].sort((a, b) => a - b);
  return Math.min(...t.slice(1).map((x, i) => x - t[i]!));
}
