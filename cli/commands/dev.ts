import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { redactUrl } from '../logger.js';
import { freePort, spawnTethered } from '../process/tethered.js';
import { clearDevState, PROJECT_ROOT, writeDevState } from '../runtime.js';
import { connectClient, connectWorker } from '../temporal/connect.js';
import { startTemporal } from '../temporal/start.js';
import { createWorker } from '../worker.js';
import { startChat } from '../chat.js';
import { buildActivityDeps } from '../deps.js';
import { DEMO_OFFLINE_RETRY_MS, DEMO_SIMULATOR, runDemo } from './demo.js';
import { setUpDatabase } from '../../store/migrate.js';
import { startEmbeddedPostgres } from '../../store/embedded.js';
import { createPool, createStore } from '../../store/index.js';
import type { smokeWorkflow } from '../../workflows/index.js';
import { serveSimulator } from '../../adapters/rmm/simulator/server.js';

export interface DevOptions {
  /** Start everything, run the self-check (and demo), then shut down. */
  once?: boolean;
  /** Run the demo rollouts on the simulated fleet (default true). */
  demo?: boolean;
  /** Approve demo rollouts as the demo user without asking. */
  yes?: boolean;
  /**
   * Workers polling the task queue (default 1, this process's own). More start as
   * `patchops worker` child processes; with the simulated RMM, dev then serves the
   * simulator so that every worker drives the same fleet.
   */
  workers?: number;
  out?: (line: string) => void;
}

type Cleanup = () => Promise<void>;

/**
 * `patchops dev`: PostgreSQL (DATABASE_URL or embedded) + migrations + a Temporal dev
 * server + a worker, all in this process tree, stopped together on Ctrl-C.
 */
export async function runDev(config: Config, log: Logger, opts: DevOptions = {}): Promise<void> {
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const cleanups: Cleanup[] = [];
  let stopping: Promise<void> | undefined;
  const stopAll = (): Promise<void> =>
    (stopping ??= (async () => {
      for (const fn of cleanups.reverse()) {
        try {
          await fn();
        } catch (err) {
          log.warn({ err }, 'error during shutdown');
        }
      }
    })());
  const onSignal = (signal: NodeJS.Signals) => {
    log.info({ signal }, 'stopping patchops dev');
    // A part stuck on an unreachable service (a chat platform, a remote Temporal) must not keep
    // the process up after Ctrl-C.
    setTimeout(() => {
      log.warn('patchops dev did not stop within 10 s; exiting');
      process.exit(1);
    }, 10_000).unref();
    void stopAll().then(() => process.exit(0));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    let databaseUrl = config.databaseUrl;
    let ownerUrl = config.databaseOwnerUrl;
    let pgWhere = 'DATABASE_URL';
    if (!databaseUrl) {
      const dir = path.join(config.dataDir, 'postgres');
      const pg = await startEmbeddedPostgres({
        dir,
        port: await freePort(),
        onLog: (line) => log.trace({ part: 'postgres' }, line.trim()),
      });
      cleanups.push(() => pg.stop());
      // Migrations run as the cluster's owner; the app connects as patchops_app, which may
      // only append to and read the audit trail.
      databaseUrl = pg.appUrl;
      ownerUrl = pg.ownerUrl;
      pgWhere = pg.relocated ? `embedded, ${pg.relocated}` : `embedded, data in ${dir}`;
    }
    const setup = await setUpDatabase({
      ownerUrl: ownerUrl ?? databaseUrl,
      appUrl: ownerUrl ? databaseUrl : undefined,
      log: { info: (m) => log.debug(m) },
    });
    const applied = setup.applied;
    for (const note of setup.notes) log.warn(note);
    if (applied.length) log.info({ applied }, 'migrations applied');

    let address = config.temporal.address;
    let temporalWhere = 'TEMPORAL_ADDRESS';
    let uiUrl: string | undefined;
    if (!address) {
      const dbFile = path.join(config.dataDir, 'temporal', 'dev.db');
      const server = await startTemporal({
        root: PROJECT_ROOT,
        explicitCli: config.temporal.cliPath,
        dbFile,
        port: config.temporal.devPort,
        uiPort: config.temporal.devUiPort,
        log,
      });
      cleanups.push(() => server.stop());
      address = server.address;
      uiUrl = server.uiUrl;
      temporalWhere = `dev server from ${server.source}, state in ${dbFile}`;
    }
    const target = { address, namespace: config.temporal.namespace };

    const pool = createPool(databaseUrl);
    cleanups.push(() => pool.end());
    const store = createStore(pool);
    // The demo fleet has realistic scan and install latency unless PATCHOPS_RMM_CONFIG says otherwise.
    const rmm = config.adapters.rmm;
    const usingDefaults =
      rmm.kind === 'simulator' &&
      Object.keys((rmm.settings as object | undefined) ?? {}).length === 0;
    let rmmChoice = usingDefaults ? { kind: 'simulator', settings: DEMO_SIMULATOR } : rmm;
    const workers = opts.workers ?? 1;
    let servedAt: string | undefined;
    if (workers > 1 && rmm.kind === 'simulator') {
      // Several workers share one simulated fleet only when it lives outside all of them.
      const served = await serveSimulatorFor(rmmChoice.settings, log);
      if (served.close) cleanups.push(served.close);
      servedAt = served.url;
      rmmChoice = { kind: 'simulator', settings: { url: served.url } };
    }
    const deps = buildActivityDeps(
      { ...config, adapters: { ...config.adapters, rmm: rmmChoice } },
      store,
      log,
    );
    // The demo policy has no maintenance windows, so an offline simulated device would wait
    // the production default (1 h) between retries and the demo would hang on it.
    if (rmm.kind === 'simulator')
      deps.timing = { ...deps.timing, offlineRetryMs: DEMO_OFFLINE_RETRY_MS };
    const connection = await connectWorker(config, target, log);
    cleanups.push(() => connection.close());
    const worker = await createWorker({
      connection,
      namespace: target.namespace,
      taskQueue: config.temporal.taskQueue,
      deps,
      tuning: config.worker,
    });
    const running = worker.run();
    cleanups.push(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    });

    const extraWorkers: Cleanup[] = [];
    for (let n = 2; n <= workers; n++) {
      extraWorkers.push(
        startWorkerProcess({
          DATABASE_URL: databaseUrl,
          TEMPORAL_ADDRESS: address,
          TEMPORAL_NAMESPACE: target.namespace,
          TEMPORAL_TASK_QUEUE: config.temporal.taskQueue,
          PATCHOPS_RMM: rmmChoice.kind,
          ...(rmmChoice.kind === 'simulator'
            ? { PATCHOPS_RMM_CONFIG: JSON.stringify(rmmChoice.settings) }
            : {}),
        }),
      );
    }
    // Together, so that Ctrl-C's 10 s budget is not spent one worker after another.
    if (extraWorkers.length > 0)
      cleanups.push(async () => void (await Promise.all(extraWorkers.map((stop) => stop()))));

    writeDevState(config, {
      pid: process.pid,
      databaseUrl,
      temporalAddress: address,
      temporalUi: uiUrl,
      namespace: target.namespace,
      taskQueue: config.temporal.taskQueue,
    });
    cleanups.push(() => Promise.resolve(clearDevState(config)));

    // Self-check: a workflow through the real worker that writes an audit event.
    const client = await connectClient(config, target);
    cleanups.push(() => client.connection.close());
    const checkId = `smoke-dev-${Date.now()}`;
    await client.workflow.execute<typeof smokeWorkflow>('smokeWorkflow', {
      taskQueue: config.temporal.taskQueue,
      workflowId: checkId,
      args: [{ actor: 'patchops dev', note: 'start-up self-check' }],
    });

    out('');
    out('patchops dev is running');
    out(`  PostgreSQL   ${redactUrl(databaseUrl)} (${pgWhere})`);
    out(`  Temporal     ${address}, namespace ${target.namespace} (${temporalWhere})`);
    if (uiUrl) out(`  Temporal UI  ${uiUrl}`);
    out(
      workers > 1
        ? `  Workers      ${workers} on task queue ${config.temporal.taskQueue}: pid ${process.pid} and ${workers - 1} \`patchops worker\` processes`
        : `  Worker       task queue ${config.temporal.taskQueue}, pid ${process.pid}`,
    );
    if (servedAt) out(`  RMM          simulator served at ${servedAt}, shared by every worker`);
    out(`  Self-check   workflow ${checkId} wrote its audit event`);
    if (config.chat.slack || config.chat.teams) {
      const bot = await startChat({
        config,
        temporal: client,
        taskQueue: config.temporal.taskQueue,
        store,
        policies: deps.policies,
        log,
      });
      cleanups.push(() => bot.close());
      out(
        `  Chat         ${bot.server ? `${bot.server.url} (/slack/events, /api/messages)` : 'Slack Socket Mode'}`,
      );
    }
    cleanups.push(async () => deps.publisher?.flush());
    if (opts.demo !== false) {
      out('');
      const clients = (await deps.rmm.listClients()).map((c) => c.id);
      await runDemo({
        client,
        taskQueue: config.temporal.taskQueue,
        store,
        clients,
        yes: opts.yes ?? false,
        out,
      });
      out('');
    }
    out(opts.once ? 'Stopping (--once).' : 'Press Ctrl-C to stop.');
    if (opts.once) {
      await stopAll();
      return;
    }
    await running;
  } catch (err) {
    await stopAll();
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * The simulator every worker of `dev --workers` shares: served here from the options, or
 * the one `url` already points at (then nothing is started).
 */
async function serveSimulatorFor(
  settings: unknown,
  log: Logger,
): Promise<{ url: string; close?: Cleanup }> {
  const { statePath, ...options } = (settings ?? {}) as Record<string, unknown>;
  if (typeof options.url === 'string') return { url: options.url };
  const served = await serveSimulator({
    config: options,
    ...(typeof statePath === 'string' ? { statePath } : {}),
    log,
  });
  return { url: served.url, close: () => served.close() };
}

/**
 * One more `patchops worker`, run the way this process was (same node flags and entry
 * point), tethered so that it dies with dev even on SIGKILL. Its output goes to ours.
 */
function startWorkerProcess(env: Record<string, string>): Cleanup {
  const entry = process.argv[1];
  if (!entry) throw new Error('cannot tell how patchops was started (no process.argv[1])');
  const child = spawnTethered(process.execPath, [...process.execArgv, entry, 'worker'], {
    env: { ...process.env, ...env },
  });
  child.process.stdout?.pipe(process.stdout, { end: false });
  child.process.stderr?.pipe(process.stderr, { end: false });
  return () => child.stop(8_000);
}
