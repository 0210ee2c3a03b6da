/**
 * bench/slack — the Slack front door under load, and the Slack Web API calls of a rollout.
 * Prints markdown tables; not part of the test run.
 *
 *   npx tsx bench/slack/run.ts [--seconds 20] [--rps 50] [--devices 1000]
 *                              [--update-interval 3000] [--concurrency 200]
 *                              [--only ack|rollout] [--timeout-min 20]
 *
 * 1. ack (ack.ts): signed interactions sent open-loop at --rps for --seconds to the real
 *    Bolt HTTP front door (its own process); ack latency = send → HTTP response.
 * 2. rollout (rollout.ts): patchCycle over --devices simulated devices with the fake Slack
 *    Web API enforcing Slack's real rate-limit tiers; calls per method, 429s, and the most
 *    chat.update calls one message got in a minute.
 *
 * Both run on one throwaway Temporal dev server (.tools/temporal, cli/temporal/*, or
 * TEMPORAL_CLI) and on PostgreSQL from DATABASE_URL (else an embedded one), a fresh
 * database each; every process and database started here is stopped or dropped at the end.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { freePort } from '../../cli/process/tethered.js';
import { PROJECT_ROOT } from '../../cli/runtime.js';
import { startTemporal } from '../../cli/temporal/start.js';
import { startEmbeddedPostgres } from '../../store/embedded.js';
import { measureAck, type AckResult, type KindResult } from './ack.js';
import { Teardown, ms, n, say, teardownAll, type LoadStats, type Stats } from './common.js';
import { measureRollout, type RolloutResult } from './rollout.js';

interface Options {
  seconds: number;
  rps: number;
  devices: number;
  updateIntervalMs: number;
  concurrency: number;
  only: 'ack' | 'rollout' | undefined;
  timeoutMs: number;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '20' },
      rps: { type: 'string', default: '50' },
      devices: { type: 'string', default: '1000' },
      'update-interval': { type: 'string', default: '3000' },
      concurrency: { type: 'string', default: '200' },
      only: { type: 'string' },
      'timeout-min': { type: 'string', default: '20' },
    },
    strict: true,
  });
  const num = (name: string, v: string): number => {
    const x = Number(v.replaceAll('_', ''));
    if (!Number.isFinite(x) || x <= 0) throw new Error(`--${name} expects a number > 0`);
    return x;
  };
  const only = values.only;
  if (only !== undefined && only !== 'ack' && only !== 'rollout')
    throw new Error('--only expects ack or rollout');
  return {
    seconds: num('seconds', values.seconds),
    rps: num('rps', values.rps),
    devices: Math.round(num('devices', values.devices)),
    updateIntervalMs: Math.round(num('update-interval', values['update-interval'])),
    concurrency: Math.round(num('concurrency', values.concurrency)),
    only,
    timeoutMs: num('timeout-min', values['timeout-min']) * 60_000,
  };
}

const row = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
const pcts = (s: Stats) => [ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max)];
const secs = (x: number | undefined) => (x === undefined ? '–' : x.toFixed(1));
const loadLine = (l: LoadStats) =>
  `machine (${l.cpus} CPUs) ${l.busyMean.toFixed(0)} % busy on average, ${l.busyMax.toFixed(0)} % in the busiest second, 1-min load average ${l.load1.toFixed(2)} at the end`;

function ackTables(r: AckResult, o: Options): string[] {
  const kinds: Array<[string, KindResult]> = [
    ['approve click, not an approver', r.kinds.click],
    ['`/patch status`', r.kinds.status],
  ];
  return [
    `### Ack latency: ${o.rps} interactions/s for ${o.seconds} s (open loop), real Bolt HTTP front door`,
    '',
    '| requests | count | p50 ms | p90 ms | p99 ms | max ms | non-200 | over 3,000 ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    row(['all', n(r.all.ack.count), ...pcts(r.all.ack), r.all.non200, r.all.over3s]),
    ...kinds.map(([name, k]) => row([name, n(k.ack.count), ...pcts(k.ack), k.non200, k.over3s])),
    '',
    'Work after the ack (request sent → its ephemeral refusal / response_url reply arrived):',
    '',
    '| follow-up | arrived | missing | p50 ms | p90 ms | p99 ms | max ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    row([
      'click → chat.postEphemeral',
      n(r.kinds.click.followUp.count),
      r.kinds.click.followUpMissing,
      ...pcts(r.kinds.click.followUp),
    ]),
    row([
      '`/patch status` → reply',
      n(r.kinds.status.followUp.count),
      r.kinds.status.followUpMissing,
      ...pcts(r.kinds.status.followUp),
    ]),
    '',
    `Bot process: event-loop delay p50 ${r.loopDelayMs.p50.toFixed(1)} ms, p99 ${r.loopDelayMs.p99.toFixed(1)} ms, max ${r.loopDelayMs.max.toFixed(1)} ms; ${r.requestErrors} request errors. Generator lag behind schedule at worst ${ms(r.scheduleLagMaxMs)} ms; all follow-ups in ${r.drainS.toFixed(1)} s after the last send. CPU s during the window: bot ${secs(r.cpuS.bot)}, bench (generator, fake Slack, idle worker) ${secs(r.cpuS.bench)}, Temporal ${secs(r.cpuS.temporal)}, PostgreSQL (all servers on the machine) ${secs(r.cpuS.postgres)}; ${loadLine(r.load)}.`,
    `Slack calls the fake received: ${Object.entries(r.slackCalls)
      .map(([m, k]) => `${m} ${n(k)}`)
      .join(', ')}.`,
  ];
}

function rolloutTables(r: RolloutResult, o: Options): string[] {
  return [
    `### Slack Web API calls during a ${n(o.devices)}-device rollout (fake Slack, real rate-limit tiers)`,
    '',
    '| method | calls | answered 429 | other errors |',
    '| --- | ---: | ---: | ---: |',
    ...r.methods.map((m) => row([m.method, n(m.calls), m.rateLimited, m.failed])),
    row(['**total**', `**${n(r.total)}**`, `**${r.rateLimited}**`, '']),
    '',
    '| outcome | wall time (start → result) | start → last Slack call | 429s (target 0) | max chat.update per message in any 60 s (429s included) | max chat.update in any 60 s, all messages (Tier 3: 50) | shortest gap between updates of one message | messages updated | posted top-level / in threads | final card shows Completed |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    row([
      `${r.phase} (${r.rings})`,
      `${(r.wallMs / 1000).toFixed(1)} s`,
      `${(r.lastCallMs / 1000).toFixed(1)} s`,
      r.rateLimited,
      r.maxUpdatesPerMessage60s,
      r.maxUpdates60s,
      Number.isFinite(r.minUpdateGapMs) ? `${n(r.minUpdateGapMs)} ms` : '–',
      r.messagesUpdated,
      `${r.posted.topLevel} / ${r.posted.threaded}`,
      r.finalCardCurrent ? 'yes' : 'no',
    ]),
    '',
    `CPU s during the rollout: bench process (worker, fake Slack) ${secs(r.cpuS.bench)}, Temporal ${secs(r.cpuS.temporal)}, PostgreSQL (all servers on the machine) ${secs(r.cpuS.postgres)}; ${loadLine(r.load)}.`,
  ];
}

async function main(): Promise<void> {
  const o = parseOptions();
  // Created first, so that it is torn down last (after the measurements' own teardowns).
  const stops = new Teardown('bench');
  const interrupted = () => {
    say('interrupted: cleaning up');
    void teardownAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const out: string[] = [];
  let ack: AckResult | undefined;
  let rollout: RolloutResult | undefined;
  let pgWhere = 'PostgreSQL from DATABASE_URL';
  let temporalWhere = '';
  try {
    let adminDbUrl = process.env.DATABASE_URL;
    if (!adminDbUrl) {
      const scratch = mkdtempSync(path.join(tmpdir(), 'patchops-bench-slack-'));
      stops.add(() => Promise.resolve(rmSync(scratch, { recursive: true, force: true })));
      chmodSync(scratch, 0o755); // embedded PostgreSQL runs as the postgres user when we are root
      const pg = await startEmbeddedPostgres({
        dir: path.join(scratch, 'pg'),
        port: await freePort(),
      });
      stops.add(() => pg.stop());
      adminDbUrl = pg.url;
      pgWhere = 'embedded PostgreSQL';
    }
    const temporal = await startTemporal({
      root: PROJECT_ROOT,
      explicitCli: process.env.TEMPORAL_CLI,
    });
    stops.add(() => temporal.stop());
    temporalWhere = temporal.source;
    const connection = await Connection.connect({ address: temporal.address });
    stops.add(() => connection.close());
    const client = new Client({ connection, namespace: 'default' });
    say(`Temporal ${temporal.address} (${temporal.source}), ${pgWhere}`);
    const base = {
      client,
      temporalAddress: temporal.address,
      temporalPid: temporal.pid,
      adminDbUrl,
      updateIntervalMs: o.updateIntervalMs,
    };
    if (o.only !== 'rollout') {
      ack = await measureAck({ ...base, seconds: o.seconds, rps: o.rps });
      say(`ack: ${JSON.stringify(ack)}`);
    }
    if (o.only !== 'ack') {
      rollout = await measureRollout({
        ...base,
        devices: o.devices,
        concurrency: o.concurrency,
        timeoutMs: o.timeoutMs,
      });
      say(`rollout: ${JSON.stringify(rollout)}`);
    }
  } finally {
    await stops.run();
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  }
  if (ack) out.push(...ackTables(ack, o), '');
  if (rollout) out.push(...rolloutTables(rollout, o), '');
  out.push(
    `Settings: --seconds ${o.seconds} --rps ${o.rps} (mix 1:1 approve clicks by non-approvers : \`/patch status\`, each click from its own user, 10 unmeasured warm-up requests; the fake Slack's rate limits off for the ack run) · --devices ${n(o.devices)} (1 simulated client, no latency, no offline devices, no failures; approval auto; rings pilot 10 % / broad 90 %, concurrency ${o.concurrency}, soak 0 s; no windows; reboot if_required, 0 user deferrals; breaker 0.9 / 5 samples; jobPollMs 20; worker 200 activities / 100 workflow tasks / 1,000 cached) · --update-interval ${o.updateIntervalMs} ms (card updates at most once per interval per rollout; the fake Slack enforces real tiers, tierScale 1) · Temporal: a throwaway dev server from ${temporalWhere || '–'} · ${pgWhere}, a fresh database per measurement · Node ${process.version}.`,
  );
  process.stdout.write(`\n${out.join('\n')}\n`);
}

await main();
