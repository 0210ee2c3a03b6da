import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { CliError } from '../errors.js';
import { freePort } from '../process/tethered.js';
import { resolveTargets } from '../runtime.js';
import { DatabaseRoleError, setUpDatabase, type DatabaseSetup } from '../../store/migrate.js';
import { embeddedOwnerUrl, startEmbeddedPostgres } from '../../store/embedded.js';

/**
 * `patchops migrate`: applies pending migrations as the tables' owner (DATABASE_OWNER_URL,
 * else DATABASE_URL, a running dev database, or the embedded one) and grants the app's
 * role (DATABASE_URL's user) its privileges. What the operator should know (a role created,
 * the app connecting as the owner) goes to stderr; stdout stays the list of migrations.
 */
export async function runMigrate(
  config: Config,
  log: Logger,
  note: (line: string) => void = (line) => process.stderr.write(`patchops migrate: ${line}\n`),
): Promise<string[]> {
  const t = resolveTargets(config);
  const info = (m: string) => log.debug(m);
  let setup: DatabaseSetup;
  try {
    if (config.databaseOwnerUrl) {
      if (!t.databaseUrl)
        throw new CliError(
          'NO_APP_DATABASE_URL',
          "DATABASE_OWNER_URL is set but DATABASE_URL is not: set DATABASE_URL to the app's connection (its restricted role)",
          78,
        );
      setup = await setUpDatabase({
        ownerUrl: config.databaseOwnerUrl,
        appUrl: t.databaseUrl,
        log: { info },
      });
    } else if (t.databaseUrl) {
      // A running `patchops dev` publishes the app's connection; its owner's is derivable.
      const devOwner =
        t.databaseSource === 'patchops dev'
          ? embeddedOwnerUrl(path.join(config.dataDir, 'postgres'), t.databaseUrl)
          : undefined;
      setup = devOwner
        ? await setUpDatabase({ ownerUrl: devOwner, appUrl: t.databaseUrl, log: { info } })
        : await setUpDatabase({ ownerUrl: t.databaseUrl, log: { info } });
    } else {
      const embedded = await startEmbeddedPostgres({
        dir: path.join(config.dataDir, 'postgres'),
        port: await freePort(),
      });
      if (embedded.relocated) note(embedded.relocated);
      try {
        setup = await setUpDatabase({
          ownerUrl: embedded.ownerUrl,
          appUrl: embedded.appUrl,
          log: { info },
        });
      } finally {
        await embedded.stop();
      }
    }
  } catch (err) {
    if (err instanceof DatabaseRoleError) throw new CliError(err.code, err.message, 1);
    throw err;
  }
  for (const line of setup.notes) note(line);
  return setup.applied;
}
