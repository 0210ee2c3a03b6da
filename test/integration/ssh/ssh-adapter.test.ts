import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../../cli/process/tethered.js';
import { RmmError } from '../../../adapters/rmm/types.js';
import { startHosts, type HostFleet, type TestHost } from '../../hosts/harness.js';
import {
  adapter,
  aptSimulated,
  deviceId,
  holdDpkgLock,
  waitJob,
  writeInventory,
  type ExtraHost,
} from './fleet-adapter.js';

/**
 * The SSH adapter against real Debian 12 hosts (test/hosts): real sshd, apt and dpkg
 * (host keys: ssh-host-keys.test.ts).
 * Every outcome is checked on the host itself (dpkg status on disk, exec inside the host),
 * never only through the adapter. One fleet for the file; tests run in order and build on
 * each other's host state where noted.
 */

const LIB = 'deb:patchops-demo-lib:1.1-1';
const TOOL = 'deb:patchops-demo-tool:2.1-1';
const FAIL = 'deb:patchops-demo-fail:1.1-1';
const KERNEL = 'deb:patchops-demo-kernel:1.1-1';
const PINNED = 'deb:patchops-demo-pinned:3.1-1';
const code = (c: string) => (err: unknown) => err instanceof RmmError && err.code === c;

describe('SSH adapter on real Debian hosts', { timeout: 170_000 }, () => {
  let fleet: HostFleet;
  let web: TestHost; // normal host
  let bad: TestHost; // postinst of patchops-demo-fail fails here
  let ghost: ExtraHost; // in the inventory, nothing listens
  let inventory: string;
  let knownHosts: string;

  before(async () => {
    fleet = await startHosts({ count: 2, names: ['web', 'bad'], failPostinstOn: ['bad'] });
    [web, bad] = fleet.hosts as [TestHost, TestHost];
    ghost = { name: 'ghost', port: await freePort() };
    inventory = writeInventory(fleet, [ghost]);
    knownHosts = fleet.knownHostsPath;
  });
  after(async () => {
    await fleet?.stop();
  });

  it('lists the inventory with online state and passes testConnection', async () => {
    const rmm = adapter(inventory, knownHosts);
    try {
      assert.deepEqual(await rmm.listClients(), [{ id: 'acme', name: 'ACME' }]);
      const page1 = await rmm.listDevices('acme', { limit: 2 });
      assert.deepEqual(
        page1.devices.map((d) => d.hostname),
        ['web', 'bad'],
      );
      assert.ok(page1.nextCursor);
      const page2 = await rmm.listDevices('acme', { limit: 2, cursor: page1.nextCursor });
      assert.deepEqual(
        page2.devices.map((d) => [d.hostname, d.online]),
        [['ghost', false]],
      );
      assert.equal(page2.nextCursor, undefined);
      assert.ok(page1.devices.every((d) => d.online));
      assert.equal(await rmm.isOnline(deviceId(ghost)), false);
      assert.equal(await rmm.isOnline(deviceId(web)), true);
      const check = await rmm.testConnection();
      assert.equal(check.ok, true, check.detail);
      assert.match(check.detail, new RegExp(web.hostKeyFingerprint.replace(/[+/]/g, '\\$&')));
    } finally {
      rmm.close();
    }
  });

  it('scan finds exactly what apt would upgrade, security from the security archive, held ones marked', async () => {
    await fleet.exec(web, 'apt-mark hold patchops-demo-pinned');
    const rmm = adapter(inventory, knownHosts);
    try {
      const { scanId } = await rmm.triggerScan([deviceId(web), deviceId(bad)]);
      while (!(await rmm.readScan(scanId)).done) await new Promise((r) => setTimeout(r, 200));
      const missing = await rmm.missingPatches(deviceId(web));
      // dist-upgrade leaves held packages out of its Inst lines; the adapter lists them as held.
      assert.deepEqual(
        missing.map((p) => p.id).filter((id) => id !== PINNED),
        await aptSimulated(fleet, web),
      );
      assert.deepEqual(missing.map((p) => p.id).sort(), [FAIL, KERNEL, LIB, PINNED, TOOL]);
      const byId = new Map(missing.map((p) => [p.id, p]));
      assert.equal(byId.get(LIB)?.category, 'security');
      assert.equal(byId.get(LIB)?.vendorSeverity, 'important');
      assert.equal(byId.get(TOOL)?.category, 'update');
      assert.equal(byId.get(KERNEL)?.rebootRequired, true);
      assert.equal(byId.get(LIB)?.uninstallable, true); // 1.0-1 is still in the repository
      assert.match(byId.get(PINNED)?.title ?? '', /held/);
      assert.ok(
        (await rmm.installedPatches(deviceId(web))).includes('deb:patchops-demo-lib:1.0-1'),
      );
    } finally {
      rmm.close();
    }
  });

  it('deploy waits for a held apt lock, upgrades, skips the held package, and runs once per key', async () => {
    await fleet.exec(web, `(${holdDpkgLock(5)} > /tmp/lock.out 2>&1 &)`);
    for (
      let i = 0;
      i < 50 && !(await fleet.exec(web, 'cat /tmp/lock.out')).stdout.includes('locked');
      i++
    ) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match((await fleet.exec(web, 'cat /tmp/lock.out')).stdout, /locked/); // apt's lock is taken
    const worker1 = adapter(inventory, knownHosts);
    const worker2 = adapter(inventory, knownHosts);
    try {
      const all = [LIB, TOOL, FAIL, KERNEL, PINNED];
      const { jobId } = await worker1.deploy(deviceId(web), all, 'rollout-1/web/deploy');
      // Another worker retrying the same activity gets the same job and starts nothing.
      assert.deepEqual(
        await worker2.deploy(deviceId(web), [...all].reverse(), 'rollout-1/web/deploy'),
        { jobId },
      );
      await assert.rejects(
        worker2.deploy(deviceId(web), [LIB], 'rollout-1/web/deploy'),
        code('IDEMPOTENCY_CONFLICT'),
      );
      const job = await waitJob(worker2, jobId);
      const outcome = Object.fromEntries(job.results.map((r) => [r.patchId, r.outcome]));
      assert.deepEqual(outcome, {
        [LIB]: 'installed',
        [TOOL]: 'installed',
        [FAIL]: 'installed',
        [KERNEL]: 'pending_reboot',
        [PINNED]: 'failed',
      });
      assert.equal(job.state, 'failed'); // the held package counts as not done
      assert.match(job.results.find((r) => r.patchId === PINNED)?.error ?? '', /held/);
      assert.equal(await fleet.dpkgVersion(web, 'patchops-demo-lib'), '1.1-1');
      assert.equal(await fleet.dpkgVersion(web, 'patchops-demo-tool'), '2.1-1');
      assert.equal(await fleet.dpkgVersion(web, 'patchops-demo-kernel'), '1.1-1');
      assert.equal(await fleet.dpkgVersion(web, 'patchops-demo-pinned'), '3.0-1');
      const log = await fleet.exec(
        web,
        'cat /var/lib/patchops/jobs/*/output.log; grep -c " upgrade patchops-demo-lib:all 1.0-1 1.1-1" /var/log/dpkg.log; ls /var/lib/patchops/jobs | wc -l',
      );
      assert.match(log.stdout, /Waiting for cache lock/); // it waited for the lock instead of failing
      assert.match(log.stdout, /\n1\n1\n$/); // one upgrade in dpkg's log, one job record
      // After the job: the kernel waits for a reboot, so it is neither missing nor installed.
      const installed = await worker1.installedPatches(deviceId(web));
      const missing = (await worker1.missingPatches(deviceId(web))).map((p) => p.id);
      assert.ok(installed.includes(LIB) && !installed.includes(KERNEL));
      assert.ok(!missing.includes(KERNEL) && !missing.includes(LIB));
    } finally {
      worker1.close();
      worker2.close();
    }
  });

  it('a failing postinst fails the patch with output lines; a worker gone mid-job stops nothing', async () => {
    const gone = adapter(inventory, knownHosts);
    const { jobId } = await gone.deploy(deviceId(bad), [FAIL, TOOL], 'rollout-1/bad/deploy');
    gone.close(); // the SSH session ends (SIGHUP to its processes) while apt runs
    const rmm = adapter(inventory, knownHosts);
    try {
      const job = await waitJob(rmm, jobId);
      assert.equal(job.state, 'failed');
      const fail = job.results.find((r) => r.patchId === FAIL);
      assert.equal(fail?.outcome, 'failed');
      assert.match(fail?.error ?? '', /post-installation script|configuration failed/);
      assert.equal(job.results.find((r) => r.patchId === TOOL)?.outcome, 'installed');
      assert.match(
        (await fleet.dpkgState(bad, 'patchops-demo-fail'))?.status ?? '',
        /half-configured/,
      );
    } finally {
      rmm.close();
    }
  });

  it('reboot restarts the host once per key and completes the pending kernel', async () => {
    const rmm = adapter(inventory, knownHosts);
    try {
      const bootBefore = await fleet.bootMark(web);
      const { jobId } = await rmm.reboot(deviceId(web), 'rollout-1/web/reboot');
      await assert.rejects(
        rmm.deploy(deviceId(web), [TOOL], 'rollout-1/web/reboot'),
        code('IDEMPOTENCY_CONFLICT'),
      );
      const job = await waitJob(rmm, jobId, 60_000);
      assert.deepEqual(job, {
        state: 'succeeded',
        results: [{ patchId: KERNEL, outcome: 'installed' }],
      });
      await fleet.whenUp(web);
      assert.notEqual(await fleet.bootMark(web), bootBefore);
      assert.equal(fleet.reboots(web), 1);
      // A replay returns the finished job and does not reboot again.
      assert.deepEqual(await rmm.reboot(deviceId(web), 'rollout-1/web/reboot'), { jobId });
      assert.deepEqual(await rmm.readJob(jobId), job);
      assert.equal(fleet.reboots(web), 1);
      assert.ok((await rmm.installedPatches(deviceId(web))).includes(KERNEL));
      // Keys of other jobs, and a prompt on a reboot's key, conflict.
      await assert.rejects(
        rmm.reboot(deviceId(web), 'rollout-1/web/deploy'),
        code('IDEMPOTENCY_CONFLICT'),
      );
      await assert.rejects(
        rmm.promptReboot(deviceId(web), 'rollout-1/web/reboot', { allowDefer: false }),
        code('IDEMPOTENCY_CONFLICT'),
      );
    } finally {
      rmm.close();
    }
  });

  it('promptReboot on a server is a forced reboot even when deferring is allowed', async () => {
    const rmm = adapter(inventory, knownHosts);
    try {
      const before = fleet.reboots(bad);
      const answer = await rmm.promptReboot(deviceId(bad), 'rollout-1/bad/prompt', {
        allowDefer: true,
      });
      assert.equal(answer.outcome, 'rebooting');
      assert.ok(answer.outcome === 'rebooting');
      assert.deepEqual(
        await rmm.promptReboot(deviceId(bad), 'rollout-1/bad/prompt', { allowDefer: true }),
        answer,
      );
      await assert.rejects(
        rmm.promptReboot(deviceId(bad), 'rollout-1/bad/prompt', { allowDefer: false }),
        code('IDEMPOTENCY_CONFLICT'),
      );
      assert.deepEqual(await waitJob(rmm, answer.jobId), { state: 'succeeded', results: [] });
      await fleet.whenUp(bad);
      assert.equal(fleet.reboots(bad), before + 1);
    } finally {
      rmm.close();
    }
  });

  it('uninstall downgrades to the version before, and refuses what it cannot roll back', async () => {
    const rmm = adapter(inventory, knownHosts);
    try {
      await assert.rejects(
        rmm.uninstall(deviceId(web), ['deb:patchops-demo-tool:9.9-1'], 'rb-bad'),
        code('NOT_UNINSTALLABLE'),
      );
      const none = await fleet.exec(web, `ls /var/lib/patchops/jobs | wc -l`);
      assert.equal(none.stdout.trim(), '2'); // deploy + reboot only: the refusal left nothing
      const { jobId } = await rmm.uninstall(deviceId(web), [LIB], 'rollout-1/web/rollback');
      const job = await waitJob(rmm, jobId);
      assert.deepEqual(job, {
        state: 'succeeded',
        results: [{ patchId: LIB, outcome: 'uninstalled' }],
      });
      assert.equal(await fleet.dpkgVersion(web, 'patchops-demo-lib'), '1.0-1');
      assert.ok((await rmm.missingPatches(deviceId(web))).some((p) => p.id === LIB));
    } finally {
      rmm.close();
    }
  });

  it('an unreachable host is DEVICE_OFFLINE and unknown ids are refused', async () => {
    const rmm = adapter(inventory, knownHosts);
    try {
      await assert.rejects(rmm.deploy(deviceId(ghost), [TOOL], 'ghost-1'), code('DEVICE_OFFLINE'));
      await assert.rejects(rmm.missingPatches('ssh:acme:nobody'), code('DEVICE_NOT_FOUND'));
      await assert.rejects(rmm.listSites('nobody'), code('CLIENT_NOT_FOUND'));
      await assert.rejects(
        rmm.readJob(`${deviceId(web)}#deploy:${'0'.repeat(64)}`),
        code('JOB_NOT_FOUND'),
      );
      await assert.rejects(rmm.readScan('ssh-scan-nope'), code('SCAN_NOT_FOUND'));
      await assert.rejects(rmm.missingPatches(deviceId(ghost)), code('DEVICE_OFFLINE'));
    } finally {
      rmm.close();
    }
  });

  it('a host that drops off answers with its last scan, and its jobs are UNAVAILABLE, not lost', async () => {
    const moved = `${inventory}.moved.yaml`;
    writeFileSync(moved, readFileSync(inventory, 'utf8'));
    const rmm = adapter(moved, knownHosts);
    try {
      const missing = await rmm.missingPatches(deviceId(web));
      const installed = await rmm.installedPatches(deviceId(web));
      const { jobId } = await rmm.deploy(deviceId(web), [TOOL], 'rollout-1/web/deploy-tool');
      await waitJob(rmm, jobId);
      rmm.close();
      // web "moves" to a port where nothing answers: unreachable from now on.
      writeFileSync(
        moved,
        readFileSync(moved, 'utf8').replace(`port: ${web.port}\n`, `port: ${ghost.port}\n`),
      );
      assert.equal(await rmm.isOnline(deviceId(web)), false);
      assert.deepEqual(await rmm.missingPatches(deviceId(web)), missing);
      assert.deepEqual(await rmm.installedPatches(deviceId(web)), installed);
      await assert.rejects(
        rmm.readJob(jobId),
        (err: unknown) => err instanceof RmmError && err.code === 'UNAVAILABLE' && err.retryable,
      );
    } finally {
      rmm.close();
    }
  });
});
