/**
 * The floor of bench/rollout: what Temporal itself costs when a device is exactly one
 * action. A parent starts ceil(N / 500) workflows of up to 500 devices each; each runs one
 * no-op activity per device, scheduled in one go when the window allows. Whatever a
 * rollout spends above this is its design's cost: more actions per device, database round
 * trips, simulator calls, planning.
 *
 * The window (`concurrency`) bounds the devices in flight across all batch workflows, as
 * ring concurrency bounds a rollout: floor(concurrency / 500) batch workflows run at once
 * (at least one), each with min(500, concurrency) activities in flight.
 *
 * Workflow code: deterministic, imports only @temporalio/workflow.
 */
import {
  ParentClosePolicy,
  condition,
  defineQuery,
  executeChild,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';

export interface FloorActivities {
  /** Stands in for everything a device's deploy does. */
  floorNoop(a: { device: number }): Promise<void>;
}

// The activity options of workflows/ring.ts and workflows/device-rollout.ts.
const acts = proxyActivities<FloorActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
});

/** Devices whose activity has finished, like patchCycle's progress query. */
export const floorProgressQuery = defineQuery<{ finished: number; total: number }>('floorProgress');

export const FLOOR_BATCH = 500;

export interface FloorInput {
  devices: number;
  /** Devices in flight across all batch workflows. */
  concurrency: number;
}

export interface FloorResult {
  devices: number;
  finished: number;
  batches: number;
}

export async function floorRollout(input: FloorInput): Promise<FloorResult> {
  const batches = Math.ceil(input.devices / FLOOR_BATCH);
  const parallel = Math.max(1, Math.floor(input.concurrency / FLOOR_BATCH));
  const window = Math.min(FLOOR_BATCH, input.concurrency);
  let finished = 0;
  let running = 0;
  setHandler(floorProgressQuery, () => ({ finished, total: input.devices }));
  const wf = workflowInfo().workflowId;
  const all: Promise<void>[] = [];
  for (let b = 0; b < batches; b++) {
    await condition(() => running < parallel);
    running++;
    const first = b * FLOOR_BATCH;
    const count = Math.min(FLOOR_BATCH, input.devices - first);
    all.push(
      executeChild(floorBatch, {
        workflowId: `${wf}/batch/${b}`,
        args: [{ first, count, window }],
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      }).then((done) => {
        finished += done;
        running--;
      }),
    );
  }
  await Promise.all(all);
  return { devices: input.devices, finished, batches };
}

/** One no-op activity per device of devices first … first + count − 1, `window` at a time. */
export async function floorBatch(input: {
  first: number;
  count: number;
  window: number;
}): Promise<number> {
  let next = 0;
  const lane = async () => {
    while (next < input.count) await acts.floorNoop({ device: input.first + next++ });
  };
  await Promise.all(Array.from({ length: Math.min(input.window, input.count) }, lane));
  return input.count;
}
