import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRmm, RMM_KINDS } from '../../../adapters/rmm/registry.js';
import { RmmError } from '../../../adapters/rmm/types.js';

describe('RMM registry', () => {
  it('builds the simulator from its config', async () => {
    const rmm = createRmm('simulator', { clients: 1, devicesPerClient: 5 });
    assert.equal(rmm.kind, 'simulator');
    const check = await rmm.testConnection();
    assert.equal(check.ok, true);
    assert.match(check.detail, /1 clients, 5 devices/);
    assert.deepEqual(RMM_KINDS, ['simulator']);
  });

  it('fails loudly on an unknown kind, listing the known ones', () => {
    for (const kind of ['ninjaone-typo', 'toString', '']) {
      assert.throws(
        () => createRmm(kind, {}),
        (e: unknown) =>
          e instanceof RmmError &&
          e.code === 'UNKNOWN_ADAPTER' &&
          e.message.includes(`"${kind}"`) &&
          e.message.includes('simulator') &&
          !e.retryable,
      );
    }
  });

  it('passes config errors through with their code and field', () => {
    assert.throws(
      () => createRmm('simulator', { seed: 'forty-two' }),
      (e: unknown) =>
        e instanceof RmmError && e.code === 'CONFIG_INVALID' && /seed/.test(e.message),
    );
  });
});
