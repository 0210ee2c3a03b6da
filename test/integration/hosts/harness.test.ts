/**
 * The real Debian test hosts the SSH adapter's tests run against: three hosts boot from the
 * cached root, each answers SSH with its own host key, carries the old demo packages, sees
 * the updates (the security one from Debian-Security), reboots alone when reboot(2) is
 * called inside it, comes back on the same disk, and stop() leaves nothing behind.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { until } from '../../helpers/until.js';
import { run } from '../../hosts/proc.js';
import {
  HostHarnessError,
  startHosts,
  type HostFleet,
  type TestHost,
} from '../../hosts/harness.js';

const REBOOT = `perl -e 'syscall(169, 0xfee1dead, 672274793, 0x01234567)'`; // x86-64 reboot(2)

describe('test hosts', { timeout: 240_000 }, () => {
  let fleet: HostFleet;
  let alpha: TestHost, bravo: TestHost, charlie: TestHost;

  before(async () => {
    const started = Date.now();
    fleet = await startHosts({
      count: 3,
      names: ['alpha', 'bravo', 'charlie'],
      failPostinstOn: ['charlie'],
    });
    [alpha, bravo, charlie] = fleet.hosts as [TestHost, TestHost, TestHost];
    process.stdout.write(`# 3 hosts started in ${Date.now() - started} ms\n`);
  });
  after(() => fleet?.stop());

  const ssh = (h: TestHost, knownHosts: string, cmd: string) =>
    run('ssh', [
      ...['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', 'IdentitiesOnly=yes'],
      ...['-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null'],
      ...['-i', fleet.clientKeyPath, '-p', String(h.port), 'root@127.0.0.1', cmd],
    ]);

  it('answers SSH on each host with its own host key, verified from known_hosts', async () => {
    for (const h of fleet.hosts) {
      const r = await ssh(h, fleet.knownHostsPath, 'hostname; id -u');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${h.name}\n0\n`);
      // The key the live sshd serves is the one the harness reports.
      const keyscan = `ssh-keyscan -t ed25519 -p ${h.port} 127.0.0.1 2>/dev/null | ssh-keygen -lf -`;
      const scan = await run('sh', ['-c', keyscan]);
      assert.ok(scan.stdout.includes(` ${h.hostKeyFingerprint} `), scan.stdout);
    }
    // alpha's port with bravo's key on record: a real client must refuse.
    const lines = readFileSync(fleet.knownHostsPath, 'utf8').split('\n');
    const bravoKey = lines.find((l) => l.startsWith(`[127.0.0.1]:${bravo.port} `))!.split(' ');
    const swapped = path.join(path.dirname(fleet.knownHostsPath), 'swapped_known_hosts');
    await writeFile(swapped, `[127.0.0.1]:${alpha.port} ${bravoKey[1]} ${bravoKey[2]}\n`);
    const refused = await ssh(alpha, swapped, 'true');
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.stderr,
      /REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/,
    );
  });

  it('starts every host with the old versions installed', async () => {
    for (const h of fleet.hosts) {
      assert.equal(await fleet.dpkgVersion(h, 'patchops-demo-lib'), '1.0-1');
      assert.equal(await fleet.dpkgVersion(h, 'patchops-demo-tool'), '2.0-1');
      assert.equal(await fleet.dpkgVersion(h, 'patchops-demo-kernel'), '1.0-1');
      const q = await fleet.exec(
        h,
        "dpkg-query -W -f '${Package} ${Version}\\n' 'patchops-demo-*'",
      );
      assert.equal(q.stdout.split('\n').filter(Boolean).length, 5, q.stdout);
    }
  });

  it('shows the updates in apt-get -s upgrade, the security one from Debian-Security', async () => {
    const r = await fleet.exec(alpha, 'apt-get -s upgrade');
    assert.equal(r.code, 0, r.stderr);
    const inst = r.stdout.split('\n').filter((l) => l.startsWith('Inst '));
    assert.deepEqual(inst.sort(), [
      'Inst patchops-demo-fail [1.0-1] (1.1-1 Debian:12.12/stable [all])',
      'Inst patchops-demo-kernel [1.0-1] (1.1-1 Debian:12.12/stable [all])',
      'Inst patchops-demo-lib [1.0-1] (1.1-1 Debian-Security:12/stable-security [all])',
      'Inst patchops-demo-pinned [3.0-1] (3.1-1 Debian:12.12/stable [all])',
      'Inst patchops-demo-tool [2.0-1] (2.1-1 Debian:12.12/stable [all])',
    ]);
    const held = await fleet.exec(
      bravo,
      'apt-mark hold patchops-demo-pinned && apt-get -s upgrade',
    );
    assert.doesNotMatch(held.stdout, /^Inst patchops-demo-pinned/m);
  });

  it('fails the bad postinst only on the marked host, and rolls back there', async () => {
    const install = 'apt-get -y install patchops-demo-fail=1.1-1';
    assert.equal((await fleet.exec(alpha, install)).code, 0);
    assert.equal(await fleet.dpkgVersion(alpha, 'patchops-demo-fail'), '1.1-1');
    const failed = await fleet.exec(charlie, install);
    assert.notEqual(failed.code, 0);
    // dpkg hands maintainer-script output to apt's stdout; apt's own error goes to stderr.
    assert.match(failed.stdout + failed.stderr, /patchops-demo-fail: configuration failed/);
    assert.deepEqual(await fleet.dpkgState(charlie, 'patchops-demo-fail'), {
      version: '1.1-1',
      status: 'install ok half-configured',
    });
    const back = await fleet.exec(
      charlie,
      'apt-get -y --allow-downgrades install patchops-demo-fail=1.0-1',
    );
    assert.equal(back.code, 0, back.stderr);
    assert.equal(await fleet.dpkgVersion(charlie, 'patchops-demo-fail'), '1.0-1');
  });

  it('reboots only the host that calls reboot(2), boots it again on the same disk', async () => {
    const kernel = await fleet.exec(bravo, 'apt-get -y install patchops-demo-kernel=1.1-1');
    assert.equal(kernel.code, 0, kernel.stderr);
    const flag = await fleet.exec(bravo, 'cat /var/run/reboot-required.pkgs');
    assert.equal(flag.stdout, 'patchops-demo-kernel\n');
    const before = await Promise.all(fleet.hosts.map((h) => fleet.bootMark(h)));
    const oldPid = bravo.pid;

    await fleet.exec(bravo, REBOOT); // its own namespace ends, this exec with it
    await until('bravo to reboot', () => fleet.reboots(bravo) === 1, 30_000);
    await fleet.whenUp(bravo);

    const afterMarks = await Promise.all(fleet.hosts.map((h) => fleet.bootMark(h)));
    assert.notEqual(afterMarks[1], before[1]);
    assert.notEqual(bravo.pid, oldPid);
    assert.deepEqual([afterMarks[0], afterMarks[2]], [before[0], before[2]]);
    assert.equal(fleet.reboots(alpha) + fleet.reboots(charlie), 0);
    // /run is a fresh tmpfs per boot; the disk (overlay) kept the new version.
    const gone = await fleet.exec(bravo, 'test -e /var/run/reboot-required');
    assert.equal(gone.code, 1);
    assert.equal(await fleet.dpkgVersion(bravo, 'patchops-demo-kernel'), '1.1-1');
    assert.equal((await ssh(bravo, fleet.knownHostsPath, 'true')).code, 0);
  });

  it('keeps a crashed host down until powered on, with its disk and host key', async () => {
    const before = await fleet.bootMark(charlie);
    await fleet.crash(charlie);
    const down = await ssh(charlie, fleet.knownHostsPath, 'true');
    assert.equal(down.code, 255);
    assert.match(down.stderr, /Connection refused/);
    await fleet.powerOn(charlie);
    assert.notEqual(await fleet.bootMark(charlie), before);
    assert.equal(fleet.reboots(charlie), 0); // a crash is not a reboot
    assert.equal(await fleet.dpkgVersion(charlie, 'patchops-demo-fail'), '1.0-1');
    assert.equal((await ssh(charlie, fleet.knownHostsPath, 'true')).code, 0);
  });

  it('publishes a newer version that hosts see after apt-get update', async () => {
    await fleet.publish([{ name: 'patchops-demo-tool', version: '2.2-1', suite: 'bookworm' }]);
    const r = await fleet.exec(
      alpha,
      'apt-get -q update >/dev/null && apt-cache policy patchops-demo-tool',
    );
    assert.match(r.stdout, /Candidate: 2\.2-1/);
    assert.match(r.stdout, /2\.1-1 500/); // the older update is still served
  });

  it('stop() leaves no process and no mount behind', async () => {
    const scratch = path.dirname(fleet.knownHostsPath);
    const pids = fleet.hosts.map((h) => h.pid);
    await fleet.stop();
    for (const pid of pids) assert.equal(readdirSync('/proc').includes(String(pid)), false);
    const users = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(scratch);
        } catch {
          return false; // exited while we looked
        }
      });
    assert.deepEqual(users, []);
    assert.doesNotMatch(readFileSync('/proc/self/mountinfo', 'utf8'), new RegExp(scratch));
    assert.equal(readdirSync(path.dirname(scratch)).includes(path.basename(scratch)), false);
  });
});

describe('startHosts options', () => {
  it('refuses bad options by name before starting anything', async () => {
    const cases: Array<[Parameters<typeof startHosts>[0], RegExp]> = [
      [{ count: 0 }, /count must be an integer 1\.\.32/],
      [{ count: 2, names: ['a'] }, /names has 1 entries, count is 2/],
      [{ count: 1, failPostinstOn: ['host-9'] }, /failPostinstOn names "host-9"/],
      [{ count: 1, initialPackages: ['x; reboot'] }, /initialPackages: "x; reboot"/],
    ];
    for (const [opts, message] of cases) {
      await assert.rejects(startHosts(opts), (err: unknown) => {
        assert.ok(err instanceof HostHarnessError);
        assert.equal(err.code, 'bad_options');
        assert.match(err.message, message);
        return true;
      });
    }
  });
});
