import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adapterChecks } from '../../cli/commands/doctor.js';
import { loadConfig } from '../../cli/config.js';
import { ITSM_FAKES } from '../helpers/itsm-fakes.js';

describe('patchops doctor checks the configured ITSM', () => {
  for (const vendor of ITSM_FAKES) {
    it(`${vendor.kind}: ok with working credentials, and a 401 names the variable to fix`, async () => {
      const fake = await vendor.start();
      try {
        const good = await adapterChecks(
          loadConfig({ PATCHOPS_ITSM: vendor.kind, ...vendor.env(fake.url) }),
        );
        const itsm = good.find((r) => r.part === `itsm:${vendor.kind}`);
        assert.equal(itsm?.state, 'ok', JSON.stringify(good));
        const bad = vendor.badEnv(fake.url);
        const down = (
          await adapterChecks(loadConfig({ PATCHOPS_ITSM: vendor.kind, ...bad.env }))
        ).find((r) => r.part === `itsm:${vendor.kind}`);
        assert.equal(down?.state, 'down');
        assert.match(down?.detail ?? '', bad.names);
        const secret = Object.entries(bad.env).find(([k]) => /PASSWORD|TOKEN/.test(k))?.[1];
        assert.ok(secret && !JSON.stringify(down).includes(secret), 'the secret is not echoed');
      } finally {
        await fake.close();
      }
    });
  }

  it('refuses to start with an adapter whose variables are missing, naming them', () => {
    for (const vendor of ITSM_FAKES) {
      assert.throws(
        () => loadConfig({ PATCHOPS_ITSM: vendor.kind }),
        (e: Error) => new RegExp(`PATCHOPS_ITSM=${vendor.kind}`).test(e.message),
      );
    }
  });
});
