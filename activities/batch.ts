import { Context, sleep } from '@temporalio/activity';
import { bulkOf } from '../adapters/rmm/bulk.js';
import type { BulkResult, JobStatus, RmmBulk } from '../adapters/rmm/types.js';
import {
  deviceWindows,
  mayDefer,
  rebootNeeded,
  verdict,
  windowNow,
  type DeviceProgress,
} from '../domain/batch.js';
import type {
  BatchCounts,
  BatchDevice,
  BatchStepUpdate,
  RolloutDeviceStatus,
} from '../store/index.js';
import type { DeviceRolloutResult, DeviceSettings } from '../workflows/device-rollout.js';
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

/** One open device during an attempt: its settings, key and progress. */
interface Work {
  d: BatchDevice;
  s: DeviceSettings;
  key: string;
  p: DeviceProgress;
  status?: RolloutDeviceStatus;
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
    async formBatch(a: {
      rolloutId: string;
      ringIndex: number;
      after: string | null;
      limit: number;
      batch: number;
    }): Promise<{ size: number; lastDeviceId: string | null }> {
      return store.batches.form(a);
    },

    async advanceBatch(a: AdvanceBatchInput): Promise<BatchReport> {
      const ctx = Context.current();
      const all = await store.batches.devices(a.rolloutId, a.batch);
      const work: Work[] = all
        .filter((d) => !FINAL.has(d.status))
        .map((d) => ({
          d,
          s: { ...a.settings, ...d.settings },
          key: `${a.workflowId}/device/${d.deviceId}`,
          p: { ...d.progress },
        }));
      const finals: DeviceRolloutResult[] = [];
      const attempt = ctx.info.attempt;
      const base = (w: Work) => ({
        deviceId: w.d.deviceId,
        installed: [] as string[],
        failed: [] as string[],
        pendingReboot: [] as string[],
      });
      const ended = new Set<string>();
      const end = (r: DeviceRolloutResult) => {
        finals.push(r);
        ended.add(r.deviceId);
      };
      const fail = (w: Work, reason: string) =>
        end({ ...base(w), outcome: 'failed', failed: w.d.patchIds, reason });
      const open = () => work.filter((w) => !ended.has(w.d.deviceId));
      const due = (w: Work) => (w.p.nextAt ?? 0) <= Date.now();
      const beat = (stage: string) => ctx.heartbeat({ stage, done: finals.length });

      /** Writes the steps of `ws` (and any outcomes so far) before going on. */
      const save = async (ws: Work[], stage: string) => {
        await settle();
        const updates: BatchStepUpdate[] = ws
          .filter((w) => !ended.has(w.d.deviceId))
          .map((w) => ({
            deviceId: w.d.deviceId,
            progress: w.p,
            ...(w.status ? { status: w.status } : {}),
          }));
        await store.batches.saveSteps(
          a.rolloutId,
          updates,
          (u) => `${a.workflowId}:batch:${a.batch}:${u.deviceId}:${u.status}:${attempts(u)}`,
        );
        for (const w of ws) delete w.status;
        beat(stage);
      };
      // A status event per device and step: one per offline window, one per prompt.
      const attempts = (u: BatchStepUpdate) =>
        `${u.progress.attempts ?? 0}.${u.progress.prompts ?? 0}`;
      const recorded = new Set<string>();
      const settle = async () => {
        const fresh = finals.filter((f) => !recorded.has(f.deviceId));
        if (!fresh.length) return;
        await store.batches.recordOutcomes(a.rolloutId, fresh);
        for (const f of fresh) recorded.add(f.deviceId);
        publisher?.refresh(a.rolloutId);
      };

      // Nothing planned: done before any window.
      for (const w of work)
        if (!w.d.patchIds.length)
          end({ ...base(w), outcome: 'succeeded', reason: 'nothing to install' });

      // 1. Not deployed yet and due: window, reachability, deploy.
      const fresh = open().filter((w) => !w.p.step && due(w));
      const reachable: Array<{ w: Work; endsAt: number }> = [];
      for (const w of fresh) {
        const now = Date.now();
        const win = windowNow(w.s, deviceWindows(w.s, w.d.timezone, w.d.siteTimezone), now);
        if (!win.open) {
          w.p.nextAt = win.opensAt;
          if (w.d.status !== 'waiting_window') w.status = 'waiting_window';
          continue;
        }
        reachable.push({ w, endsAt: win.endsAt });
      }
      const online = await bulk.isOnline(reachable.map((r) => r.w.d.deviceId));
      const toDeploy: Work[] = [];
      reachable.forEach(({ w, endsAt }, i) => {
        const r = online[i]!;
        if (!r.ok) return void fail(w, r.message);
        if (r.value) return void toDeploy.push(w);
        const tried = (w.p.attempts ?? 0) + 1;
        w.p.attempts = tried;
        if (tried > w.s.offlineRetries) {
          end({ ...base(w), outcome: 'skipped', reason: 'offline in every window' });
          return;
        }
        // Retried in the next window (or offlineRetryMs later without windows).
        w.p.nextAt = Math.max(endsAt, Date.now() + 1);
        w.status = 'offline';
      });
      for (const w of toDeploy) w.status = 'deploying';
      await save([...fresh], 'window');

      const claims = await store.claims.claimMany(
        toDeploy.map((w) => ({ key: `${w.key}:deploy`, what: 'rmm.deploy' })),
        a.rolloutId,
      );
      const sending = toDeploy.filter((w) => {
        const c = claims.get(`${w.key}:deploy`)!;
        if (c.state !== 'done' || !c.result) return true;
        w.p = { ...w.p, step: 'job', jobId: c.result };
        return false;
      });
      const jobs = await bulk.deploy(
        sending.map((w) => {
          const c = claims.get(`${w.key}:deploy`)!;
          return {
            deviceId: w.d.deviceId,
            patchIds: w.d.patchIds,
            idempotencyKey: `${w.key}:deploy`,
            hints: { recheck: c.state !== 'new', since: c.since.toISOString() },
          };
        }),
      );
      const done: Array<{ key: string; result: string }> = [];
      sending.forEach((w, i) => {
        const r = jobs[i]!;
        if (!r.ok) return void fail(w, r.message);
        w.p = { ...w.p, step: 'job', jobId: r.value.jobId };
        done.push({ key: `${w.key}:deploy`, result: r.value.jobId });
      });
      await store.claims.completeMany(done);
      await save(toDeploy, 'deployed');

      // 2. Deploy jobs: until each ends; then a reboot when the policy wants one.
      const deployed = open().filter((w) => w.p.step === 'job');
      await pollJobs(
        deployed,
        (w) => w.p.jobId!,
        (w, job) => {
          w.p.results = job.results;
          if (rebootNeeded(w.s.reboot, job.results)) {
            w.p = {
              ...w.p,
              step: 'reboot',
              prompts: 0,
              deadline: Date.now() + w.s.reboot.deadlineMs,
            };
            w.status = 'rebooting';
          } else w.p.step = 'verify';
        },
      );
      await save(deployed, 'jobs');

      // 3. Reboot prompts that are due; a postponed one comes back after the interval.
      const prompting = open().filter((w) => w.p.step === 'reboot' && due(w));
      const answers = await bulk.promptReboot(
        prompting.map((w) => ({
          deviceId: w.d.deviceId,
          idempotencyKey: `${w.key}:reboot:${w.p.prompts ?? 0}`,
          allowDefer: mayDefer(w.s.reboot, w.p.prompts ?? 0, w.p.deadline ?? 0, Date.now()),
        })),
      );
      prompting.forEach((w, i) => {
        const r = answers[i]!;
        if (!r.ok) return void fail(w, r.message);
        if (r.value.outcome === 'rebooting') {
          w.p = { ...w.p, step: 'reboot_job', rebootJobId: r.value.jobId };
          return;
        }
        w.p = {
          ...w.p,
          prompts: (w.p.prompts ?? 0) + 1,
          nextAt: Date.now() + w.s.reboot.deferralIntervalMs,
        };
      });
      await save(prompting, 'prompted');
      const rebooting = open().filter((w) => w.p.step === 'reboot_job');
      await pollJobs(
        rebooting,
        (w) => w.p.rebootJobId!,
        (w) => void (w.p.step = 'verify'),
      );
      await save(rebooting, 'rebooted');

      // 4. The rescan decides; a half-patched device is rolled back when the policy says so.
      const verifying = open().filter((w) => w.p.step === 'verify');
      const scans = await bulk.patchStates(verifying.map((w) => w.d.deviceId));
      for (const [i, w] of verifying.entries()) {
        const r = scans[i]!;
        if (!r.ok) {
          fail(w, r.message);
          continue;
        }
        const v = verdict(w.d.patchIds, r.value);
        const rolledBack =
          v.failed.length && w.s.uninstallOnFailure
            ? await rollBack(w, [...v.installed, ...v.pendingReboot])
            : [];
        const kept = (ids: string[]) => ids.filter((p) => !rolledBack.includes(p));
        end({
          deviceId: w.d.deviceId,
          outcome: v.failed.length ? 'failed' : 'succeeded',
          installed: kept(v.installed),
          failed: v.failed,
          pendingReboot: kept(v.pendingReboot),
          ...(rolledBack.length ? { rolledBack } : {}),
          rebootDeferrals: w.p.prompts ?? 0,
          ...(v.failed.length
            ? {
                reason: w.p.results?.find((x) => x.error)?.error ?? 'not installed after rescan',
              }
            : {}),
        });
      }
      await settle();
      beat('recorded');
      const left = open()
        .map((w) => w.p.nextAt ?? Date.now())
        .sort((x, y) => x - y);
      if (attempt > 1)
        log.info({ rolloutId: a.rolloutId, batch: a.batch, attempt }, 'batch resumed');
      return {
        counts: await store.batches.counts(a.rolloutId, a.batch),
        nextAt: left[0] ?? null,
      };

      /** Reads jobs until each has ended, heartbeating; `then` moves a device on. */
      async function pollJobs(
        ws: Work[],
        jobOf: (w: Work) => string,
        then: (w: Work, job: JobStatus) => void,
      ): Promise<void> {
        let waiting = ws;
        const pollMs = Math.min(...ws.map((w) => w.s.jobPollMs));
        while (waiting.length) {
          const read: BulkResult<JobStatus>[] = await bulk.readJob(waiting.map(jobOf));
          const still: Work[] = [];
          waiting.forEach((w, i) => {
            const r = read[i]!;
            if (!r.ok) return void fail(w, r.message);
            if (r.value.state === 'succeeded' || r.value.state === 'failed') then(w, r.value);
            else still.push(w);
          });
          waiting = still;
          beat('polling');
          if (waiting.length) await sleep(pollMs); // rejects when the activity is cancelled
        }
      }

      /** Removes what the vendor lets us remove; returns what a rescan then shows gone. */
      async function rollBack(w: Work, patchIds: string[]): Promise<string[]> {
        const patches = await store.inventory.patches(patchIds);
        const removable = patches.filter((p) => p.uninstallable).map((p) => p.id);
        if (!removable.length) return [];
        const key = `${w.key}:uninstall`;
        const claim = await store.claims.claim(key, 'rmm.uninstall', a.rolloutId);
        let jobId = claim.state === 'done' ? claim.result : null;
        if (!jobId) {
          jobId = (
            await rmm.uninstall(w.d.deviceId, removable, key, {
              recheck: claim.state !== 'new',
              since: claim.since.toISOString(),
            })
          ).jobId;
          await store.claims.complete(key, jobId);
        }
        await pollJobs(
          [w],
          () => jobId,
          () => undefined,
        );
        const [after] = await bulk.patchStates([w.d.deviceId]);
        if (!after?.ok) return [];
        const gone = verdict(patchIds, after.value);
        return patchIds.filter(
          (p) => !gone.installed.includes(p) && !gone.pendingReboot.includes(p),
        );
      }
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
