import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseInventory } from '../../../adapters/rmm/ssh/inventory.js';
import { sshSettingsSchema } from '../../../adapters/rmm/ssh/settings.js';
import { AdapterRegistry } from '../../../adapters/kit.js';
import { sshDefinition } from '../../../adapters/rmm/ssh/index.js';
import { deviceSchema, siteSchema } from '../../../domain/model.js';

const GOOD = `
defaults:
  user: patchops
  sudo: true
  keyFile: /etc/patchops/id_ed25519
clients:
  acme:
    name: ACME Corp
    sites:
      hq:
        name: Headquarters
        timezone: Europe/Berlin
        hosts:
          - name: web1
            address: 10.0.0.5
            tags: [web, dmz]
            criticality: high
            internetExposed: true
          - name: db1
            address: db1.acme.internal
            port: 2222
            user: root
            sudo: false
            timezone: America/New_York
            os: Debian 12
      branch:
        hosts:
          - name: files
            address: 10.1.0.9
            agent: true
            sudoPasswordEnv: FILES_SUDO_PASSWORD
`;

describe('SSH inventory', () => {
  it('maps clients, sites and hosts to domain objects with defaults applied', () => {
    const r = parseInventory(GOOD, 'inventory.yaml');
    assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
    const inv = r.inventory;
    assert.deepEqual(inv.clients, [{ id: 'acme', name: 'ACME Corp' }]);
    assert.deepEqual(inv.sites, [
      { id: 'acme/hq', clientId: 'acme', name: 'Headquarters', timezone: 'Europe/Berlin' },
      { id: 'acme/branch', clientId: 'acme', name: 'branch', timezone: 'UTC' },
    ]);
    inv.sites.forEach((s) => siteSchema.parse(s));
    const [web, db, files] = inv.hosts;
    assert.deepEqual(
      [
        web?.deviceId,
        web?.port,
        web?.user,
        web?.sudo,
        web?.keyFile,
        web?.device.tags,
        web?.device.criticality,
        web?.device.internetExposed,
      ],
      [
        'ssh:acme:web1',
        22,
        'patchops',
        true,
        '/etc/patchops/id_ed25519',
        ['web', 'dmz'],
        'high',
        true,
      ],
    );
    assert.deepEqual(
      [db?.port, db?.user, db?.sudo, db?.device.timezone, db?.device.osVersion, db?.device.rmmRef],
      [2222, 'root', false, 'America/New_York', 'Debian 12', 'db1.acme.internal:2222'],
    );
    assert.deepEqual(
      [files?.agent, files?.sudoPasswordEnv, files?.device.criticality],
      [true, 'FILES_SUDO_PASSWORD', 'medium'],
    );
    for (const h of inv.hosts) deviceSchema.parse({ ...h.device, online: true });
    assert.equal(inv.byDeviceId.get('ssh:acme:db1'), db);
  });

  it('names the file and the field of every problem, with the fix', () => {
    const r = parseInventory(
      `clients:
  acme:
    sites:
      hq:
        timezone: Mars/Olympus
        hosts:
          - name: a
            address: 10.0.0.1
            user: root
            keyFile: /k
          - name: b
            address: 10.0.0.2
            user: root
            keyFile: /k
          - name: c
            address: 10.0.0.3
            port: 99999
            user: root
            keyFile: /k
            sudoPassword: hunter2
`,
      'inventory.yaml',
    );
    assert.ok(!r.ok);
    const text = r.errors.join('\n');
    assert.match(text, /^inventory\.yaml: clients\.acme\.sites\.hq\.hosts\[2\]\.port: .*65535/m);
    assert.match(text, /^inventory\.yaml: clients\.acme\.sites\.hq\.hosts\[2\]: .*sudoPassword/m);
    assert.match(
      text,
      /^inventory\.yaml: clients\.acme\.sites\.hq\.timezone: expected an IANA time zone/m,
    );
    assert.ok(!text.includes('hunter2'));
  });

  it('refuses hosts without a way to log in, non-root users without sudo, and duplicate names', () => {
    const r = parseInventory(
      `clients:
  acme:
    sites:
      hq:
        hosts:
          - { name: a, address: 10.0.0.1, user: root }
          - { name: b, address: 10.0.0.2, user: deploy, keyFile: /k }
          - { name: b, address: 10.0.0.3, user: root, keyFile: /k }
`,
      'inv.yaml',
    );
    assert.ok(!r.ok);
    assert.deepEqual(r.errors, [
      'inv.yaml: clients.acme.sites.hq.hosts[0].keyFile: missing; set keyFile (here or in defaults) or agent: true to use SSH_AUTH_SOCK',
      'inv.yaml: clients.acme.sites.hq.hosts[1].sudo: user "deploy" is not root; set sudo: true (patching needs root)',
      'inv.yaml: clients.acme.sites.hq.hosts[2].name: "b" is used twice in client "acme"; host names must be unique per client',
    ]);
  });

  it('reports YAML syntax errors with line and column, and an empty file', () => {
    const bad = parseInventory('clients:\n  acme: [\n', 'inv.yaml');
    assert.ok(!bad.ok && /^inv\.yaml:\d+:\d+: /.test(bad.errors[0] ?? ''));
    const empty = parseInventory('', 'inv.yaml');
    assert.deepEqual(empty, {
      ok: false,
      errors: ['inv.yaml: the file is empty; it needs "clients"'],
    });
  });
});

describe('SSH settings', () => {
  const registry = new AdapterRegistry(
    'RMM',
    'PATCHOPS_RMM',
    [sshDefinition],
    (c, m) => new Error(`${c}: ${m}`),
  );

  it('parses the environment with defaults; trust on first use is off unless asked for', () => {
    const r = registry.parseSettings('ssh', {
      PATCHOPS_SSH_INVENTORY: '/etc/patchops/inventory.yaml',
      PATCHOPS_SSH_KNOWN_HOSTS: '/etc/patchops/known_hosts',
    });
    assert.ok(r.ok);
    assert.deepEqual(r.settings, {
      inventoryPath: '/etc/patchops/inventory.yaml',
      knownHostsPath: '/etc/patchops/known_hosts',
      trustOnFirstUse: false,
      concurrency: 10,
      connectTimeoutMs: 10_000,
      commandTimeoutMs: 600_000,
      lockTimeoutSeconds: 300,
      stateDir: '/var/lib/patchops',
    });
    assert.equal(
      sshSettingsSchema.parse({
        PATCHOPS_SSH_INVENTORY: 'i',
        PATCHOPS_SSH_KNOWN_HOSTS: 'k',
        PATCHOPS_SSH_TRUST_ON_FIRST_USE: 'true',
      }).trustOnFirstUse,
      true,
    );
  });

  it('names the variable of every problem', () => {
    const r = registry.parseSettings('ssh', {
      PATCHOPS_SSH_CONCURRENCY: 'lots',
      PATCHOPS_SSH_TRUST_ON_FIRST_USE: 'yes',
    });
    assert.ok(!r.ok);
    const text = r.problems.join('\n');
    assert.match(text, /^PATCHOPS_SSH_INVENTORY: required/m);
    assert.match(text, /^PATCHOPS_SSH_KNOWN_HOSTS: required/m);
    assert.match(text, /^PATCHOPS_SSH_CONCURRENCY: expected a whole number/m);
    assert.match(text, /^PATCHOPS_SSH_TRUST_ON_FIRST_USE: expected true or false/m);
  });
});
