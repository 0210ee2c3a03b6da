import { Context, sleep } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { RetryHints } from '../adapters/rmm/types.js';
import type { DeviceOverrides } from '../domain/rollout-settings.js';
import type { RolloutDeviceStatus } from '../store/index.js';
import type { DeviceRolloutResult } from '../workflows/device-rollout.js';
import { rethrow } from './failures.js';
import type { ActivityDeps } from './index.js';

export function createDeviceActivities({ store, rmm, publisher }: ActivityDeps) {
  /** One RMM write per key: claimed first, its job id kept, looked for again on a retry. */
  const once = async (
    key: string,
    what: string,
    write: (hints: RetryHints) => Promise<{ jobId: string }>,
  ): Promise<{ jobId: string }> => {
    const claim = await store.claims.claim(key, what);
    if (claim.state === 'done' && claim.result) return { jobId: claim.result };
    const r = await write({
      recheck: claim.state !== 'new',
      since: claim.since.toISOString(),
    }).catch(rethrow);
    await store.claims.complete(key, r.jobId);
    return r;
  };
  return {
    /**
     * The device's time zone (its own, else its site's), its site's, the patches planned
     * for it and the settings its own policy chain sets differently from the client's.
     */
    async deviceContext(a: { rolloutId: string; deviceId: string }): Promise<{
      timezone: string;
      siteTimezone?: string;
      patchIds: string[];
      settings?: DeviceOverrides;
    }> {
      const [device, plan] = await Promise.all([
        store.inventory.device(a.deviceId),
        store.rollouts.devicePlan(a.rolloutId, a.deviceId),
      ]);
      if (!device || !plan) {
        throw ApplicationFailure.create({
          type: 'NOT_PLANNED',
          message: `device ${a.deviceId} is not in rollout ${a.rolloutId}`,
          nonRetryable: true,
        });
      }
      const siteTimezone = await store.inventory.siteTimezone(device.siteId);
      return {
        timezone: device.timezone ?? siteTimezone,
        siteTimezone,
        patchIds: plan.patchIds,
        ...(plan.settings ? { settings: plan.settings } : {}),
      };
    },

    async deviceOnline(a: { deviceId: string }): Promise<boolean> {
      return rmm.isOnline(a.deviceId).catch(rethrow);
    },

    /**
     * A device's step in the rollout: its row, its planned patches' states (scheduled
     * while it waits for a window, installing while its job runs) and an audit event. The
     * audit key is this activity's own, so a retry writes one event and a later wait
     * (the next window) another.
     */
    async setDeviceStatus(a: {
      rolloutId: string;
      deviceId: string;
      status: RolloutDeviceStatus;
    }): Promise<void> {
      await store.rollouts.setDeviceStatus(a.rolloutId, a.deviceId, a.status);
      const patchState = ({ waiting_window: 'scheduled', deploying: 'installing' } as const)[
        a.status as 'waiting_window' | 'deploying'
      ];
      if (patchState)
        await store.rollouts.setPlannedPatchState(a.rolloutId, patchState, a.deviceId);
      const info = Context.current().info;
      await store.audit.append({
        idempotencyKey: `${info.workflowExecution?.workflowId ?? a.deviceId}:${info.activityId}:status`,
        actor: 'patchops',
        action: `device.${a.status}`,
        subjectType: 'device',
        subjectId: a.deviceId,
        rolloutId: a.rolloutId,
        data: {},
      });
    },

    /**
     * Starts the install job once per key. The claim tells a retry that an earlier attempt
     * may have reached the RMM, so adapters without an idempotency key of their own look
     * at the device's activities or update states before installing again.
     */
    async deployPatches(a: {
      deviceId: string;
      patchIds: string[];
      idempotencyKey: string;
    }): Promise<{ jobId: string }> {
      return once(a.idempotencyKey, 'rmm.deploy', (hints) =>
        rmm.deploy(a.deviceId, a.patchIds, a.idempotencyKey, hints),
      );
    },

    /** Asks the logged-on user to reboot (or forces it when deferral is not allowed). */
    async promptReboot(a: { deviceId: string; idempotencyKey: string; allowDefer: boolean }) {
      return rmm
        .promptReboot(a.deviceId, a.idempotencyKey, { allowDefer: a.allowDefer })
        .catch(rethrow);
    },

    /** Polls a job until it ends, heartbeating so a lost worker is detected quickly. */
    async waitForJob(a: { jobId: string; pollMs: number }) {
      const ctx = Context.current();
      for (;;) {
        const job = await rmm.readJob(a.jobId).catch(rethrow);
        if (job.state === 'succeeded' || job.state === 'failed') return job.results;
        ctx.heartbeat({ state: job.state });
        await sleep(a.pollMs); // rejects when the activity is cancelled
      }
    },

    /** Rescans one device: only what the RMM now reports installed counts as installed. */
    async rescanDevice(a: {
      deviceId: string;
      patchIds: string[];
    }): Promise<{ installed: string[]; pendingReboot: string[] }> {
      const [installed, missing] = await Promise.all([
        rmm.installedPatches(a.deviceId).catch(rethrow),
        rmm.missingPatches(a.deviceId).catch(rethrow),
      ]);
      const missingIds = new Set(missing.map((p) => p.id));
      const done = a.patchIds.filter((id) => installed.includes(id) && !missingIds.has(id));
      // Neither missing nor installed: the RMM holds it until the device reboots.
      const pendingReboot = a.patchIds.filter(
        (id) => !installed.includes(id) && !missingIds.has(id),
      );
      return { installed: done, pendingReboot };
    },

    /**
     * Starts the RMM job that removes those of `patchIds` the vendor marks uninstallable;
     * no job when none is. Idempotent per key, so a retried activity queues one job.
     */
    async uninstallPatches(a: {
      rolloutId: string;
      deviceId: string;
      patchIds: string[];
      idempotencyKey: string;
    }): Promise<{ jobId: string | undefined; removable: string[] }> {
      const patches = await store.inventory.patches(a.patchIds);
      const removable = patches.filter((p) => p.uninstallable).map((p) => p.id);
      if (!removable.length) return { jobId: undefined, removable };
      const { jobId } = await once(a.idempotencyKey, 'rmm.uninstall', (hints) =>
        rmm.uninstall(a.deviceId, removable, a.idempotencyKey, hints),
      );
      return { jobId, removable };
    },

    /**
     * Writes the device's outcome, its device × patch states and an audit event, once (the
     * batched engine's write, for one device).
     */
    async recordDeviceOutcome(a: {
      rolloutId: string;
      result: DeviceRolloutResult;
    }): Promise<void> {
      const { rolloutId, result } = a;
      await store.batches.recordOutcomes(rolloutId, [result]);
      publisher?.refresh(rolloutId);
    },
  };
}
