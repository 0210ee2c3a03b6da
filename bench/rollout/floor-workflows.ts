/**
 * The floor of bench/rollout: the same fan-out as patchCycle → runRing → deviceRollout,
 * with every side effect replaced by a no-op activity. It pages device ids like ringPage
 * (one activity per 100), starts one child per device through the same sliding window,
 * runs the rings one after the other (a ring ends when all its children have), continues
 * as new under the same history budget, and each child runs as many (no-op) activities as
 * a real deviceRollout did in the same run. Whatever the real run spends above this is
 * patchops' own cost: database round trips, simulator calls, prepare and plan.
 *
 * Workflow code: deterministic, imports only @temporalio/workflow.
 */
import {
  ParentClosePolicy,
  condition,
  continueAsNew,
  defineQuery,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';

export interface FloorActivities {
  /** Stands in for ringPage: returns `limit` synthetic device ids after `after`. */
  floorPage(a: { ringIndex: number; after: number; limit: number }): Promise<string[]>;
  /** Stands in for every activity of deviceRollout. */
  floorNoop(a: { deviceId: string; step: number }): Promise<void>;
}

// The same activity options as workflows/ring.ts and workflows/device-rollout.ts.
const acts = proxyActivities<FloorActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});

/** Devices started and finished per ring, like patchCycle's progress query. */
export const floorProgressQuery = defineQuery<{ started: number[]; finished: number[] }>(
  'floorProgress',
);

const PAGE = 100;
const HISTORY_BUDGET = 8_000;
/** Children started in one activation when batchStarts is on. */
const MAX_BATCH = 100;

export interface FloorState {
  ringIndex: number;
  /** How many devices of the current ring have been started (the keyset cursor). */
  cursor: number;
  started: number[];
  finished: number[];
}

export interface FloorInput {
  /** Devices per ring, in ring order (the real run's ring totals). */
  rings: number[];
  concurrency: number;
  /**
   * Activities per child: the real deviceRollout's mean in the same run. A fraction is
   * spread over the children (7 and 10 mixed so that the total matches).
   */
  activitiesPerChild: number;
  /**
   * Off (the floor proper): children start the way runRing starts them, one per workflow
   * task. On: the window is filled in one activation — what runRing could do.
   */
  batchStarts?: boolean;
  state?: FloorState;
}

export interface FloorResult {
  rings: number[];
  started: number[];
  finished: number[];
  /** Runs of the parent, this one included. */
  runs: number;
}

export async function floorParent(
  input: FloorInput & { runsSoFar?: number },
): Promise<FloorResult> {
  const state: FloorState = input.state ?? {
    ringIndex: 0,
    cursor: 0,
    started: input.rings.map(() => 0),
    finished: input.rings.map(() => 0),
  };
  const runs = (input.runsSoFar ?? 0) + 1;
  setHandler(floorProgressQuery, () => ({ started: state.started, finished: state.finished }));
  const wf = workflowInfo().workflowId;
  for (; state.ringIndex < input.rings.length; state.ringIndex++) {
    const total = input.rings[state.ringIndex]!;
    const running = new Map<string, Promise<void>>();
    let buffer: string[] = [];
    let exhausted = state.cursor >= total;
    let finished = 0;
    const historyFull = () =>
      workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_BUDGET;
    const ring = state.ringIndex;
    for (;;) {
      if (buffer.length === 0 && !exhausted) {
        buffer = await acts.floorPage({
          ringIndex: ring,
          after: state.cursor,
          limit: Math.min(PAGE, total - state.cursor),
        });
        if (state.cursor + buffer.length >= total) exhausted = true;
      }
      if (buffer.length === 0 && running.size === 0) break;
      if (buffer.length > 0 && running.size < input.concurrency && !historyFull()) {
        // Like runRing: one child per activation, its start awaited. With batchStarts, as
        // many as the window has room for (up to MAX_BATCH) are started in one activation.
        const room = input.concurrency - running.size;
        const n = input.batchStarts ? Math.min(buffer.length, room, MAX_BATCH) : 1;
        const starts = buffer.splice(0, n).map((deviceId) => {
          const k = state.started.reduce((a, b) => a + b, 0);
          const perChild = input.activitiesPerChild;
          const activities = Math.floor((k + 1) * perChild) - Math.floor(k * perChild);
          state.cursor++;
          state.started[ring]!++;
          const started = startChild(floorDevice, {
            workflowId: `${wf}/device/${deviceId}`,
            args: [{ deviceId, activities }],
            parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
          });
          const count = () => {
            finished++;
            state.finished[ring]!++;
          };
          const done = started.then((h: ChildWorkflowHandle<typeof floorDevice>) => h.result());
          running.set(
            deviceId,
            done.then(count, count).finally(() => running.delete(deviceId)),
          );
          return started;
        });
        await Promise.all(starts);
        continue;
      }
      if (running.size === 0 && historyFull()) break;
      const seen = finished;
      await condition(() => finished > seen);
    }
    await Promise.all(running.values());
    if (state.cursor < total) {
      return continueAsNew<typeof floorParent>({ ...input, state, runsSoFar: runs });
    }
    state.cursor = 0;
    // The real parent soaks (a 1 ms timer for soak 0s) between rings; so does the floor.
    if (state.ringIndex + 1 < input.rings.length) await condition(() => false, 1);
  }
  return {
    rings: input.rings,
    started: state.started,
    finished: state.finished,
    runs,
  };
}

export async function floorDevice(input: { deviceId: string; activities: number }): Promise<{
  deviceId: string;
  outcome: 'succeeded';
}> {
  for (let step = 0; step < input.activities; step++) {
    await acts.floorNoop({ deviceId: input.deviceId, step });
  }
  return { deviceId: input.deviceId, outcome: 'succeeded' };
}
