import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import {
  createSimulator,
  KNOWN_BAD_PATCH_ID,
  type Simulator,
} from '../../adapters/rmm/simulator/index.js';
import { RmmError } from '../../adapters/rmm/types.js';
import {
  cancelSignal,
  decideUpdate,
  pauseSignal,
  progressQuery,
  promoteUpdate,
  resumeSignal,
  type Progress,
} from '../../workflows/messages.js';
import { policy, testDeps } from '../helpers/deps.js';
import { rolloutSuite } from '../helpers/rollout-suite.js';

type Json = {
  failed?: string[];
  installed?: string[];
  pendingReboot?: string[];
  rolledBack?: string[];
};

const ring = (name: string, percent: number, successThreshold = 0.5) =>
  `  - { name: ${name}, members: { percent: ${percent} }, soak: 0s, successThreshold: ${successThreshold}, concurrency: 1 }`;

const globalPolicy = (o: { rings?: string[]; approval?: string; extra?: string } = {}) =>
  policy(`
scope: { level: global }
approval: { default: ${o.approval ?? 'auto'} }
rings:
${(o.rings ?? [ring('all', 100)]).join('\n')}
windows: []
approvers: { cli: [alice] }
approvalTimeout: { after: 1m, remindEvery: 30s, outcome: reject }
circuitBreaker: { maxFailureRate: 0.99, minSamples: 100 }
reboot: { mode: if_required, userDeferrals: 0 }
${o.extra ?? ''}
`);

async function until(
  handle: WorkflowHandle,
  check: (p: Progress) => boolean,
  what: string,
  ms = 30_000,
): Promise<Progress> {
  const deadline = Date.now() + ms;
  for (;;) {
    const p = await handle.query(progressQuery);
    if (check(p)) return p;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(p)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('patchCycle controls and safety nets', () => {
  const s = rolloutSuite();
  const start = (id: string) => s.start(id);

  it('times out an unanswered approval after reminders and an escalation, with the policy outcome', async () => {
    const p = globalPolicy({ approval: 'needs_approval' });
    p.approvalTimeout = {
      after: 5_000,
      remindEvery: 1_500,
      escalateAfter: 3_500,
      escalateTo: ['bob'],
      outcome: 'reject',
    };
    const deps = testDeps(s.db.store, {
      policies: [p],
      simulator: { clients: 1, devicesPerClient: 5 },
    });
    const state = await s.t.withWorker(deps, async () => (await start('ctl-timeout')).result());
    assert.equal(state.phase, 'rejected');
    assert.equal(state.decision?.decidedBy, 'policy:timeout');
    const kinds = deps.notices.map((n) => n.kind);
    assert.equal(kinds.filter((k) => k === 'approval_request').length, 1);
    assert.ok(kinds.filter((k) => k === 'approval_reminder').length >= 2, kinds.join());
    const escalation = deps.notices.find((n) => n.kind === 'approval_escalation');
    assert.match(escalation?.text ?? '', /^Escalation to bob: rollout ctl-timeout /);
    assert.equal(deps.rmm.stats().deployCalls.size, 0);
    assert.deepEqual(await s.db.store.records.approvals('ctl-timeout'), [
      { decision: 'reject', decidedBy: 'policy:timeout', via: 'timeout' },
    ]);
  });

  it('a timeout whose policy outcome is approve deploys', async () => {
    const p = globalPolicy({ approval: 'needs_approval' });
    p.approvalTimeout = { after: 1_500, remindEvery: 1_000, outcome: 'approve' };
    const deps = testDeps(s.db.store, {
      policies: [p],
      simulator: { clients: 1, devicesPerClient: 4, knownBadPatch: false, offlineRate: 0 },
    });
    const state = await s.t.withWorker(deps, async () => (await start('ctl-timeout-ok')).result());
    assert.equal(state.phase, 'completed');
    assert.equal(state.decision?.decidedBy, 'policy:timeout');
    assert.ok(deps.rmm.stats().deployCalls.size > 0, 'deployed after the timeout approved');
    assert.deepEqual(await s.db.store.records.approvals('ctl-timeout-ok'), [
      { decision: 'approve', decidedBy: 'policy:timeout', via: 'timeout' },
    ]);
  });

  it('a deferral records until when, asks again when it ends, and a cancel during it ends the rollout at once', async () => {
    const deps = testDeps(s.db.store, {
      policies: [globalPolicy({ approval: 'needs_approval' })],
      simulator: { clients: 2, devicesPerClient: 5, knownBadPatch: false, offlineRate: 0 },
    });
    const alice = { id: 'alice', via: 'cli' } as const;
    await s.t.withWorker(deps, async () => {
      // A short defer runs out and approval is asked for again (round 2).
      const short = await start('ctl-defer-short');
      await until(short, (p) => p.phase === 'awaiting_approval', 'approval asked');
      const d = await short.executeUpdate(decideUpdate, {
        args: [{ decision: 'defer', approver: alice, deferMs: 1_500 }],
      });
      const asked = await until(
        short,
        (p) => p.phase === 'awaiting_approval' && p.decision === null,
        'approval asked again',
      );
      assert.equal(asked.phase, 'awaiting_approval');
      const row = await s.db.pool.query<{ decided_at: Date; defer_until: Date }>(
        `select decided_at, defer_until from approvals where rollout_id = 'ctl-defer-short'`,
      );
      assert.equal(row.rows[0]?.defer_until.toISOString(), d.until);
      const ms = row.rows[0]!.defer_until.getTime() - row.rows[0]!.decided_at.getTime();
      assert.ok(ms > 0 && ms < 1_500 + 5_000, `${ms} ms`);
      await short.executeUpdate(decideUpdate, { args: [{ decision: 'approve', approver: alice }] });
      assert.equal((await short.result()).phase, 'completed');

      // A week's defer, then a cancel: the rollout ends now, not in a week.
      const long = await s.start('ctl-defer-cancel', 'globex');
      await until(long, (p) => p.phase === 'awaiting_approval', 'approval asked');
      await long.executeUpdate(decideUpdate, {
        args: [{ decision: 'defer', approver: alice, deferMs: 7 * 86_400_000 }],
      });
      await until(long, (p) => p.phase === 'deferred', 'deferred');
      const t0 = Date.now();
      await long.signal(cancelSignal, { by: 'alice', reason: 'not this month' });
      const state = await long.result();
      assert.equal(state.phase, 'cancelled');
      assert.ok(Date.now() - t0 < 20_000, 'ended while deferred');
      assert.equal(deps.rmm.stats().deployCalls.size > 0, true, 'the short one deployed');
    });
    const cancelled = deps.notices.filter((n) => n.rolloutId === 'ctl-defer-cancel');
    assert.equal(
      cancelled.filter((n) => n.kind === 'approval_request').length,
      1,
      'no second approval request after the cancel',
    );
  });

  it('never deploys a blocklisted patch', async () => {
    const deps = testDeps(s.db.store, {
      policies: [globalPolicy({ extra: 'blocklist: [KB5091777]' })],
      simulator: { clients: 1, devicesPerClient: 15, offlineRate: 0 },
    });
    const state = await s.t.withWorker(deps, async () => (await start('ctl-blocklist')).result());
    assert.equal(state.phase, 'completed');
    const stats = deps.rmm.stats();
    assert.ok(stats.installsPerDevicePatch.size > 0, 'other patches were installed');
    // Installs alone cannot show it: the known-bad patch fails on every device, so it
    // would never count as installed even when sent. Deploy jobs name what was sent.
    assert.ok(stats.deployJobsPerPatch.size > 0);
    assert.equal(stats.deployJobsPerPatch.get(KNOWN_BAD_PATCH_ID), undefined, 'was sent');
    const planned = await s.db.store.rollouts.plannedPatches('ctl-blocklist');
    const bad = planned.find((p) => p.patchId === KNOWN_BAD_PATCH_ID);
    assert.equal(bad?.decision, 'reject');
    assert.match(bad?.reason ?? '', /blocklist pattern "KB5091777"/);
    // Rejected by policy: excluded from compliance on every device that lacks it; the
    // other patches ended installed or failed, none left approved or installing.
    const states = await s.db.pool.query<{ bad: boolean; state: string }>(
      `select distinct patch_id = $2 as bad, state from device_patches where rollout_id = $1`,
      ['ctl-blocklist', KNOWN_BAD_PATCH_ID],
    );
    const by = (bad: boolean) => states.rows.filter((r) => r.bad === bad).map((r) => r.state);
    assert.deepEqual(by(true), ['excluded']);
    const settled = ['installed', 'pending_reboot', 'failed'];
    assert.ok(by(false).length && by(false).every((st) => settled.includes(st)), by(false).join());
    const compliance = await s.db.store.compliance.snapshot();
    assert.ok(compliance.every((r) => r.applicable > 0));
  });

  it('a failed pilot gate halts before the next ring starts', async () => {
    const deps = testDeps(s.db.store, {
      policies: [globalPolicy({ rings: [ring('pilot', 30, 1), ring('broad', 70)] })],
      simulator: { clients: 1, devicesPerClient: 30, offlineRate: 0 },
    });
    const state = await s.t.withWorker(deps, async () => (await start('ctl-gate')).result());
    assert.equal(state.phase, 'halted', JSON.stringify(state.rings));
    assert.match(
      state.haltReason ?? '',
      /ring pilot succeeded on .*% of devices, below the 100\.0% gate/,
    );
    assert.ok((state.rings[0]?.failed ?? 0) > 0);
    assert.equal(state.rings[1]?.started, 0);
    assert.equal((await s.db.store.rollouts.get('ctl-gate'))?.status, 'halted');
    // The ring's first failure raised one alert (Pause / Resume / Cancel in chat), not one per failure.
    const alerts = deps.notices.filter((n) => n.kind === 'failure_alert');
    assert.equal(alerts.length, 1, deps.notices.map((n) => n.kind).join());
    assert.equal(alerts[0]?.card?.kind, 'alert');
    assert.deepEqual(alerts[0]?.card?.actions, ['pause', 'cancel']);
  });

  it('the circuit breaker halts a ring on the known-bad patch', async () => {
    const p = globalPolicy({ rings: [ring('all', 100)] });
    p.circuitBreaker = { maxFailureRate: 0.3, minSamples: 3 };
    const deps = testDeps(s.db.store, {
      policies: [p],
      simulator: { clients: 1, devicesPerClient: 40, offlineRate: 0 },
    });
    const state = await s.t.withWorker(deps, async () => (await start('ctl-breaker')).result());
    assert.equal(state.phase, 'halted');
    assert.match(
      state.haltReason ?? '',
      /^circuit breaker: \d+ of \d+ devices failed in ring all$/,
    );
    const all = state.rings[0]!;
    assert.ok(
      all.started < all.total,
      `breaker stopped new devices (${all.started} of ${all.total})`,
    );
    assert.ok(deps.notices.some((n) => n.kind === 'halted'));
  });

  it('rollback.onFailure uninstall puts a device where a patch failed back as it was', async () => {
    const deps = testDeps(s.db.store, {
      policies: [globalPolicy({ extra: 'rollback: { onFailure: uninstall }' })],
      simulator: { clients: 1, devicesPerClient: 15, offlineRate: 0 },
    });
    const state = await s.t.withWorker(deps, async () => (await start('ctl-rollback')).result());
    assert.equal(state.phase, 'completed', JSON.stringify(state));
    const { rows } = await s.db.pool.query<{ device_id: string; status: string; outcome: Json }>(
      `select device_id, status, outcome from rollout_devices where rollout_id = 'ctl-rollback'`,
    );
    const hit = rows.filter((r) => r.outcome.failed?.includes(KNOWN_BAD_PATCH_ID));
    const clean = rows.filter((r) => r.status === 'succeeded');
    assert.ok(hit.length > 0 && clean.length > 0, `${hit.length} hit, ${clean.length} clean`);
    const catalog = new Map(deps.rmm.catalog().map((p) => [p.id, p]));
    for (const r of hit) {
      const back = r.outcome.rolledBack ?? [];
      assert.ok(back.length > 0, `${r.device_id} rolled nothing back: ${JSON.stringify(r)}`);
      assert.ok(back.every((id) => catalog.get(id)?.uninstallable));
      // What stays is only what the vendor will not let us remove.
      for (const id of [...(r.outcome.installed ?? []), ...(r.outcome.pendingReboot ?? [])])
        assert.equal(catalog.get(id)?.uninstallable, false, `${id} was left on ${r.device_id}`);
      // Installed once, removed once: the RMM lists them as missing again.
      const missing = new Set((await deps.rmm.missingPatches(r.device_id)).map((p) => p.id));
      for (const id of back) {
        assert.ok(missing.has(id), `${id} still on ${r.device_id}`);
        assert.equal(deps.rmm.stats().installsPerDevicePatch.get(`${r.device_id}|${id}`), 1);
      }
      const states = await s.db.pool.query<{ patch_id: string; state: string }>(
        'select patch_id, state from device_patches where device_id = $1 and patch_id = any($2)',
        [r.device_id, [...back, KNOWN_BAD_PATCH_ID]],
      );
      for (const row of states.rows)
        assert.equal(row.state, row.patch_id === KNOWN_BAD_PATCH_ID ? 'failed' : 'rolled_back');
    }
    // A device where everything installed keeps it all.
    for (const r of clean) assert.equal(r.outcome.rolledBack, undefined);
    const audit = await s.db.store.audit.listBySubject('device', hit[0]!.device_id);
    assert.deepEqual(
      audit.find((e) => e.action === 'device.failed' && e.rolloutId === 'ctl-rollback')?.data
        ?.rolledBack,
      hit[0]!.outcome.rolledBack,
    );
  });

  it('a device whose deploy the RMM refuses is recorded failed with the reason, and the ring goes on', async () => {
    // Without its bulk calls, as a vendor with single calls only (the batch makes them itself).
    const rmm: Simulator = {
      ...createSimulator({ clients: 1, devicesPerClient: 6, offlineRate: 0, knownBadPatch: false }),
      bulk: undefined,
    };
    // The first device sent a job drops off the network just then (a non-retryable refusal).
    let victim: string | undefined;
    const deploy = rmm.deploy.bind(rmm);
    rmm.deploy = (deviceId, patchIds, key) => {
      victim ??= deviceId;
      return deviceId === victim
        ? Promise.reject(new RmmError('DEVICE_OFFLINE', `${deviceId} dropped off before the job`))
        : deploy(deviceId, patchIds, key);
    };
    const deps = testDeps(s.db.store, { policies: [globalPolicy()], rmm });
    const state = await s.t.withWorker(deps, async () => (await start('ctl-refused')).result());
    assert.equal(state.phase, 'completed');
    assert.equal(state.rings[0]!.failed, 1);
    const rows = await s.db.pool.query<{
      device_id: string;
      status: string;
      outcome: { reason?: string };
    }>('select device_id, status, outcome from rollout_devices where rollout_id = $1', [
      'ctl-refused',
    ]);
    const row = rows.rows.find((r) => r.device_id === victim);
    assert.equal(row?.status, 'failed');
    assert.equal(row?.outcome.reason, `${victim} dropped off before the job`);
    assert.ok(rows.rows.length > 1);
    assert.ok(
      rows.rows.filter((r) => r.device_id !== victim).every((r) => r.status === 'succeeded'),
    );
    const audit = await s.db.store.audit.listBySubject('device', victim!);
    assert.ok(audit.some((e) => e.action === 'device.failed' && e.rolloutId === 'ctl-refused'));
  });

  it('a site policy sets its own reboot mode: the cascade reaches the device', async () => {
    const global = globalPolicy({
      rings: [ring('all', 100).replace('concurrency: 1', 'concurrency: 6')],
    });
    global.reboot = {
      mode: 'always',
      userDeferrals: 0,
      deferralInterval: 60_000,
      deadline: 3_600_000,
    };
    const deps = testDeps(s.db.store, {
      policies: [global],
      simulator: { clients: 1, devicesPerClient: 12, offlineRate: 0, knownBadPatch: false },
    });
    const [hq] = await deps.rmm.listSites('acme');
    deps.policies.push(policy(`scope: { level: site, id: ${hq!.id} }\nreboot: { mode: never }`));
    const state = await s.t.withWorker(deps, async () => (await start('ctl-site')).result());
    assert.equal(state.phase, 'completed');
    const rows = await s.db.pool.query<{
      device_id: string;
      site_id: string;
      settings: { reboot?: { mode: string } } | null;
    }>(
      `select rd.device_id, d.site_id, rd.settings from rollout_devices rd
       join devices d on d.id = rd.device_id where rd.rollout_id = $1`,
      ['ctl-site'],
    );
    const reboots = deps.rmm.stats().rebootsPerDevice;
    const [atHq, elsewhere] = [true, false].map((hqSide) =>
      rows.rows.filter((r) => (r.site_id === hq!.id) === hqSide),
    );
    assert.ok(atHq!.length > 0 && elsewhere!.length > 0, `${atHq!.length} / ${elsewhere!.length}`);
    for (const r of atHq!) {
      assert.equal(r.settings?.reboot?.mode, 'never');
      assert.equal(reboots.get(r.device_id), undefined, `${r.device_id} rebooted`);
    }
    for (const r of elsewhere!) {
      assert.equal(r.settings, null);
      assert.equal(reboots.get(r.device_id), 1, `${r.device_id} did not reboot once`);
    }
  });

  it('verify rescans devices waiting for a reboot: one rebooted since is installed, the others stay pending', async () => {
    const p = globalPolicy({
      rings: [
        ring('pilot', 40, 0).replace('soak: 0s', 'soak: 0s, promotion: manual'),
        ring('broad', 60, 0),
      ],
    });
    p.reboot = { mode: 'never', userDeferrals: 0, deferralInterval: 60_000, deadline: 3_600_000 };
    const deps = testDeps(s.db.store, {
      policies: [p],
      simulator: {
        clients: 1,
        devicesPerClient: 10,
        offlineRate: 0,
        knownBadPatch: false,
        failureRate: { perPatch: 0, perDevice: 0 },
      },
    });
    let rebooted = '';
    const state = await s.t.withWorker(deps, async () => {
      const handle = await start('ctl-verify');
      await until(handle, (pr) => pr.phase === 'awaiting_promotion', 'pilot done');
      // The user of one pilot device reboots it while the rollout waits for promotion.
      const pilot = await s.db.store.rollouts.ringPage('ctl-verify', 0, null, 100);
      const pending = pilot.filter((id) => deps.rmm.pendingReboot(id).length > 0);
      assert.ok(pending.length >= 2, `pilot devices waiting for a reboot: ${pending.join()}`);
      rebooted = pending[0]!;
      const { jobId } = await deps.rmm.reboot(rebooted, 'user-reboot');
      while ((await deps.rmm.readJob(jobId)).state !== 'succeeded')
        await new Promise((r) => setTimeout(r, 50));
      await handle.executeUpdate(promoteUpdate, {
        args: [{ ring: 'broad', approver: { id: 'alice', via: 'cli' } }],
      });
      return handle.result();
    });
    assert.equal(state.phase, 'completed');
    const states = await s.db.pool.query<{ device_id: string; state: string }>(
      `select distinct device_id, state from device_patches where rollout_id = 'ctl-verify'`,
    );
    const of = (id: string) => states.rows.filter((r) => r.device_id === id).map((r) => r.state);
    assert.deepEqual(of(rebooted), ['installed']);
    const stillPending = states.rows.filter((r) => r.state === 'pending_reboot');
    assert.ok(stillPending.length > 0, 'nobody else rebooted');
    const verified = (await s.db.store.audit.listBySubject('rollout', 'ctl-verify')).find(
      (e) => e.action === 'rollout.verified',
    );
    assert.ok((verified?.data.installed as number) > 0, JSON.stringify(verified?.data));
    assert.ok((verified?.data.stillPending as number) > 0);
    assert.equal(verified?.data.failed, 0);
    const summary = (await s.db.store.rollouts.get('ctl-verify'))?.summary as {
      verification?: unknown;
    };
    assert.deepEqual(summary.verification, verified?.data);
  });

  it('pause stops new devices; resume carries on to the end', async () => {
    const deps = testDeps(s.db.store, {
      policies: [globalPolicy()],
      simulator: {
        clients: 1,
        devicesPerClient: 12,
        offlineRate: 0,
        knownBadPatch: false,
        latencyMs: { job: 400 },
      },
    });
    const state = await s.t.withWorker(deps, async () => {
      const handle = await start('ctl-pause');
      await until(handle, (p) => (p.rings[0]?.started ?? 0) >= 2, 'two devices started');
      await handle.signal(pauseSignal, { by: 'alice' });
      const paused = await until(handle, (p) => p.paused, 'paused');
      await new Promise((r) => setTimeout(r, 2_000));
      // The workflow recorded the pause itself: status, card flag and who, in the audit.
      assert.equal((await s.db.store.rollouts.get('ctl-pause'))?.status, 'paused');
      assert.equal((await s.db.store.cards.facts('ctl-pause'))?.paused, true);
      const later = await handle.query(progressQuery);
      // At most the device already being started when the signal arrived is added.
      assert.ok(
        later.rings[0]!.started <= paused.rings[0]!.started + 1,
        `${later.rings[0]!.started} vs ${paused.rings[0]!.started}`,
      );
      await handle.signal(resumeSignal, { by: 'alice' });
      return handle.result();
    });
    assert.equal(state.phase, 'completed', JSON.stringify(state));
    assert.equal(state.rings[0]!.started, state.rings[0]!.total);
    const trail = (await s.db.store.audit.listBySubject('rollout', 'ctl-pause'))
      .filter((e) => e.action === 'rollout.paused' || e.action === 'rollout.resumed')
      .map((e) => `${e.action} by ${e.actor}`);
    assert.deepEqual(trail, ['rollout.paused by alice', 'rollout.resumed by alice']);
    assert.equal((await s.db.store.cards.facts('ctl-pause'))?.paused, false);
  });

  it('cancel mid-ring stops the rollout and cancels the running device', async () => {
    const deps = testDeps(s.db.store, {
      policies: [globalPolicy()],
      simulator: { clients: 1, devicesPerClient: 12, offlineRate: 0, latencyMs: { job: 2_000 } },
    });
    const state = await s.t.withWorker(deps, async () => {
      const handle = await start('ctl-cancel');
      await until(handle, (p) => (p.rings[0]?.started ?? 0) >= 1, 'a device started');
      await handle.signal(cancelSignal, { by: 'alice', reason: 'change freeze' });
      return handle.result();
    });
    assert.equal(state.phase, 'cancelled');
    assert.ok(state.rings[0]!.started < state.rings[0]!.total);
    assert.equal((await s.db.store.rollouts.get('ctl-cancel'))?.status, 'cancelled');
    const counts = await s.db.store.rollouts.ringCounts('ctl-cancel');
    assert.ok((counts[0]?.counts.cancelled ?? 0) >= 1, JSON.stringify(counts));
  });
});

describe('patchCycle devices: windows, offline retries, reboot deferrals', () => {
  const s = rolloutSuite();
  const start = (id: string) => s.start(id);
  const deviceRows = async (rolloutId: string) =>
    (
      await s.db.pool.query<{
        device_id: string;
        status: string;
        outcome: Record<string, unknown>;
      }>(
        'select device_id, status, outcome from rollout_devices where rollout_id = $1 order by device_id',
        [rolloutId],
      )
    ).rows;

  const patchStates = async (deviceId: string, rolloutId: string) =>
    (
      await s.db.pool.query<{ state: string }>(
        `select distinct state from device_patches where device_id = $1 and rollout_id = $2`,
        [deviceId, rolloutId],
      )
    ).rows.map((r) => r.state);

  it('a device outside its maintenance window waits on a durable timer', async () => {
    const at = new Date(Date.now() + 3 * 60_000);
    const hhmm = `${String(at.getUTCHours()).padStart(2, '0')}:${String(at.getUTCMinutes()).padStart(2, '0')}`;
    const p = globalPolicy({
      rings: [ring('all', 100).replace('concurrency: 1', 'concurrency: 5')],
    });
    p.windows = [
      { name: 'soon', rule: { daily: true }, start: hhmm, duration: 3_600_000, timezone: 'UTC' },
    ];
    const deps = testDeps(s.db.store, {
      policies: [p],
      simulator: { clients: 1, devicesPerClient: 5, offlineRate: 0 },
    });
    const state = await s.t.withWorker(deps, async () => {
      const handle = await start('dev-window');
      await until(handle, (pr) => (pr.rings[0]?.started ?? 0) >= 1, 'devices started');
      const deadline = Date.now() + 15_000;
      while (!(await deviceRows('dev-window')).some((r) => r.status === 'waiting_window')) {
        if (Date.now() > deadline) throw new Error('no device waiting for its window');
        await new Promise((r) => setTimeout(r, 200));
      }
      await new Promise((r) => setTimeout(r, 1_500));
      assert.equal(deps.rmm.stats().deployCalls.size, 0, 'deployed outside the window');
      // The waiting device's patches are scheduled, and its wait is in the audit trail.
      const waiting = (await deviceRows('dev-window')).find((r) => r.status === 'waiting_window')!;
      assert.deepEqual(await patchStates(waiting.device_id, 'dev-window'), ['scheduled']);
      const trail = await s.db.store.audit.listBySubject('device', waiting.device_id);
      assert.ok(trail.some((e) => e.action === 'device.waiting_window'));
      await handle.signal(cancelSignal, { by: 'alice' });
      return handle.result();
    });
    assert.equal(state.phase, 'cancelled');
    // Cancelled before their window: nothing is left scheduled or approved.
    const left = await s.db.pool.query(
      `select 1 from device_patches where rollout_id = 'dev-window' and state in ('approved', 'scheduled', 'installing')`,
    );
    assert.equal(left.rowCount, 0);
  });

  it('an offline device is retried later and then patched', async () => {
    const deps = testDeps(s.db.store, {
      policies: [globalPolicy()],
      simulator: {
        clients: 1,
        devicesPerClient: 6,
        offlineRate: 0,
        knownBadPatch: false,
        failureRate: { perPatch: 0, perDevice: 0 },
        latencyMs: { job: 300 },
      },
    });
    const state = await s.t.withWorker(deps, async () => {
      const handle = await start('dev-offline');
      await until(handle, (pr) => pr.phase === 'deploying', 'deploying');
      const last = (await deviceRows('dev-offline')).at(-1)!.device_id;
      deps.rmm.setOnline(last, false);
      const deadline = Date.now() + 30_000;
      while (
        !(await deviceRows('dev-offline')).some(
          (r) => r.device_id === last && r.status === 'offline',
        )
      ) {
        if (Date.now() > deadline) throw new Error(`${last} never seen offline`);
        await new Promise((r) => setTimeout(r, 100));
      }
      deps.rmm.setOnline(last, true);
      return handle.result();
    });
    assert.equal(state.phase, 'completed');
    assert.equal(state.rings[0]!.skipped, 0);
    const rows = await deviceRows('dev-offline');
    assert.ok(
      rows.every((r) => r.status === 'succeeded'),
      JSON.stringify(rows),
    );
  });

  const rebootRun = async (
    id: string,
    reboot: { userDeferrals: number; deferralInterval: number; deadline: number },
  ) => {
    const p = globalPolicy({
      rings: [ring('all', 100).replace('concurrency: 1', 'concurrency: 6')],
    });
    p.reboot = { mode: 'if_required', ...reboot };
    const deps = testDeps(s.db.store, {
      policies: [p],
      simulator: {
        clients: 1,
        devicesPerClient: 6,
        offlineRate: 0,
        knownBadPatch: false,
        failureRate: { perPatch: 0, perDevice: 0 },
      },
    });
    for (const d of (await deps.rmm.listDevices('acme', { limit: 100 })).devices)
      deps.rmm.setUserDefers(d.id, true);
    const state = await s.t.withWorker(deps, async () => (await start(id)).result());
    assert.equal(state.phase, 'completed');
    const reboots = deps.rmm.stats().rebootsPerDevice;
    assert.ok(reboots.size > 0, 'some device needed a reboot');
    const rows = await deviceRows(id);
    return [...reboots].map(([deviceId, n]) => ({
      deviceId,
      reboots: n,
      deferrals: rows.find((r) => r.device_id === deviceId)?.outcome.rebootDeferrals,
    }));
  };

  it('users may defer a reboot as often as the policy allows, then it is forced, once', async () => {
    for (const d of await rebootRun('dev-reboot-count', {
      userDeferrals: 2,
      deferralInterval: 500,
      deadline: 600_000,
    })) {
      assert.deepEqual(d, { deviceId: d.deviceId, reboots: 1, deferrals: 2 });
    }
  });

  it('a deferral that would pass the reboot deadline is not offered', async () => {
    // The second prompt comes at least 2 s after the first, past the 3 s deadline.
    for (const d of await rebootRun('dev-reboot-deadline', {
      userDeferrals: 10,
      deferralInterval: 2_000,
      deadline: 3_000,
    })) {
      assert.deepEqual(d, { deviceId: d.deviceId, reboots: 1, deferrals: 1 });
    }
  });
});
