import {
  ActivityFailure,
  ApplicationFailure,
  ParentClosePolicy,
  proxyActivities,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities/index.js';
import { emergencyRolloutId } from '../domain/emergency.js';
import type { patchCycle } from './patch-cycle.js';

const SOURCES = ['kev', 'epss', 'nvd', 'debian'] as const;
type Source = (typeof SOURCES)[number];

const { refreshIntel } = proxyActivities<Activities>({
  // A first NVD load without an API key pages for a quarter of an hour.
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '5 minutes',
  retry: { initialInterval: '30 seconds', backoffCoefficient: 2, maximumAttempts: 4 },
});
const { emergencyTargets } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 10 },
});

export interface IntelRefreshInput {
  /** Defaults to every source (those switched off in the worker's configuration are skipped). */
  sources?: Source[];
}

export interface IntelRefreshResult {
  /** CVEs this run added to the KEV catalog: the emergency path starts rollouts from these. */
  kevAdded: string[];
  /**
   * Emergency rollouts for those CVEs, one per client with devices still missing the fix;
   * `started: false` when one for that client and CVE was already running or done.
   */
  emergencies?: Array<{ cve: string; clientId: string; rolloutId: string; started: boolean }>;
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
  const kevAdded = outcomes.find((o) => o.source === 'kev')?.added ?? [];
  return {
    kevAdded,
    sources: outcomes.map(({ added: _added, ...o }) => o),
    ...(kevAdded.length ? { emergencies: await startEmergencies(kevAdded) } : {}),
  };
}

/**
 * A CVE newly listed in KEV that managed devices still miss starts an emergency rollout per
 * client: a child that outlives this run (ABANDON), whose id (client + CVE) makes a second
 * start — a retry, a technician's `patchops emergency` — find it instead of starting again.
 */
async function startEmergencies(cves: string[]): Promise<IntelRefreshResult['emergencies']> {
  const out: NonNullable<IntelRefreshResult['emergencies']> = [];
  for (const t of await emergencyTargets({ cves })) {
    const rolloutId = emergencyRolloutId(t.clientId, t.cve);
    try {
      await startChild<typeof patchCycle>('patchCycle', {
        workflowId: rolloutId,
        parentClosePolicy: ParentClosePolicy.ABANDON,
        args: [
          {
            rolloutId,
            clientId: t.clientId,
            startedBy: 'kev-refresh',
            emergency: { cve: t.cve, source: 'kev', requestedBy: 'kev-refresh' },
          },
        ],
      });
      out.push({ cve: t.cve, clientId: t.clientId, rolloutId, started: true });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      out.push({ cve: t.cve, clientId: t.clientId, rolloutId, started: false });
    }
  }
  return out;
}
