import { Context } from '@temporalio/activity';
import { bulkOf } from '../adapters/rmm/bulk.js';
import type { RmmBulk } from '../adapters/rmm/types.js';
import type { BatchCounts, RolloutDeviceStatus, Store } from '../store/index.js';
import type { DeviceSettings } from '../workflows/device-rollout.js';
import { BatchRound } from './batch-round.js';
import { rethrow } from './failures.js';
import type { ActivityDeps } from './index.js';

export interface AdvanceBatchInput {
  rolloutId: string;
  batch: number;
  /** The rollout workflow's id: device keys are `<it>/device/<deviceId>`, as the per-device children's ids. */
  workflowId: string;
  settings: DeviceSettings;
}

export interface BatchReport {
  /** The whole batch's outcomes so far (from PostgreSQL, so a retried attempt counts right). */
  counts: BatchCounts;
  /** When the earliest open device is next due (epoch ms); null when none is open. */
  nextAt: number | null;
}

const FINAL: ReadonlySet<RolloutDeviceStatus> = new Set([
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
]);

/**
 * The batched rollout engine's activities. `advanceBatch` moves every due device of a
 * batch as far as it can go without waiting for time to pass: window check, reachability,
 * deploy (once per device key), job polling, reboot prompt and reboot, rescan, outcome.
 * Devices that must wait (a closed window, offline until the next one, a postponed
 * reboot) keep their step in PostgreSQL and the workflow calls again when the earliest is
 * due: one timer and one activity per batch and round, not per device.
 */
export function createBatchActivities({ store, rmm, publisher, log }: ActivityDeps) {
  // A call that fails as a whole for good (credentials revoked) fails the attempt at once.
  const inner = bulkOf(rmm);
  const bulk: RmmBulk = {
    isOnline: (x) => inner.isOnline(x).catch(rethrow),
    deploy: (x) => inner.deploy(x).catch(rethrow),
    readJob: (x) => inner.readJob(x).catch(rethrow),
    promptReboot: (x) => inner.promptReboot(x).catch(rethrow),
    patchStates: (x) => inner.patchStates(x).catch(rethrow),
  };

  return {
    /** Hands the next devices of a ring to a batch (a local activity; same input, same batch). */
    async formBatch(
      a: Parameters<Store['batches']['form']>[0],
    ): ReturnType<Store['batches']['form']> {
      return store.batches.form(a);
    },

    async advanceBatch(a: AdvanceBatchInput): Promise<BatchReport> {
      const ctx = Context.current();
      const devices = await store.batches.devices(a.rolloutId, a.batch);
      const open = devices.filter((d) => !FINAL.has(d.status));
      if (ctx.info.attempt > 1)
        log.info({ rolloutId: a.rolloutId, batch: a.batch, open: open.length }, 'batch resumed');
      const round = new BatchRound(
        { store, rmm, bulk, publisher, heartbeat: (d) => ctx.heartbeat(d) },
        a,
        open,
        a.settings,
      );
      const nextAt = await round.run();
      return { counts: await store.batches.counts(a.rolloutId, a.batch), nextAt };
    },

    /**
     * Ends the open devices of a ring's batches: `cancelled` when the rollout is cancelled,
     * `failed` with the reason when a batch activity gave up for good (credentials revoked,
     * the RMM refusing the batch). Each is recorded with an audit event, once.
     */
    async endOpenDevices(a: {
      rolloutId: string;
      ringIndex: number;
      /** Only this batch's; all the ring's batches when absent. */
      batch?: number;
      outcome: 'cancelled' | 'failed';
      reason: string;
    }): Promise<number> {
      const open = await store.batches.openDevices(a.rolloutId, a.ringIndex, a.batch);
      const ended = await store.batches.recordOutcomes(
        a.rolloutId,
        open.map((d) => ({
          deviceId: d.deviceId,
          outcome: a.outcome,
          installed: [],
          failed: a.outcome === 'failed' ? d.patchIds : [],
          pendingReboot: [],
          reason: a.reason,
        })),
      );
      if (ended.length) publisher?.refresh(a.rolloutId);
      return ended.length;
    },
  };
}
