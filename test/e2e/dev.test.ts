import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { cliEnv, runCli, scratchDir, startCli } from '../helpers/cli.js';

const processesIn = (dir: string) =>
  execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(dir) && !l.includes('ps -eo'));

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function devEnv(dataDir: string) {
  // No DATABASE_URL and no TEMPORAL_ADDRESS: embedded PostgreSQL and a dev server.
  return cliEnv({ PATCHOPS_DATA_DIR: dataDir, TEMPORAL_DEV_PORT: '0', TEMPORAL_DEV_UI_PORT: '0' });
}

// A failed assertion must not leave `dev` running: the test file would never end.
const started: Array<ReturnType<typeof startCli>> = [];
afterEach(() => {
  for (const c of started.splice(0))
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function startDev(dataDir: string) {
  const child = startCli(['dev', '--no-demo'], devEnv(dataDir));
  started.push(child);
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { child, exited, output: () => out };
}

describe('patchops dev on embedded defaults', () => {
  it('starts PostgreSQL, Temporal and a worker, serves doctor, and stops cleanly on Ctrl-C', async () => {
    const dataDir = scratchDir('dev');
    const dev = startDev(dataDir);
    await waitFor(
      () => dev.output().includes('Press Ctrl-C to stop.'),
      180_000,
      `dev to start:\n${dev.output()}`,
    );
    const out = dev.output();
    assert.match(
      out,
      // The app connects as patchops_app: it may only append to and read the audit trail.
      /PostgreSQL {3}postgres:\/\/patchops_app:\*\*\*@127\.0\.0\.1:\d+\/patchops \(embedded/,
    );
    assert.match(out, /Temporal {5}127\.0\.0\.1:\d+, namespace default \(dev server from/);
    assert.match(out, /Temporal UI {2}http:\/\/127\.0\.0\.1:\d+/);
    assert.match(out, /Self-check {3}workflow smoke-dev-\d+ wrote its audit event/);
    assert.ok(
      existsSync(path.join(dataDir, 'temporal', 'dev.db')),
      'persistent Temporal state file',
    );
    assert.ok(processesIn(dataDir).length >= 2, 'postgres and temporal run from the data dir');

    // Other commands find the running dev servers through the data dir.
    const doctor = await runCli(['doctor'], devEnv(dataDir));
    assert.equal(doctor.code, 0, doctor.stdout + doctor.stderr);
    assert.match(doctor.stdout, /^ok +temporal .*\(patchops dev\)/m);
    assert.match(doctor.stdout, /^ok +postgresql .*\(patchops dev\)/m);

    dev.child.kill('SIGINT');
    assert.equal(await dev.exited, 0);
    await waitFor(
      () => processesIn(dataDir).length === 0,
      15_000,
      `no processes left: ${processesIn(dataDir).join('\n')}`,
    );
    assert.ok(!existsSync(path.join(dataDir, 'dev.json')), 'dev.json removed on stop');
  });

  it('leaves no orphan even when killed with SIGKILL', async () => {
    const dataDir = scratchDir('devkill');
    const dev = startDev(dataDir);
    await waitFor(
      () => dev.output().includes('Press Ctrl-C to stop.'),
      180_000,
      `dev to start:\n${dev.output()}`,
    );
    assert.ok(processesIn(dataDir).length >= 2);
    dev.child.kill('SIGKILL');
    await dev.exited;
    await waitFor(
      () => processesIn(dataDir).length === 0,
      20_000,
      `orphans gone: ${processesIn(dataDir).join('\n')}`,
    );

    // The persistent state survives: a second start on the same data dir works.
    const again = await runCli(['dev', '--once', '--no-demo'], devEnv(dataDir), 180_000);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /Stopping \(--once\)\./);
    assert.deepEqual(processesIn(dataDir), []);
  });
});
