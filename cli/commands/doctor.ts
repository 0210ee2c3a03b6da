import { Connection } from '@temporalio/client';
import type { Config } from '../config.js';
import { resolveTargets } from '../runtime.js';
import { ping } from '../../store/pool.js';
import { auditPrivilegeCheck, pendingMigrations } from '../../store/migrate.js';
import { redactUrl } from '../logger.js';
import { checkSlackScopes } from '../../bot/slack/scopes.js';
import { slackWebClient } from '../../bot/slack/notifier.js';
import { pino } from 'pino';
import { createItsm } from '../../adapters/itsm/registry.js';
import type { ItsmAdapter } from '../../adapters/itsm/types.js';
import { adapterDeps } from '../../adapters/kit.js';
import { createRmm } from '../../adapters/rmm/registry.js';
import type { RmmAdapter } from '../../adapters/rmm/types.js';
import { INTEL_STALE_AFTER_MS } from '../../adapters/intel/registry.js';
import { NVD_NOTICE } from '../../adapters/intel/nvd.js';
import { INTEL_SOURCES } from '../../adapters/intel/types.js';
import { formatDuration } from '../../domain/duration.js';
import { createPool } from '../../store/pool.js';
import { IntelRepository, type IntelSourceStatus } from '../../store/intel.js';

export type CheckState = 'ok' | 'down' | 'warn';

export interface CheckResult {
  part: string;
  state: CheckState;
  detail: string;
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const message = (err: unknown): string =>
  (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';

/** Checks every part patchops depends on and says, per part, whether it works. */
export async function runDoctor(config: Config): Promise<CheckResult[]> {
  const t = resolveTargets(config);
  const results: CheckResult[] = [];

  try {
    const connection = await withTimeout(
      Connection.connect({ address: t.temporalAddress, connectTimeout: 3_000 }),
      6_000,
      'connect',
    );
    try {
      const info = await withTimeout(
        connection.workflowService.getSystemInfo({}),
        5_000,
        'getSystemInfo',
      );
      await withTimeout(
        connection.workflowService.describeNamespace({ namespace: t.namespace }),
        5_000,
        'describeNamespace',
      );
      results.push({
        part: 'temporal',
        state: 'ok',
        detail: `${t.temporalAddress} (${t.temporalSource}), namespace ${t.namespace}, server ${info.serverVersion || 'unknown'}`,
      });
    } finally {
      await connection.close();
    }
  } catch (err) {
    results.push({
      part: 'temporal',
      state: 'down',
      detail: `${t.temporalAddress} (${t.temporalSource}): ${message(err)}`,
    });
  }

  if (!t.databaseUrl) {
    results.push({
      part: 'postgresql',
      state: 'down',
      detail: 'not configured: set DATABASE_URL or start `patchops dev`',
    });
    results.push({ part: 'migrations', state: 'down', detail: 'no database to check' });
  } else {
    const where = `${redactUrl(t.databaseUrl)} (${t.databaseSource})`;
    try {
      const version = await withTimeout(ping(t.databaseUrl), 8_000, 'connect');
      results.push({
        part: 'postgresql',
        state: 'ok',
        detail: `${where}, ${version.split(' on ')[0]}`,
      });
      try {
        const pending = await pendingMigrations(t.databaseUrl);
        results.push(
          pending.length
            ? {
                part: 'migrations',
                state: 'down',
                detail: `${pending.length} pending (${pending.join(', ')}): run \`patchops migrate\``,
              }
            : { part: 'migrations', state: 'ok', detail: 'schema up to date' },
        );
      } catch (err) {
        results.push({ part: 'migrations', state: 'down', detail: message(err) });
      }
      // Whether the app could rewrite the audit trail (it connects as owner or superuser).
      results.push(
        await auditPrivilegeCheck(t.databaseUrl).then(
          (c) => ({ part: 'audit', ...c }),
          (err: unknown) => ({ part: 'audit', state: 'warn' as const, detail: message(err) }),
        ),
      );
    } catch (err) {
      results.push({ part: 'postgresql', state: 'down', detail: `${where}: ${message(err)}` });
      results.push({ part: 'migrations', state: 'down', detail: 'no database to check' });
    }
  }

  results.push(...(await adapterChecks(config)));
  results.push(...(await intelChecks(config, t.databaseUrl)));
  results.push(await slackCheck(config));
  if (config.chat.teams)
    results.push({
      part: 'teams',
      state: config.chat.teams.authDisabled ? 'warn' : 'ok',
      detail: config.chat.teams.authDisabled
        ? 'authentication DISABLED (PATCHOPS_TEAMS_AUTH=disabled): local testing only'
        : `app ${config.chat.teams.appId} (${config.chat.teams.appType}); tokens are checked when the bot starts`,
    });
  return results;
}

/**
 * The configured RMM and ITSM, each built from its registry entry and asked
 * `testConnection()`; an adapter with more to say (per host, the vendor's own patch
 * policy) adds lines through `diagnose()`.
 */
export async function adapterChecks(config: Config): Promise<CheckResult[]> {
  const deps = adapterDeps(pino({ level: 'silent' }), config.dataDir);
  const families = [
    {
      family: 'rmm',
      choice: config.adapters.rmm,
      build: () => createRmm(config.adapters.rmm.kind, config.adapters.rmm.settings, deps),
    },
    {
      family: 'itsm',
      choice: config.adapters.itsm,
      build: () => createItsm(config.adapters.itsm.kind, config.adapters.itsm.settings, deps),
    },
  ];
  const out: CheckResult[] = [];
  for (const { family, choice, build } of families) {
    const part = `${family}:${choice.kind}`;
    try {
      const adapter: RmmAdapter | ItsmAdapter = build();
      const r = await withTimeout(adapter.testConnection(), 20_000, 'testConnection');
      out.push({ part, state: r.ok ? 'ok' : 'down', detail: r.detail });
      if (r.ok && adapter.diagnose) {
        for (const d of await withTimeout(adapter.diagnose(), 60_000, 'diagnose'))
          out.push({ part: `${part}:${d.part}`, state: d.state, detail: d.detail });
      }
    } catch (err) {
      out.push({ part, state: 'down', detail: message(err) });
    }
  }
  return out;
}

/**
 * Each intelligence source: off, never refreshed, stale (KEV and EPSS publish daily, so
 * older than two days means the schedule is not running), failing, or its age and size.
 */
export async function intelChecks(
  config: Config,
  databaseUrl: string | undefined,
  now = new Date(),
): Promise<CheckResult[]> {
  let rows: IntelSourceStatus[] | undefined;
  let problem: string | undefined;
  if (!databaseUrl) problem = 'no database to check';
  else {
    const pool = createPool(databaseUrl, 1);
    try {
      rows = await withTimeout(new IntelRepository(pool).status(), 8_000, 'intel status');
    } catch (err) {
      problem = /intel_sources/.test(message(err))
        ? 'no intel tables yet: run `patchops migrate`'
        : message(err);
    } finally {
      await pool.end();
    }
  }
  return INTEL_SOURCES.map((source): CheckResult => {
    const part = `intel:${source}`;
    if (!config.intel.sources[source].enabled)
      return { part, state: 'ok', detail: `off (PATCHOPS_INTEL_${source.toUpperCase()}=off)` };
    const notice = source === 'nvd' ? ` — ${NVD_NOTICE}` : '';
    if (problem) return { part, state: 'warn', detail: problem };
    const r = rows?.find((x) => x.source === source);
    const refresh = `run \`patchops intel refresh --source ${source}\` and check the intel-refresh schedule`;
    if (!r?.fetchedAt)
      return {
        part,
        state: 'warn',
        detail: `never refreshed${r?.lastError ? ` (last error: ${r.lastError})` : ''}: ${refresh}${notice}`,
      };
    const age = now.getTime() - r.fetchedAt.getTime();
    const summary = `${r.records} records, refreshed ${formatDuration(age)} ago from ${r.sourceUrl}`;
    if (age > INTEL_STALE_AFTER_MS[source])
      return {
        part,
        state: 'warn',
        detail: `stale: ${summary} (older than ${formatDuration(INTEL_STALE_AFTER_MS[source])}): ${refresh}${notice}`,
      };
    if (r.lastError && r.lastErrorAt && r.lastErrorAt > r.fetchedAt)
      return {
        part,
        state: 'warn',
        detail: `${summary}; the last refresh failed: ${r.lastError}${notice}`,
      };
    return { part, state: 'ok', detail: `${summary}${notice}` };
  });
}

async function slackCheck(config: Config): Promise<CheckResult> {
  const slack = config.chat.slack;
  if (!slack) return { part: 'slack', state: 'ok', detail: 'off (SLACK_BOT_TOKEN not set)' };
  try {
    const r = await withTimeout(checkSlackScopes(slackWebClient(slack)), 8_000, 'auth.test');
    return r.missing.length
      ? {
          part: 'slack',
          state: 'down',
          detail: `${r.team}: the token lacks ${r.missing.join(', ')}; add them under OAuth & Permissions (or reinstall from bot/slack/manifest.yaml)`,
        }
      : { part: 'slack', state: 'ok', detail: `${r.team} as ${r.botUser}, every scope granted` };
  } catch (err) {
    return { part: 'slack', state: 'down', detail: `auth.test failed: ${message(err)}` };
  }
}

export function formatDoctor(results: CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.part.length));
  return results
    .map((r) => `${r.state.padEnd(4)}  ${r.part.padEnd(width)}  ${r.detail}`)
    .join('\n');
}
