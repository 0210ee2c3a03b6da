import {
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';

const SOURCES = ['kev', 'epss', 'nvd', 'debian'] as const;
type Source = (typeof SOURCES)[number];

const { refreshIntel } = proxyActivities<Activities>({
  // A first NVD load without an API key pages for a quarter of an hour.
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '5 minutes',
  retry: { initialInterval: '30 seconds', backoffCoefficient: 2, maximumAttempts: 4 },
});

export interface IntelRefreshInput {
  /** Defaults to every source (those switched off in the worker's configuration are skipped). */
  sources?: Source[];
}

export interface IntelRefreshResult {
  /** CVEs this run added to the KEV catalog: the emergency path starts rollouts from these. */
  kevAdded: string[];
  sources: Array<{
    source: Source;
    enabled: boolean;
    records: number;
    fetchedAt: string | null;
    error?: string;
  }>;
}

/**
 * Refreshes vulnerability intelligence, daily through the `intel-refresh` Temporal
 * Schedule. Sources refresh side by side; one failing does not stop the others. Each
 * refresh is keyed by this run's id, so a retried activity reports what was stored.
 */
export async function intelRefresh(input: IntelRefreshInput = {}): Promise<IntelRefreshResult> {
  const runId = workflowInfo().workflowId;
  const sources = input.sources?.length ? input.sources : [...SOURCES];
  const outcomes = await Promise.all(
    sources.map(async (source) => {
      try {
        return await refreshIntel({ source, refreshKey: `${runId}:${source}` });
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        const cause = err.cause instanceof ApplicationFailure ? err.cause.message : err.message;
        return { source, enabled: true, records: 0, fetchedAt: null, added: [], error: cause };
      }
    }),
  );
  return {
    kevAdded: outcomes.find((o) => o.source === 'kev')?.added ?? [],
    sources: outcomes.map(({ added: _added, ...o }) => o),
  };
}
