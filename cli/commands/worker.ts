import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { resolveTargets } from '../runtime.js';
import { connectWorker } from '../temporal/connect.js';
import { createWorker } from '../worker.js';
import { buildActivityDeps } from '../deps.js';
import { createPool, createStore } from '../../store/index.js';
import { CliError } from '../errors.js';

/** `patchops worker`: polls the task queue until SIGINT/SIGTERM, then drains and exits. */
export async function runWorker(config: Config, log: Logger): Promise<void> {
  const t = resolveTargets(config);
  if (!t.databaseUrl)
    throw new CliError(
      'NO_DATABASE',
      'DATABASE_URL is not set and no `patchops dev` is running: set DATABASE_URL=postgres://…',
    );
  const pool = createPool(t.databaseUrl);
  const connection = await connectWorker(
    config,
    { address: t.temporalAddress, namespace: t.namespace },
    log,
  );
  try {
    const deps = buildActivityDeps(config, createStore(pool), log);
    const worker = await createWorker({
      connection,
      namespace: t.namespace,
      taskQueue: t.taskQueue,
      deps,
      tuning: config.worker,
    });
    log.info(
      { address: t.temporalAddress, namespace: t.namespace, taskQueue: t.taskQueue },
      'worker polling',
    );
    // Worker.run() installs SIGINT/SIGTERM handlers that shut it down gracefully.
    await worker.run();
    await deps.publisher?.flush(); // the last card updates go out before the process ends
  } finally {
    await connection.close();
    await pool.end();
  }
}
