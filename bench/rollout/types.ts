/** What bench/rollout measures and saves with --json; --from reads it back. */

/** Temporal's floor, patchCycle's batched engine, patchCycle's per-device engine. */
export const KINDS = ['floor', 'batched', 'per-device'] as const;
export type Kind = (typeof KINDS)[number];

/**
 * Billable Temporal actions found in the histories, by kind of event. A child workflow
 * counts once, by its WorkflowExecutionStarted (its parent's StartChildWorkflowExecution-
 * Initiated is not counted again); a continued-as-new run counts as a new start.
 */
export interface ActionCounts {
  /** WorkflowExecutionStarted: first runs, children and continue-as-new runs. */
  workflowStarts: number;
  /** ActivityTaskScheduled. */
  activities: number;
  /** MarkerRecorded with a local activity marker. */
  localActivities: number;
  /** TimerStarted. */
  timers: number;
  /** WorkflowExecutionSignaled. */
  signals: number;
  /** WorkflowExecutionUpdateAccepted. */
  updates: number;
}

export interface HistoryStat {
  workflowId: string;
  runId: string;
  events: number;
  bytes: number;
}

export interface HistoryTotals {
  /** Workflow executions (every run of every workflow id). */
  executions: number;
  actions: ActionCounts;
  /** Sum of `actions`. */
  totalActions: number;
  /** Events in all histories. */
  events: number;
  /** By events. */
  largest: HistoryStat | undefined;
  /** By bytes (Temporal's own historySizeBytes from visibility). */
  largestBytes: HistoryStat | undefined;
  /** Executions over 10,240 events or 10 MiB. */
  overWarn: number;
  /** Activity attempts after the first (billed too, but not in totalActions; 0 expected). */
  activityRetries: number;
  /** Schedule → completion of the named planning activities, first occurrence each. */
  activityMs: Record<string, number>;
  /** How long listing and reading the histories took. */
  collectMs: number;
}

export interface Measurement {
  kind: Kind;
  devices: number;
  completed: boolean;
  /** Final phase, or why it did not complete. */
  note: string;
  /**
   * Devices the rollout planned (ring totals; devices with nothing missing are not in it)
   * and how they ended, from the result; the floor's are its finished activities.
   */
  outcome: { total: number; succeeded: number; failed: number; skipped: number } | undefined;
  /** Workflow start → result. */
  wallMs: number;
  /** Start → the first progress query that showed phase `deploying` or later (patchCycle). */
  planningMs: number | undefined;
  /** Devices in flight: the rings' concurrency, or the floor's window. */
  concurrency: number;
  histories: HistoryTotals;
  /** VmHWM of the worker process (start-up bundling included). */
  peakRss: number;
  /** VmHWM of the worker when planning ended (patchCycle). */
  planningPeakRss?: number | undefined;
  /** Highest VmRSS sampled while the rollout ran. */
  runPeakRss: number;
  /** CPU seconds while the rollout ran. */
  cpu: {
    worker?: number | undefined;
    temporal?: number | undefined;
    postgres?: number | undefined;
    /** The simulated RMM, when it runs as its own process (`patchops simulator`). */
    rmm?: number | undefined;
  };
  /** Peak RSS of the simulated RMM's own process (absent when it ran inside the worker). */
  rmmPeakRss?: number | undefined;
  /** Worker options of this run. */
  worker: Record<string, number>;
}
