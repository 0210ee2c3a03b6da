import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../../cli/process/tethered.js';
import { RmmError } from '../../../adapters/rmm/types.js';
import { startHosts, type HostFleet, type TestHost } from '../../hosts/harness.js';
import { adapter, deviceId, writeInventory, type ExtraHost } from './fleet-adapter.js';

/**
 * Host-key verification against real sshd on real Debian 12 hosts (test/hosts): an unknown
 * or changed key is refused inside the SSH handshake, before anything runs; trust on first
 * use only when configured. Outcomes are checked inside the hosts, not through the adapter.
 */

const TOOL = 'deb:patchops-demo-tool:2.1-1';
const code = (c: string) => (err: unknown) => err instanceof RmmError && err.code === c;

describe('SSH adapter host keys on real Debian hosts', { timeout: 90_000 }, () => {
  let fleet: HostFleet;
  let web: TestHost;
  let stranger: TestHost; // its key is left out of known_hosts
  let ghost: ExtraHost; // in the inventory, nothing listens
  let inventory: string;
  let knownHosts: string;

  before(async () => {
    fleet = await startHosts({
      count: 2,
      names: ['web', 'stranger'],
      initialPackages: ['patchops-demo-tool=2.0-1'],
    });
    [web, stranger] = fleet.hosts as [TestHost, TestHost];
    ghost = { name: 'ghost', port: await freePort() };
    inventory = writeInventory(fleet, [ghost]);
    knownHosts = `${fleet.knownHostsPath}.partial`;
    writeFileSync(
      knownHosts,
      readFileSync(fleet.knownHostsPath, 'utf8')
        .split('\n')
        .filter((l) => !l.startsWith(`[127.0.0.1]:${stranger.port} `))
        .join('\n'),
    );
  });
  after(async () => {
    await fleet?.stop();
  });
  it('refuses a host whose key is unknown, naming its fingerprint, and runs nothing there', async () => {
    const rmm = adapter(inventory, knownHosts);
    try {
      await assert.rejects(rmm.missingPatches(deviceId(stranger)), (err: unknown) => {
        assert.ok(err instanceof RmmError && err.code === 'AUTH_FAILED');
        assert.match(err.message, /unknown/);
        assert.ok(err.message.includes(stranger.hostKeyFingerprint), err.message);
        assert.ok(!/PRIVATE KEY/.test(err.message));
        return true;
      });
      await assert.rejects(
        rmm.deploy(deviceId(stranger), [TOOL], 'stranger-1'),
        code('AUTH_FAILED'),
      );
      const state = await fleet.exec(
        stranger,
        'ls /var/lib/patchops 2>&1; dpkg-query -W patchops-demo-tool',
      );
      assert.match(state.stdout, /No such file or directory/);
      assert.equal(await fleet.dpkgVersion(stranger, 'patchops-demo-tool'), '2.0-1');
      const checks = await rmm.checkHosts();
      const byName = new Map(checks.map((c) => [c.host, c]));
      assert.equal(byName.get('stranger')?.hostKey, 'unknown');
      assert.equal(byName.get('stranger')?.fingerprint, stranger.hostKeyFingerprint);
      assert.deepEqual([byName.get('web')?.hostKey, byName.get('web')?.root], ['verified', true]);
      assert.equal(byName.get('ghost')?.reachable, false);
    } finally {
      rmm.close();
    }
  });

  it('refuses a changed host key, and trusts on first use only when configured', async () => {
    // known_hosts claims web's key for stranger's address: stranger's real key is a change.
    const webKey = readFileSync(fleet.knownHostsPath, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`[127.0.0.1]:${web.port} `))!
      .split(' ')
      .slice(1)
      .join(' ');
    const forged = `${knownHosts}.forged`;
    writeFileSync(
      forged,
      `${readFileSync(knownHosts, 'utf8')}\n[127.0.0.1]:${stranger.port} ${webKey}\n`,
    );
    const changed = adapter(inventory, forged, { PATCHOPS_SSH_TRUST_ON_FIRST_USE: 'true' });
    try {
      await assert.rejects(changed.missingPatches(deviceId(stranger)), (err: unknown) => {
        assert.ok(err instanceof RmmError && err.code === 'AUTH_FAILED');
        assert.match(err.message, /CHANGED/);
        assert.ok(err.message.includes(stranger.hostKeyFingerprint));
        assert.ok(err.message.includes(web.hostKeyFingerprint));
        return true;
      });
    } finally {
      changed.close();
    }
    const tofuFile = `${knownHosts}.tofu`;
    writeFileSync(tofuFile, readFileSync(knownHosts, 'utf8'));
    const tofu = adapter(inventory, tofuFile, { PATCHOPS_SSH_TRUST_ON_FIRST_USE: 'true' });
    try {
      assert.ok((await tofu.missingPatches(deviceId(stranger))).length > 0);
      assert.match(
        readFileSync(tofuFile, 'utf8'),
        new RegExp(`^\\[127\\.0\\.0\\.1\\]:${stranger.port} ssh-ed25519 `, 'm'),
      );
    } finally {
      tofu.close();
    }
  });
});
