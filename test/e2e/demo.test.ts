import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cliEnv, runCli, scratchDir } from '../helpers/cli.js';

describe('patchops dev demo', () => {
  it('runs a rollout per simulated client to the end and prints a compliance table', async () => {
    const dataDir = scratchDir('demo');
    const r = await runCli(
      ['dev', '--once', '--yes'],
      cliEnv({
        PATCHOPS_DATA_DIR: dataDir,
        TEMPORAL_DEV_PORT: '0',
        TEMPORAL_DEV_UI_PORT: '0',
        // Offline devices included: with no maintenance windows they must not stall the demo.
        PATCHOPS_RMM_CONFIG: JSON.stringify({
          clients: 2,
          devicesPerClient: 12,
          offlineRate: 0.25,
        }),
      }),
      300_000,
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Started 2 demo rollouts/);
    assert.match(r.stdout, /demo-acme-\d+: approve by cli:demo/);
    assert.match(r.stdout, /demo-acme-\d+ +completed/);
    assert.match(r.stdout, /client +site +devices +compliance/);
    assert.match(r.stdout, /^acme +\S+ +\d+ +\d+\.\d%/m);
    assert.match(r.stdout, /Stopping \(--once\)\./);
  });
});
