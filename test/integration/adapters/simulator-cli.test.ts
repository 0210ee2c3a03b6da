import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRemoteSimulator } from '../../../adapters/rmm/simulator/remote.js';
import { cliEnv, runCli, startCli } from '../../helpers/cli.js';

describe('patchops simulator', () => {
  it('serves the fleet of PATCHOPS_RMM_CONFIG, prints the workers’ line, stops on SIGTERM', async () => {
    const child = startCli(
      ['simulator'],
      cliEnv({ PATCHOPS_RMM_CONFIG: '{"clients":1,"devicesPerClient":7,"seed":9}' }),
    );
    let out = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    try {
      const deadline = Date.now() + 60_000;
      while (!out.includes('Press Ctrl-C to stop.')) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(out);
        await new Promise((r) => setTimeout(r, 100));
      }
      const line = /^ {2}PATCHOPS_RMM_CONFIG=(\{"url":"http:\/\/127\.0\.0\.1:\d+"\})$/m.exec(out);
      assert.ok(line, out);
      const { url } = JSON.parse(line[1]!) as { url: string };
      const check = await createRemoteSimulator(url).testConnection();
      assert.ok(check.ok && /1 clients, 7 devices.*seed 9/.test(check.detail), check.detail);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, out);
  });

  it('refuses to serve a config that points at a served simulator', async () => {
    const r = await runCli(
      ['simulator'],
      cliEnv({ PATCHOPS_RMM_CONFIG: '{"url":"http://127.0.0.1:7410"}' }),
    );
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /points at a served simulator/);
    const port = await runCli(['simulator', '--port', 'x'], cliEnv());
    assert.equal(port.code, 2);
    assert.match(port.stderr, /--port/);
  });
});
