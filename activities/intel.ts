import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import { IntelError, type IntelLoader, type IntelSourceName } from '../adapters/intel/types.js';
import type { AuditRepository, IntelRefreshResult, IntelRepository } from '../store/index.js';
import type { ActivityDeps } from './index.js';

/** The configured intelligence sources (only the enabled ones), built by the worker. */
export type IntelSources = Partial<Record<IntelSourceName, IntelLoader>>;

/** NVD's window restarts a minute early, so a CVE changed at the boundary is not missed. */
const NVD_OVERLAP_MS = 60_000;

/**
 * Loads one source and stores it: the whole download is parsed and validated before the
 * one transaction that swaps it in, so a bad download changes nothing (the failure is
 * noted for doctor). New KEV entries go to the audit trail, keyed by the refresh.
 */
export async function refreshIntelSource(input: {
  source: IntelSourceName;
  loader: IntelLoader;
  intel: IntelRepository;
  audit: AuditRepository;
  /** Makes the refresh idempotent: workflow id + source, or a CLI run's own key. */
  refreshKey: string;
  actor: string;
  log: Logger;
  progress?: (detail: string) => void;
}): Promise<IntelRefreshResult> {
  const { source, loader, intel } = input;
  const windowEnd = source === 'nvd' ? await intel.nvdWindowEnd() : undefined;
  let snapshot;
  try {
    snapshot = await loader.load({
      since: windowEnd ? new Date(windowEnd.getTime() - NVD_OVERLAP_MS).toISOString() : undefined,
      ...(input.progress ? { progress: input.progress } : {}),
    });
  } catch (err) {
    await intel.recordFailure(source, loader.location, (err as Error).message);
    throw err;
  }
  const result = await intel.store(snapshot, {
    sourceUrl: loader.location,
    refreshKey: input.refreshKey,
  });
  await input.audit.append({
    idempotencyKey: `${input.refreshKey}:refreshed`,
    actor: input.actor,
    action: 'intel.refreshed',
    subjectType: 'intel',
    subjectId: source,
    data: { source, records: result.records, from: loader.location, added: result.added.length },
  });
  if (result.added.length)
    await input.audit.append({
      idempotencyKey: `${input.refreshKey}:kev-added`,
      actor: input.actor,
      action: 'intel.kev.added',
      subjectType: 'intel',
      subjectId: 'kev',
      data: { cves: result.added },
    });
  input.log.info(
    { source, records: result.records, added: result.added.length, replayed: result.replayed },
    'intel refreshed',
  );
  return result;
}

export interface RefreshIntelOutcome {
  source: IntelSourceName;
  /** False when the source is switched off in this worker's configuration. */
  enabled: boolean;
  records: number;
  /** ISO time of the stored refresh. */
  fetchedAt: string | null;
  added: string[];
}

export function createIntelActivities({ store, log, intel }: ActivityDeps) {
  return {
    /**
     * Refreshes one source. A malformed download fails for good (retrying fetches the same
     * file); an unreachable source is retried by Temporal. A retry after the store commit
     * returns the first attempt's result, so newly listed KEV CVEs are never lost.
     */
    async refreshIntel(input: {
      source: IntelSourceName;
      refreshKey: string;
    }): Promise<RefreshIntelOutcome> {
      const loader = intel?.[input.source];
      if (!loader)
        return { source: input.source, enabled: false, records: 0, fetchedAt: null, added: [] };
      const ctx = Context.current();
      // A download of tens of MB reports no pages; the heartbeat says the worker is alive.
      const beat = setInterval(() => ctx.heartbeat(`refreshing ${input.source}`), 20_000);
      try {
        const r = await refreshIntelSource({
          source: input.source,
          loader,
          intel: store.intel,
          audit: store.audit,
          refreshKey: input.refreshKey,
          actor: 'patchops',
          log,
          progress: (d) => ctx.heartbeat(d),
        });
        return {
          source: r.source,
          enabled: true,
          records: r.records,
          fetchedAt: r.fetchedAt.toISOString(),
          added: r.added,
        };
      } catch (err) {
        if (err instanceof IntelError && !err.retryable)
          throw ApplicationFailure.create({
            type: err.code,
            message: err.message,
            nonRetryable: true,
          });
        throw err;
      } finally {
        clearInterval(beat);
      }
    },
  };
}
