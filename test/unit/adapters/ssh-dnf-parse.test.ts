import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  parseCheckUpdate,
  parseNeedsRestarting,
  parseUpdateinfoList,
  sameRpmVersion,
  splitNevra,
} from '../../../adapters/rmm/ssh/dnf-parse.js';
import { dnfPatches } from '../../../adapters/rmm/ssh/to-patches.js';
import { patchSchema } from '../../../domain/model.js';

/** dnf parsers on output recorded on real machines; test/fixtures/dnf/README.md says where from. */
const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (name: string) => readFileSync(path.join(here, '../../fixtures/dnf', name), 'utf8');

describe('dnf check-update parser', () => {
  it('reads every update of a Rocky 8 host and stops at "Obsoleting Packages"', () => {
    const updates = parseCheckUpdate(fixture('rocky8-check-update.stdout'));
    assert.equal(updates.length, 184);
    assert.deepEqual(updates[0], {
      name: 'NetworkManager.x86_64',
      version: '1:1.40.16-19.el8_10',
      repo: 'baseos',
    });
    assert.deepEqual(
      updates.find((u) => u.name === 'bind-export-libs.x86_64'),
      { name: 'bind-export-libs.x86_64', version: '32:9.11.36-16.el8_10.4', repo: 'baseos' },
    );
    // Nothing from the obsoletes section (whose installed packages say "@baseos") or the Security notes.
    assert.ok(updates.every((u) => !u.repo.startsWith('@')));
    assert.equal(new Set(updates.map((u) => u.name)).size, updates.length);
  });

  it('reads Oracle Linux 8 output whose repo ids are wider than their column', () => {
    const updates = parseCheckUpdate(fixture('oracle-linux-8-check-update.stdout'));
    assert.equal(updates.length, 73);
    assert.deepEqual(
      updates.find((u) => u.name === 'google-guest-agent.x86_64'),
      {
        name: 'google-guest-agent.x86_64',
        version: '1:20250327.01-g1.el8',
        repo: 'google-compute-engine',
      },
    );
  });
});

describe('dnf updateinfo parser', () => {
  it('reads advisories with their severities and splits NEVRAs with epochs', () => {
    const adv = parseUpdateinfoList(fixture('fedora34-updateinfo-list-security.stdout'));
    assert.equal(adv.length, 16);
    assert.deepEqual(adv[1], {
      id: 'FEDORA-2021-08cdb4dc34',
      type: 'security',
      severity: 'important',
      nevra: 'dhcp-client-12:4.4.2-11.b1.fc34.x86_64',
    });
    assert.deepEqual([...new Set(adv.map((a) => a.severity))].sort(), [
      'critical',
      'important',
      'low',
      'moderate',
    ]);
    assert.deepEqual(splitNevra('dhcp-client-12:4.4.2-11.b1.fc34.x86_64'), {
      name: 'dhcp-client.x86_64',
      version: '12:4.4.2-11.b1.fc34',
    });
    assert.deepEqual(splitNevra('linux-firmware-whence-20210716-121.fc34.noarch'), {
      name: 'linux-firmware-whence.noarch',
      version: '20210716-121.fc34',
    });
    assert.ok(sameRpmVersion('0:1.2-3', '1.2-3'));
  });

  it('maps updates to patches with the highest advisory severity', () => {
    const adv = parseUpdateinfoList(fixture('fedora34-updateinfo-list-security.stdout'));
    const patches = dnfPatches(
      [
        { name: 'kernel-core.x86_64', version: '5.13.4-200.fc34', repo: 'updates' },
        { name: 'dhcp-client.x86_64', version: '12:4.4.2-11.b1.fc34', repo: 'updates' },
        { name: 'vim-minimal.x86_64', version: '2:8.2.3182-1.fc34', repo: 'updates' },
      ],
      adv,
    );
    for (const p of patches) patchSchema.parse(p);
    assert.deepEqual(
      patches.map((p) => [p.id, p.category, p.vendorSeverity, p.rebootRequired]),
      [
        ['rpm:kernel-core.x86_64:5.13.4-200.fc34', 'security', 'critical', true],
        ['rpm:dhcp-client.x86_64:12:4.4.2-11.b1.fc34', 'security', 'important', false],
        ['rpm:vim-minimal.x86_64:2:8.2.3182-1.fc34', 'update', 'none', false],
      ],
    );
    assert.equal(patches[1]?.vendorRef, 'dhcp-client-12:4.4.2-11.b1.fc34.x86_64');
  });
});

describe('needs-restarting -r parser', () => {
  it('reads the core packages behind a required reboot from the text, not the exit code', () => {
    assert.deepEqual(parseNeedsRestarting(fixture('needs-restarting-r-required.stdout')), {
      rebootRequired: true,
      packages: ['glibc', 'kernel', 'kernel-core'],
    });
    assert.deepEqual(
      parseNeedsRestarting(
        'No core libraries or services have been updated since boot-up.\nReboot should not be necessary.\n',
      ),
      {
        rebootRequired: false,
        packages: [],
      },
    );
    // dnf exits 1 for an unknown command too: that is no reboot.
    assert.equal(parseNeedsRestarting('No such command: needs-restarting.').rebootRequired, false);
  });
});
