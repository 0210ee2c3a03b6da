import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { itsmRegistry } from '../../../adapters/itsm/registry.js';
import { adapterDeps } from '../../../adapters/kit.js';
import { createRmm, rmmRegistry, RMM_KINDS } from '../../../adapters/rmm/registry.js';
import { RmmError } from '../../../adapters/rmm/types.js';
import { loadConfig } from '../../../cli/config.js';

const deps = adapterDeps(pino({ level: 'silent' }), '/tmp');

describe('RMM registry', () => {
  it('builds the simulator from its config', async () => {
    const rmm = createRmm('simulator', { clients: 1, devicesPerClient: 5 }, deps);
    assert.equal(rmm.kind, 'simulator');
    const check = await rmm.testConnection();
    assert.equal(check.ok, true);
    assert.match(check.detail, /1 clients, 5 devices/);
    assert.ok(RMM_KINDS.includes('simulator'));
  });

  it('fails loudly on an unknown kind, listing the known ones', () => {
    for (const kind of ['ninjaone-typo', 'toString', '']) {
      assert.throws(
        () => createRmm(kind, {}, deps),
        (e: unknown) =>
          e instanceof RmmError &&
          e.code === 'UNKNOWN_ADAPTER' &&
          e.message.includes(`"${kind}"`) &&
          e.message.includes('simulator') &&
          e.message.includes('PATCHOPS_RMM') &&
          !e.retryable,
      );
    }
  });

  it('passes config errors through with their code and field', () => {
    assert.throws(
      () => createRmm('simulator', { seed: 'forty-two' }, deps),
      (e: unknown) =>
        e instanceof RmmError && e.code === 'CONFIG_INVALID' && /seed/.test(e.message),
    );
  });

  it('parses each adapter’s own variables, naming the variable in problems', () => {
    const bad = rmmRegistry.parseSettings('simulator', { PATCHOPS_RMM_CONFIG: '{not json' });
    assert.equal(bad.ok, false);
    assert.match(!bad.ok ? bad.problems.join() : '', /^PATCHOPS_RMM_CONFIG: expected JSON/);
    const good = rmmRegistry.parseSettings('simulator', { PATCHOPS_RMM_CONFIG: '{"seed":7}' });
    assert.deepEqual(good, { ok: true, settings: { seed: 7 } });
  });
});

describe('configuration takes its adapter kinds from the registries', () => {
  it('accepts every registered kind name and refuses others with the list', () => {
    assert.throws(
      () => loadConfig({ PATCHOPS_ITSM: 'remedy' }),
      (e: Error) =>
        e.message.includes('PATCHOPS_ITSM') &&
        itsmRegistry.kinds.every((k) => e.message.includes(k)),
    );
    const c = loadConfig({});
    assert.deepEqual(c.adapters.itsm, { kind: 'log', settings: {} });
    assert.deepEqual(c.adapters.rmm, { kind: 'simulator', settings: {} });
  });

  it('reports an adapter’s bad variable with the adapter that needs it', () => {
    assert.throws(
      () => loadConfig({ PATCHOPS_RMM_CONFIG: '[' }),
      (e: Error) => /PATCHOPS_RMM_CONFIG: expected JSON.*PATCHOPS_RMM=simulator/.test(e.message),
    );
  });
});
