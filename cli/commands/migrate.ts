import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { freePort } from '../process/tethered.js';
import { resolveTargets } from '../runtime.js';
import { migrateUp } from '../../store/migrate.js';
import { startEmbeddedPostgres } from '../../store/embedded.js';

/** `patchops migrate`: applies pending migrations to DATABASE_URL, a running dev database, or the embedded one. */
export async function runMigrate(config: Config, log: Logger): Promise<string[]> {
  const t = resolveTargets(config);
  if (t.databaseUrl) return migrateUp(t.databaseUrl, { info: (m) => log.debug(m) });
  const embedded = await startEmbeddedPostgres({
    dir: path.join(config.dataDir, 'postgres'),
    port: await freePort(),
  });
  try {
    return await migrateUp(embedded.url, { info: (m) => log.debug(m) });
  } finally {
    await embedded.stop();
  }
}
