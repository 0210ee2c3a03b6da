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
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log.info('bot stopping');
  await bot.close();
  await temporal.connection.close();
  await pool.end();
}
