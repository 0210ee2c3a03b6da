import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  parseAptSimulation,
  parseDpkgQuery,
  parseHeld,
  parseMadison,
  parsePolicy,
  previousVersion,
} from '../../../adapters/rmm/ssh/apt-parse.js';
import { parsePatchId, patchIdOf } from '../../../adapters/rmm/ssh/patch-id.js';
import { aptPatches } from '../../../adapters/rmm/ssh/to-patches.js';
import { patchSchema } from '../../../domain/model.js';

/**
 * apt/dpkg parsers on output captured on real Debian 12 machines: ../shared/reference
 * (a real server), and the strings below, captured from a test host (test/hosts) with
 * LC_ALL=C after `apt-mark hold patchops-demo-pinned`.
 */
const here = path.dirname(fileURLToPath(import.meta.url));
const reference = (name: string) =>
  readFileSync(path.join(here, '../../../../shared/reference', name), 'utf8');

const HOST_SIM = `Reading package lists...
Building dependency tree...
Reading state information...
Calculating upgrade...
The following packages have been kept back:
  patchops-demo-pinned
The following packages will be upgraded:
  patchops-demo-fail patchops-demo-kernel patchops-demo-lib patchops-demo-tool
4 upgraded, 0 newly installed, 0 to remove and 1 not upgraded.
Inst patchops-demo-fail [1.0-1] (1.1-1 Debian:12.12/stable [all])
Inst patchops-demo-kernel [1.0-1] (1.1-1 Debian:12.12/stable [all])
Inst patchops-demo-lib [1.0-1] (1.1-1 Debian-Security:12/stable-security [all])
Inst patchops-demo-tool [2.0-1] (2.1-1 Debian:12.12/stable [all])
Conf patchops-demo-fail (1.1-1 Debian:12.12/stable [all])
Conf patchops-demo-kernel (1.1-1 Debian:12.12/stable [all])
Conf patchops-demo-lib (1.1-1 Debian-Security:12/stable-security [all])
Conf patchops-demo-tool (2.1-1 Debian:12.12/stable [all])
`;

const HOST_POLICY = `patchops-demo-pinned:
  Installed: 3.0-1
  Candidate: 3.1-1
  Version table:
     3.1-1 500
        500 http://127.0.0.1:40663 bookworm/main amd64 Packages
 *** 3.0-1 500
        500 http://127.0.0.1:40663 bookworm/main amd64 Packages
        100 /var/lib/dpkg/status
patchops-demo-lib:
  Installed: 1.0-1
  Candidate: 1.1-1
  Version table:
     1.1-1 500
        500 http://127.0.0.1:40663 bookworm-security/main amd64 Packages
 *** 1.0-1 500
        500 http://127.0.0.1:40663 bookworm/main amd64 Packages
        100 /var/lib/dpkg/status
`;

const HOST_MADISON = `patchops-demo-lib |      1.1-1 | http://127.0.0.1:40663 bookworm-security/main amd64 Packages
patchops-demo-lib |      1.0-1 | http://127.0.0.1:40663 bookworm/main amd64 Packages
patchops-demo-pinned |      3.1-1 | http://127.0.0.1:40663 bookworm/main amd64 Packages
`;

const HOST_DPKG_LOG = `2026-12-06 19:14:36 status installed patchops-demo-lib:all 1.0-1
2026-12-06 19:14:41 upgrade patchops-demo-lib:all 1.0-1 1.1-1
2026-12-06 19:14:41 status installed patchops-demo-lib:all 1.1-1
2026-12-06 19:14:44 upgrade patchops-demo-lib:all 1.1-1 1.0-1
2026-12-06 19:14:45 status installed patchops-demo-lib:all 1.0-1
`;

describe('apt simulation parser', () => {
  it('reads every upgrade of a real Debian 12 server and agrees with apt list --upgradable', () => {
    const sim = parseAptSimulation(reference('debian12-apt-get-s-upgrade.txt'));
    assert.equal(sim.upgrades.length, 136); // "136 upgraded" in the same output
    const list = reference('debian12-apt-list-upgradable.txt')
      .split('\n')
      .flatMap((l) => {
        const m = /^(\S+?)\/(\S+) (\S+) \S+ \[upgradable from: (\S+)\]$/.exec(l);
        return m ? [{ name: m[1], suites: m[2], candidate: m[3], installed: m[4] }] : [];
      });
    assert.equal(list.length, 136);
    const byName = new Map(sim.upgrades.map((u) => [u.name, u]));
    for (const l of list) {
      const u = byName.get(l.name ?? '');
      assert.ok(u, `${l.name} missing from the simulation`);
      assert.equal(u.candidate, l.candidate, l.name);
      assert.equal(u.installed, l.installed, l.name);
      assert.equal(u.security, /-security/.test(l.suites ?? ''), `${l.name} security flag`);
    }
  });

  it('keeps every origin of a version offered by two archives', () => {
    const u = parseAptSimulation(reference('debian12-apt-get-s-upgrade.txt')).upgrades.find(
      (x) => x.name === 'libgcrypt20',
    );
    assert.deepEqual(u, {
      name: 'libgcrypt20',
      installed: '1.10.1-3',
      candidate: '1.10.1-3+deb12u1',
      origins: [
        { origin: 'Debian:12.15', archive: 'oldstable' },
        { origin: 'Debian-Security:12', archive: 'oldstable-security' },
      ],
      security: true,
    });
  });

  it('reads the kept-back list and apt-cache policy for held packages', () => {
    const sim = parseAptSimulation(HOST_SIM);
    assert.deepEqual(sim.keptBack, ['patchops-demo-pinned']);
    assert.deepEqual(
      sim.upgrades.map((u) => `${u.name} ${u.installed}→${u.candidate} ${u.security}`),
      [
        'patchops-demo-fail 1.0-1→1.1-1 false',
        'patchops-demo-kernel 1.0-1→1.1-1 false',
        'patchops-demo-lib 1.0-1→1.1-1 true',
        'patchops-demo-tool 2.0-1→2.1-1 false',
      ],
    );
    const policy = parsePolicy(HOST_POLICY);
    assert.deepEqual(
      policy.map((u) => `${u.name} ${u.installed}→${u.candidate} ${u.security}`),
      ['patchops-demo-pinned 3.0-1→3.1-1 false', 'patchops-demo-lib 1.0-1→1.1-1 true'],
    );
    assert.deepEqual(parseHeld('patchops-demo-pinned\n'), ['patchops-demo-pinned']);
  });

  it('maps upgrades to patches: security severity, held title, uninstallable from madison', () => {
    const sim = parseAptSimulation(HOST_SIM);
    sim.upgrades.push(...parsePolicy(HOST_POLICY).filter((u) => u.name === 'patchops-demo-pinned'));
    const patches = aptPatches(sim, new Set(['patchops-demo-pinned']), parseMadison(HOST_MADISON));
    for (const p of patches) patchSchema.parse(p);
    const byId = new Map(patches.map((p) => [p.id, p]));
    const lib = byId.get('deb:patchops-demo-lib:1.1-1');
    assert.deepEqual(
      [lib?.category, lib?.vendorSeverity, lib?.uninstallable, lib?.vendorRef],
      ['security', 'important', true, 'patchops-demo-lib=1.1-1'],
    );
    const tool = byId.get('deb:patchops-demo-tool:2.1-1');
    assert.deepEqual(
      [tool?.category, tool?.vendorSeverity, tool?.uninstallable],
      ['update', 'none', false],
    ); // 2.0-1 not in madison
    assert.match(byId.get('deb:patchops-demo-pinned:3.1-1')?.title ?? '', /held/);
    assert.equal(byId.get('deb:patchops-demo-kernel:1.1-1')?.rebootRequired, true);
    assert.equal(byId.get('deb:patchops-demo-lib:1.1-1')?.rebootRequired, false);
  });

  it('reads madison, dpkg-query and the version before an upgrade from dpkg.log', () => {
    assert.deepEqual(
      [...(parseMadison(HOST_MADISON).get('patchops-demo-lib') ?? [])],
      ['1.1-1', '1.0-1'],
    );
    const dpkg = parseDpkgQuery(reference('debian12-dpkg-query.tsv'));
    assert.deepEqual(
      dpkg.find((p) => p.name === 'libssl3:amd64'),
      { name: 'libssl3:amd64', version: '3.0.19-1~deb12u2', status: 'ii ' },
    );
    assert.equal(dpkg.length, 5);
    assert.equal(previousVersion(HOST_DPKG_LOG, 'patchops-demo-lib', '1.1-1'), '1.0-1');
    assert.equal(previousVersion(HOST_DPKG_LOG, 'patchops-demo-lib', '1.0-1'), '1.1-1'); // the downgrade, latest wins
    assert.equal(previousVersion(HOST_DPKG_LOG, 'patchops-demo-lib', '9.9-1'), undefined);
  });
});

describe('patch ids', () => {
  it('round-trip epochs, arch qualifiers and rpm names', () => {
    for (const ref of [
      { family: 'deb', name: 'openssh-client', version: '1:9.2p1-2+deb12u6' },
      { family: 'deb', name: 'libfoo:i386', version: '2.0-1' },
      { family: 'deb', name: 'openssl', version: '3.0.15-1~deb12u1' },
      { family: 'rpm', name: 'bind-export-libs.x86_64', version: '32:9.11.36-16.el8_10.4' },
    ] as const) {
      const id = patchIdOf(ref);
      assert.deepEqual(parsePatchId(id), ref, id);
    }
    assert.equal(
      patchIdOf({ family: 'deb', name: 'openssl', version: '3.0.15-1~deb12u1' }),
      'deb:openssl:3.0.15-1~deb12u1',
    );
    assert.throws(() => parsePatchId('win:KB5044284'), { code: 'PATCH_NOT_FOUND' });
    assert.throws(() => parsePatchId('deb:openssl'), { code: 'PATCH_NOT_FOUND' });
  });
});
