/**
 * The whole lifecycle on real Debian hosts over SSH: a real worker, real Temporal and
 * PostgreSQL, real sshd, apt and dpkg in namespaced test hosts (test/hosts). What was
 * installed is read from each host's own dpkg status, not through the adapter.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SshRmm } from '../../adapters/rmm/ssh/index.js';
import { decideUpdate, progressQuery } from '../../workflows/messages.js';
import { startHosts, FAIL_MARKER, type HostFleet } from '../hosts/harness.js';
import { adapter, writeInventory } from '../integration/ssh/fleet-adapter.js';
import { policy, testDeps } from '../helpers/deps.js';
import { rolloutSuite } from '../helpers/rollout-suite.js';

const rollout = (o: { threshold: number; rollback: boolean }) =>
  policy(`
scope: { level: global }
approval: { default: needs_approval }
rings:
  - { name: pilot, members: { percent: 30 }, soak: 0s, successThreshold: ${o.threshold}, concurrency: 3 }
  - { name: broad, members: { percent: 66 }, soak: 0s, successThreshold: 0.0, concurrency: 3 }
windows: []
approvers: { cli: [alice] }
approvalTimeout: { after: 10m, remindEvery: 10m, outcome: reject }
circuitBreaker: { maxFailureRate: 0.99, minSamples: 100 }
reboot: { mode: if_required, userDeferrals: 0 }
rollback: { onFailure: ${o.rollback ? 'uninstall' : 'none'} }
`);

describe('a rollout patches real Debian hosts over SSH', () => {
  const s = rolloutSuite();
  let fleet: HostFleet;
  let rmm: SshRmm;

  before(async () => {
    fleet = await startHosts({ count: 3 });
    rmm = adapter(writeInventory(fleet), fleet.knownHostsPath);
  });
  after(async () => {
    rmm?.close();
    await fleet?.stop();
  });

  const run = async (id: string, p: ReturnType<typeof rollout>) => {
    const d = testDeps(s.db.store, { policies: [p] });
    (d as { rmm: unknown }).rmm = rmm;
    return s.t.withWorker(d, async () => {
      const h = await s.start(id);
      for (let i = 0; i < 600 && (await h.query(progressQuery)).phase !== 'awaiting_approval'; i++)
        await new Promise((r) => setTimeout(r, 100));
      await h.executeUpdate(decideUpdate, {
        args: [{ decision: 'approve', approver: { id: 'alice', via: 'cli' } }],
      });
      return h.result();
    });
  };

  it('pilot then broad upgrade every host; a held package is skipped and reported; reboots are confirmed', async () => {
    const held = fleet.hosts[2]!;
    await fleet.exec(held, 'apt-mark hold patchops-demo-pinned');
    const marks = await Promise.all(fleet.hosts.map((h) => fleet.bootMark(h)));
    const state = await run('ssh-happy', rollout({ threshold: 0, rollback: false }));
    assert.equal(state.phase, 'completed', JSON.stringify(state));
    assert.deepEqual(
      state.rings.map((r) => [r.name, r.started]),
      [
        ['pilot', state.rings[0]!.total],
        ['broad', state.rings[1]!.total],
      ],
    );
    assert.equal(state.rings[0]!.total + state.rings[1]!.total, 3);
    // The held package is skipped and reported: that host's outcome names it, the rest installed.
    const outcomes = await s.db.store.pool.query<{
      device_id: string;
      status: string;
      reason: string | null;
    }>(
      `select device_id, status, outcome->>'reason' as reason from rollout_devices where rollout_id = 'ssh-happy' order by device_id`,
    );
    for (const o of outcomes.rows) {
      if (o.device_id === `ssh:acme:${held.name}`) {
        assert.equal(o.status, 'failed');
        assert.match(o.reason ?? '', /held/);
      } else assert.equal(o.status, 'succeeded', JSON.stringify(o));
    }
    for (const [i, h] of fleet.hosts.entries()) {
      assert.equal(await fleet.dpkgVersion(h, 'patchops-demo-lib'), '1.1-1', h.name);
      assert.equal(await fleet.dpkgVersion(h, 'patchops-demo-tool'), '2.1-1', h.name);
      assert.equal(await fleet.dpkgVersion(h, 'patchops-demo-kernel'), '1.1-1', h.name);
      // The kernel package asked for a reboot: the host really rebooted, once.
      assert.notEqual(await fleet.bootMark(h), marks[i], `${h.name} rebooted`);
    }
    assert.equal(await fleet.dpkgVersion(held, 'patchops-demo-pinned'), '3.0-1', 'held');
    const kernel = await s.db.store.pool.query<{ state: string; n: string }>(
      `select state, count(*) as n from device_patches where patch_id like 'deb:patchops-demo-kernel:%' group by state`,
    );
    assert.deepEqual(kernel.rows, [{ state: 'installed', n: '3' }], 'pending_reboot cleared');
  });

  it('a failing postinst on the pilot trips the gate and rolls back what the host got', async () => {
    // Back to the old versions (the first test upgraded them), then every host would fail;
    // the pilot ring's gate stops the rollout before the others start.
    for (const h of fleet.hosts) {
      const r = await fleet.exec(
        h,
        `apt-mark unhold patchops-demo-pinned >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --allow-downgrades patchops-demo-fail=1.0-1 patchops-demo-lib=1.0-1 patchops-demo-tool=2.0-1 && touch ${FAIL_MARKER}`,
      );
      assert.equal(r.code, 0, r.stderr);
    }
    const state = await run('ssh-gate', rollout({ threshold: 1, rollback: true }));
    const rows = await s.db.store.pool.query<{ device_id: string; ring_index: number }>(
      `select device_id, ring_index from rollout_devices where rollout_id = 'ssh-gate'`,
    );
    assert.equal(state.phase, 'halted', JSON.stringify(state.rings));
    assert.match(state.haltReason ?? '', /ring pilot succeeded on 0\.0% of devices/);
    assert.equal(state.rings[1]?.started, 0, 'broad never started');
    for (const h of fleet.hosts) {
      const pilot = rows.rows.some(
        (r) => r.device_id === `ssh:acme:${h.name}` && r.ring_index === 0,
      );
      const lib = await fleet.dpkgState(h, 'patchops-demo-lib');
      const tool = await fleet.dpkgState(h, 'patchops-demo-tool');
      const fail = await fleet.dpkgState(h, 'patchops-demo-fail');
      // Pilot hosts: what the deploy installed was downgraded again (read from dpkg on the
      // host); the package whose postinst failed is left as dpkg left it and reported
      // failed. Broad hosts were never touched.
      assert.deepEqual(lib, { version: '1.0-1', status: 'install ok installed' }, h.name);
      assert.deepEqual(tool, { version: '2.0-1', status: 'install ok installed' }, h.name);
      assert.deepEqual(
        fail,
        pilot
          ? { version: '1.1-1', status: 'install ok half-configured' }
          : { version: '1.0-1', status: 'install ok installed' },
        h.name,
      );
    }
    const states = await s.db.store.pool.query<{ state: string; n: string }>(
      `select state, count(*) as n from device_patches where rollout_id = 'ssh-gate' group by state order by state`,
    );
    const byState = Object.fromEntries(states.rows.map((r) => [r.state, Number(r.n)]));
    const pilots = rows.rows.filter((r) => r.ring_index === 0).length;
    assert.equal(byState.rolled_back, 2 * pilots, JSON.stringify(byState));
    assert.equal(byState.failed, pilots, JSON.stringify(byState));
  });
});
