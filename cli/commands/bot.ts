import type { Logger } from 'pino';
import { createPool, createStore } from '../../store/index.js';
import { startChat } from '../chat.js';
import type { Config } from '../config.js';
import { CliError } from '../errors.js';
import { loadPolicyFiles, policyFiles } from '../policies.js';
import { resolveTargets } from '../runtime.js';
import { connectClient } from '../temporal/connect.js';

/** `patchops bot`: the Slack and Teams front doors until SIGINT/SIGTERM. */
export async function runBot(config: Config, log: Logger): Promise<void> {
  if (!config.chat.slack && !config.chat.teams)
    throw new CliError(
      'NO_CHAT',
      'neither Slack nor Teams is configured: set SLACK_BOT_TOKEN + SLACK_SIGNING_SECRET, or MICROSOFT_APP_ID + MICROSOFT_APP_PASSWORD (see the README)',
      78,
    );
  const t = resolveTargets(config);
  if (!t.databaseUrl)
    throw new CliError('NO_DATABASE', 'DATABASE_URL is not set and no `patchops dev` is running');
  const pool = createPool(t.databaseUrl);
  const temporal = await connectClient(config, {
    address: t.temporalAddress,
    namespace: t.namespace,
  });
  const bot = await startChat({
    config,
    temporal,
    taskQueue: t.taskQueue,
    store: createStore(pool),
    policies: loadPolicyFiles(policyFiles(config.policyDir)),
    log,
  });
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log.info({ signal }, 'bot stopping');
  // A second signal, or a shutdown step stuck on an unreachable platform, must not keep the
  // process up: whatever is still pending after STOP_DEADLINE_MS is abandoned.
  const again = () => {
    log.warn('second signal: exiting now');
    process.exit(1);
  };
  process.once('SIGINT', again);
  process.once('SIGTERM', again);
  const stopped = await withDeadline(
    (async () => {
      await bot.close();
      await temporal.connection.close();
      await pool.end();
    })(),
    STOP_DEADLINE_MS,
  );
  if (!stopped) log.warn({ afterMs: STOP_DEADLINE_MS }, 'bot did not stop in time; exiting');
  log.info('bot stopped');
  // Retries of an unreachable platform may still hold timers: they must not hold the process.
  setTimeout(() => process.exit(stopped ? 0 : 1), stopped ? 500 : 0).unref();
}

/** How long `patchops bot` gives its parts to close after SIGTERM/SIGINT. */
export const STOP_DEADLINE_MS = 3_000;

async function withDeadline(work: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true as const), late]);
  } catch {
    return true; // a part that failed to close is closed enough to exit
  } finally {
    clearTimeout(timer);
  }
}
