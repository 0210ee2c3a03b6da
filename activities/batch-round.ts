import { sleep } from '@temporalio/activity';
import type { JobStatus, RmmAdapter, RmmBulk } from '../adapters/rmm/types.js';
import type { CardPublisher } from '../bot/cards/publisher.js';
import {
  deviceWindows,
  mayDefer,
  rebootNeeded,
  verdict,
  windowNow,
  type DeviceProgress,
} from '../domain/batch.js';
import type { BatchDevice, RolloutDeviceStatus, Store } from '../store/index.js';
import type { DeviceRolloutResult, DeviceSettings } from '../workflows/device-rollout.js';

/** One open device during an attempt: its settings, key, progress and a status to write. */
interface Work {
  d: BatchDevice;
  s: DeviceSettings;
  key: string;
  p: DeviceProgress;
  status?: RolloutDeviceStatus;
}

export interface RoundDeps {
  store: Store;
  rmm: RmmAdapter;
  /** The adapter's bulk calls (or bulkOf's), failing as a whole only for good reasons. */
  bulk: RmmBulk;
  publisher: CardPublisher | undefined;
  heartbeat: (details: unknown) => void;
}

/**
 * One attempt at one batch (`advanceBatch`): every open device that is due is taken as far
 * as it can go without waiting for time to pass, step by step for the whole batch at once,
 * each step written to PostgreSQL before the next starts. `run` returns when the earliest
 * device left open is due again (null when none is).
 */
export class BatchRound {
  private readonly work: Work[];
  private readonly finals: DeviceRolloutResult[] = [];
  private readonly ended = new Set<string>();
  private readonly recorded = new Set<string>();

  constructor(
    private readonly deps: RoundDeps,
    private readonly a: { rolloutId: string; batch: number; workflowId: string },
    devices: BatchDevice[],
    settings: DeviceSettings,
  ) {
    this.work = devices.map((d) => ({
      d,
      s: { ...settings, ...d.settings },
      key: `${a.workflowId}/device/${d.deviceId}`,
      p: { ...d.progress },
    }));
  }

  async run(): Promise<number | null> {
    for (const w of this.work)
      if (!w.d.patchIds.length) this.end(w, { outcome: 'succeeded', reason: 'nothing to install' });
    await this.deploy(await this.reachable());
    await this.waitForDeploys();
    await this.promptReboots();
    await this.waitForReboots();
    await this.verify();
    await this.settle();
    this.deps.heartbeat({ stage: 'recorded', done: this.finals.length });
    const next = this.open().map((w) => w.p.nextAt ?? Date.now());
    return next.length ? Math.min(...next) : null;
  }

  /** Not deployed yet and due: in its window and online, or told to wait. */
  private async reachable(): Promise<Work[]> {
    const fresh = this.open().filter((w) => !w.p.step && this.due(w));
    const inWindow: Array<{ w: Work; endsAt: number }> = [];
    for (const w of fresh) {
      const windows = deviceWindows(w.s, w.d.timezone, w.d.siteTimezone);
      const win = windowNow(w.s, windows, Date.now());
      if (win.open) inWindow.push({ w, endsAt: win.endsAt });
      else {
        w.p.nextAt = win.opensAt;
        if (w.d.status !== 'waiting_window') w.status = 'waiting_window';
      }
    }
    const online = await this.deps.bulk.isOnline(inWindow.map((r) => r.w.d.deviceId));
    const ready: Work[] = [];
    inWindow.forEach(({ w, endsAt }, i) => {
      const r = online[i]!;
      if (!r.ok) return this.fail(w, r.message);
      if (r.value) return void ready.push(Object.assign(w, { status: 'deploying' as const }));
      w.p.attempts = (w.p.attempts ?? 0) + 1;
      if (w.p.attempts > w.s.offlineRetries)
        return this.end(w, { outcome: 'skipped', reason: 'offline in every window' });
      // Retried in the next window (or offlineRetryMs later without windows).
      w.p.nextAt = Math.max(endsAt, Date.now() + 1);
      w.status = 'offline';
    });
    await this.save(fresh, 'window');
    return ready;
  }

  /** One deploy per device key: claimed first, sent in one bulk call, its job id kept. */
  private async deploy(ready: Work[]): Promise<void> {
    const { store, bulk } = this.deps;
    const keyOf = (w: Work) => `${w.key}:deploy`;
    const claims = await store.claims.claimMany(
      ready.map((w) => ({ key: keyOf(w), what: 'rmm.deploy' })),
      this.a.rolloutId,
    );
    const sending = ready.filter((w) => {
      const c = claims.get(keyOf(w))!;
      if (c.state !== 'done' || !c.result) return true;
      w.p = { ...w.p, step: 'job', jobId: c.result };
      return false;
    });
    const jobs = await bulk.deploy(
      sending.map((w) => {
        const c = claims.get(keyOf(w))!;
        return {
          deviceId: w.d.deviceId,
          patchIds: w.d.patchIds,
          idempotencyKey: keyOf(w),
          hints: { recheck: c.state !== 'new', since: c.since.toISOString() },
        };
      }),
    );
    const done: Array<{ key: string; result: string }> = [];
    sending.forEach((w, i) => {
      const r = jobs[i]!;
      if (!r.ok) return this.fail(w, r.message);
      w.p = { ...w.p, step: 'job', jobId: r.value.jobId };
      done.push({ key: keyOf(w), result: r.value.jobId });
    });
    await store.claims.completeMany(done);
    await this.save(ready, 'deployed');
  }

  /** Deploy jobs until each ends; then a reboot when the policy wants one. */
  private async waitForDeploys(): Promise<void> {
    const deployed = this.open().filter((w) => w.p.step === 'job');
    await this.pollJobs(
      deployed,
      (w) => w.p.jobId!,
      (w, job) => {
        w.p.results = job.results;
        if (!rebootNeeded(w.s.reboot, job.results)) return void (w.p.step = 'verify');
        const deadline = Date.now() + w.s.reboot.deadlineMs;
        w.p = { ...w.p, step: 'reboot', prompts: 0, deadline };
        w.status = 'rebooting';
      },
    );
    await this.save(deployed, 'jobs');
  }

  /** Reboot prompts that are due; a postponed one comes back after the interval. */
  private async promptReboots(): Promise<void> {
    const prompting = this.open().filter((w) => w.p.step === 'reboot' && this.due(w));
    const answers = await this.deps.bulk.promptReboot(
      prompting.map((w) => ({
        deviceId: w.d.deviceId,
        idempotencyKey: `${w.key}:reboot:${w.p.prompts ?? 0}`,
        allowDefer: mayDefer(w.s.reboot, w.p.prompts ?? 0, w.p.deadline ?? 0, Date.now()),
      })),
    );
    prompting.forEach((w, i) => {
      const r = answers[i]!;
      if (!r.ok) return this.fail(w, r.message);
      if (r.value.outcome === 'rebooting')
        return void (w.p = { ...w.p, step: 'reboot_job', rebootJobId: r.value.jobId });
      const prompts = (w.p.prompts ?? 0) + 1;
      w.p = { ...w.p, prompts, nextAt: Date.now() + w.s.reboot.deferralIntervalMs };
    });
    await this.save(prompting, 'prompted');
  }

  private async waitForReboots(): Promise<void> {
    const rebooting = this.open().filter((w) => w.p.step === 'reboot_job');
    await this.pollJobs(
      rebooting,
      (w) => w.p.rebootJobId!,
      (w) => void (w.p.step = 'verify'),
    );
    await this.save(rebooting, 'rebooted');
  }

  /** The rescan decides; a half-patched device is rolled back when the policy says so. */
  private async verify(): Promise<void> {
    const verifying = this.open().filter((w) => w.p.step === 'verify');
    const scans = await this.deps.bulk.patchStates(verifying.map((w) => w.d.deviceId));
    for (const [i, w] of verifying.entries()) {
      const r = scans[i]!;
      if (!r.ok) {
        this.fail(w, r.message);
        continue;
      }
      const v = verdict(w.d.patchIds, r.value);
      const rolledBack =
        v.failed.length && w.s.uninstallOnFailure
          ? await this.rollBack(w, [...v.installed, ...v.pendingReboot])
          : [];
      const kept = (ids: string[]) => ids.filter((p) => !rolledBack.includes(p));
      this.end(w, {
        outcome: v.failed.length ? 'failed' : 'succeeded',
        installed: kept(v.installed),
        failed: v.failed,
        pendingReboot: kept(v.pendingReboot),
        ...(rolledBack.length ? { rolledBack } : {}),
        rebootDeferrals: w.p.prompts ?? 0,
        ...(v.failed.length
          ? { reason: w.p.results?.find((x) => x.error)?.error ?? 'not installed after rescan' }
          : {}),
      });
    }
  }

  /** Removes what the vendor lets us remove; returns what a rescan then shows gone. */
  private async rollBack(w: Work, patchIds: string[]): Promise<string[]> {
    const { store, rmm, bulk } = this.deps;
    const patches = await store.inventory.patches(patchIds);
    const removable = patches.filter((p) => p.uninstallable).map((p) => p.id);
    if (!removable.length) return [];
    const key = `${w.key}:uninstall`;
    const claim = await store.claims.claim(key, 'rmm.uninstall', this.a.rolloutId);
    let jobId = claim.state === 'done' ? claim.result : null;
    if (!jobId) {
      const hints = { recheck: claim.state !== 'new', since: claim.since.toISOString() };
      jobId = (await rmm.uninstall(w.d.deviceId, removable, key, hints)).jobId;
      await store.claims.complete(key, jobId);
    }
    await this.pollJobs(
      [w],
      () => jobId,
      () => undefined,
    );
    const [after] = await bulk.patchStates([w.d.deviceId]);
    if (!after?.ok) return [];
    const left = verdict(patchIds, after.value);
    return patchIds.filter((p) => !left.installed.includes(p) && !left.pendingReboot.includes(p));
  }

  /** Reads jobs until each has ended, heartbeating; `then` moves a device on. */
  private async pollJobs(
    ws: Work[],
    jobOf: (w: Work) => string,
    then: (w: Work, job: JobStatus) => void,
  ): Promise<void> {
    let waiting = ws;
    const pollMs = Math.min(...ws.map((w) => w.s.jobPollMs));
    while (waiting.length) {
      const read = await this.deps.bulk.readJob(waiting.map(jobOf));
      const still: Work[] = [];
      waiting.forEach((w, i) => {
        const r = read[i]!;
        if (!r.ok) return this.fail(w, r.message);
        if (r.value.state === 'succeeded' || r.value.state === 'failed') then(w, r.value);
        else still.push(w);
      });
      waiting = still;
      this.deps.heartbeat({ stage: 'polling', done: this.finals.length });
      if (waiting.length) await sleep(pollMs); // rejects when the activity is cancelled
    }
  }

  /** Writes the steps of `ws` (and the outcomes so far) before the next step starts. */
  private async save(ws: Work[], stage: string): Promise<void> {
    await this.settle();
    const open = ws.filter((w) => !this.ended.has(w.d.deviceId));
    // A status event per device and step: one per offline window, one per prompt.
    const round = (p: DeviceProgress) => `${p.attempts ?? 0}.${p.prompts ?? 0}`;
    await this.deps.store.batches.saveSteps(
      this.a.rolloutId,
      open.map((w) => ({
        deviceId: w.d.deviceId,
        progress: w.p,
        ...(w.status ? { status: w.status } : {}),
      })),
      (u) =>
        `${this.a.workflowId}:batch:${this.a.batch}:${u.deviceId}:${u.status}:${round(u.progress)}`,
    );
    for (const w of ws) delete w.status;
    this.deps.heartbeat({ stage, done: this.finals.length });
  }

  /** Records the outcomes not recorded yet, in one transaction. */
  private async settle(): Promise<void> {
    const fresh = this.finals.filter((f) => !this.recorded.has(f.deviceId));
    if (!fresh.length) return;
    await this.deps.store.batches.recordOutcomes(this.a.rolloutId, fresh);
    for (const f of fresh) this.recorded.add(f.deviceId);
    this.deps.publisher?.refresh(this.a.rolloutId);
  }

  private open(): Work[] {
    return this.work.filter((w) => !this.ended.has(w.d.deviceId));
  }

  private due(w: Work): boolean {
    return (w.p.nextAt ?? 0) <= Date.now();
  }

  private end(
    w: Work,
    r: Omit<DeviceRolloutResult, 'deviceId' | 'installed' | 'failed' | 'pendingReboot'> &
      Partial<DeviceRolloutResult>,
  ): void {
    this.finals.push({
      deviceId: w.d.deviceId,
      installed: [],
      failed: [],
      pendingReboot: [],
      ...r,
    });
    this.ended.add(w.d.deviceId);
  }

  private fail(w: Work, reason: string): void {
    this.end(w, { outcome: 'failed', failed: w.d.patchIds, reason });
  }
}
