import { randomBytes } from 'node:crypto';
import { ScheduleAlreadyRunning } from '@temporalio/client';
import type { Command } from 'commander';
import { pino } from 'pino';
import { refreshIntelSource } from '../../activities/intel.js';
import { intelRegistry, type IntelSettings } from '../../adapters/intel/registry.js';
import { NVD_NOTICE } from '../../adapters/intel/nvd.js';
import { parseLocation } from '../../adapters/intel/read.js';
import { INTEL_SOURCES, type IntelSourceName } from '../../adapters/intel/types.js';
import { adapterDeps } from '../../adapters/kit.js';
import { parseDuration } from '../../domain/duration.js';
import type { Config } from '../config.js';
import { withClient, withStore } from './lifecycle.js';
import { CliError } from '../errors.js';

type GetConfig = () => Config;
const out = (text: string) => process.stdout.write(`${text}\n`);
export const INTEL_SCHEDULE_ID = 'intel-refresh';

function sourceOption(value: string | undefined): IntelSourceName[] {
  if (value === undefined) return [...INTEL_SOURCES];
  if (!(INTEL_SOURCES as readonly string[]).includes(value))
    throw new CliError(
      'BAD_SOURCE',
      `--source: expected one of ${INTEL_SOURCES.join(', ')}, got "${value}"`,
      2,
    );
  return [value as IntelSourceName];
}

/** `patchops intel refresh`: loads sources in this process (no worker needed, works offline). */
export async function runIntelRefresh(
  config: Config,
  o: { source?: string; file?: string },
): Promise<boolean> {
  const names = sourceOption(o.source);
  if (o.file && names.length !== 1)
    throw new CliError('BAD_OPTION', '--file needs --source (which source the file holds)', 2);
  const log = pino({ level: 'silent' });
  const deps = adapterDeps(log, config.dataDir);
  return withStore(config, async (store) => {
    let ok = true;
    const runKey = `cli:${new Date().toISOString()}:${randomBytes(3).toString('hex')}`;
    for (const name of names) {
      let settings: IntelSettings = config.intel.sources[name];
      if (o.file) {
        const l = parseLocation(o.file);
        if (l === 'off') throw new CliError('BAD_OPTION', '--file: expected a file path or URL', 2);
        settings = { ...(settings.enabled ? settings : {}), enabled: true, location: l };
      }
      if (!settings.enabled) {
        out(`${name.padEnd(6)}  off (PATCHOPS_INTEL_${name.toUpperCase()}=off)`);
        continue;
      }
      const loader = intelRegistry.create(name, settings, deps);
      try {
        const r = await refreshIntelSource({
          source: name,
          loader,
          intel: store.intel,
          audit: store.audit,
          refreshKey: `${runKey}:${name}`,
          actor: 'cli',
          log,
        });
        const added = r.added.length ? `; newly in KEV: ${r.added.join(', ')}` : '';
        out(`${name.padEnd(6)}  ${r.records} records from ${loader.location}${added}`);
        if (name === 'nvd') out(`        ${NVD_NOTICE}`);
      } catch (err) {
        ok = false;
        out(`${name.padEnd(6)}  FAILED: ${(err as Error).message} (stored data unchanged)`);
      }
    }
    return ok;
  });
}

export function registerIntelCommands(program: Command, config: GetConfig): void {
  const intel = program
    .command('intel')
    .description('vulnerability intelligence: CISA KEV, FIRST EPSS, NVD, Debian security tracker');

  intel
    .command('refresh')
    .description('download (or read) the sources now and store them; prints newly listed KEV CVEs')
    .option('--source <source>', `one source only: ${INTEL_SOURCES.join(', ')}`)
    .option(
      '--file <path>',
      'read the source from this local file (or URL) instead (needs --source)',
    )
    .action(async (o: { source?: string; file?: string }) => {
      if (!(await runIntelRefresh(config(), o))) process.exitCode = 1;
    });

  intel
    .command('status')
    .description("each source's last refresh, record count and last error")
    .action(async () => {
      const rows = await withStore(config(), (s) => s.intel.status());
      for (const name of INTEL_SOURCES) {
        const r = rows.find((x) => x.source === name);
        out(
          `${name.padEnd(6)}  ${r?.fetchedAt ? `${r.records} records, ${r.fetchedAt.toISOString()}, from ${r.sourceUrl}` : 'never refreshed'}${r?.lastError ? `; last error: ${r.lastError}` : ''}`,
        );
      }
    });

  intel
    .command('schedule')
    .description(
      `create or update the Temporal Schedule "${INTEL_SCHEDULE_ID}" that refreshes every source`,
    )
    .option('--every <duration>', 'interval, e.g. 1d or 12h', '1d')
    .option('--offset <duration>', 'time of day as an offset from midnight UTC, e.g. 5h30m', '5h')
    .action(async (o: { every: string; offset: string }) => {
      const every = parseDuration(o.every);
      const offset = parseDuration(o.offset);
      if (!every)
        throw new CliError(
          'BAD_DURATION',
          `--every: expected a duration like "1d", got "${o.every}"`,
          2,
        );
      if (offset === undefined)
        throw new CliError(
          'BAD_DURATION',
          `--offset: expected a duration like "5h", got "${o.offset}"`,
          2,
        );
      await withClient(config(), async (client, taskQueue) => {
        const spec = { intervals: [{ every, offset }] };
        const action = {
          type: 'startWorkflow' as const,
          workflowType: 'intelRefresh',
          workflowId: INTEL_SCHEDULE_ID,
          taskQueue,
          args: [{}],
        };
        try {
          await client.schedule.create({ scheduleId: INTEL_SCHEDULE_ID, spec, action });
          out(
            `schedule ${INTEL_SCHEDULE_ID} created: every ${o.every} (offset ${o.offset} from midnight UTC)`,
          );
        } catch (err) {
          if (!(err instanceof ScheduleAlreadyRunning)) throw err;
          await client.schedule
            .getHandle(INTEL_SCHEDULE_ID)
            .update((prev) => ({ ...prev, spec, action }));
          out(
            `schedule ${INTEL_SCHEDULE_ID} updated: every ${o.every} (offset ${o.offset} from midnight UTC)`,
          );
        }
      });
    });
}
