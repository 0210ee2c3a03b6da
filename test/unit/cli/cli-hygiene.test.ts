/**
 * Small CLI hygiene: the policy size limit (refused before parsing, naming file, size and
 * limit), `patchops --version`, and a prompt that log lines never cut through.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { askAtTerminal } from '../../../cli/commands/demo.js';
import { createLogger, LogGate } from '../../../cli/logger.js';
import { loadPolicyFiles, PolicyLoadError } from '../../../cli/policies.js';
import { PROJECT_ROOT } from '../../../cli/runtime.js';
import { MAX_POLICY_BYTES, parsePolicy } from '../../../domain/policy/parse.js';
import { cliEnv, runCli, scratchDir } from '../../helpers/cli.js';

const SMALL = 'scope: { level: global }\n';

describe('policy size limit', () => {
  it('parsePolicy refuses text over 1 MiB at once, naming the file, its size and the limit', () => {
    const big = `${SMALL}# ${'x'.repeat(MAX_POLICY_BYTES)}\n`;
    const t0 = Date.now();
    const r = parsePolicy(big, 'policies/huge.yaml');
    assert.ok(Date.now() - t0 < 200, 'not parsed');
    assert.equal(r.ok, false);
    assert.deepEqual(!r.ok && r.errors, [
      `policies/huge.yaml: the file is 1.00 MiB (${Buffer.byteLength(big)} bytes); policy files are limited to 1.00 MiB (1048576 bytes) — split it, or remove what is not policy`,
    ]);
    // Bytes, not characters: 400,000 three-byte characters are 1.2 MB.
    const wide = parsePolicy(`${SMALL}# ${'€'.repeat(400_000)}\n`, 'wide.yaml');
    assert.equal(wide.ok, false);
    assert.ok(parsePolicy(SMALL, 'small.yaml').ok, 'a normal file still parses');
  });

  it('loadPolicyFiles refuses a 50 MB file before reading it and still reports the others', () => {
    const dir = scratchDir('policy-size');
    const huge = path.join(dir, 'huge.yaml');
    writeFileSync(huge, `${SMALL}# ${'y'.repeat(50 * 1024 * 1024)}\n`);
    const typo = path.join(dir, 'typo.yaml');
    writeFileSync(typo, 'scope: { level: global }\napprovl: {}\n');
    const t0 = Date.now();
    assert.throws(
      () => loadPolicyFiles([huge, typo], dir),
      (err: unknown) => {
        assert.ok(err instanceof PolicyLoadError);
        assert.match(
          err.problems[0] ?? '',
          /^huge\.yaml: the file is 50\.0 MiB \(52428828 bytes\); policy files are limited to 1\.00 MiB/,
        );
        assert.match(err.problems.join('\n'), /typo\.yaml: approvl: unknown key/);
        return true;
      },
    );
    assert.ok(Date.now() - t0 < 1_000, `took ${Date.now() - t0} ms`);
  });
});

describe('patchops --version', () => {
  it('prints the package.json version and exits 0, with no configuration at all', async () => {
    const { version } = JSON.parse(
      readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8'),
    ) as {
      version: string;
    };
    const r = await runCli(['--version'], cliEnv({ DATABASE_URL: 'not a url' }));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${version}\n`);
  });
});

describe('a prompt and the log', () => {
  it('log lines written while a question waits come after it, never inside the prompt line', async () => {
    const terminal = new PassThrough();
    let screen = '';
    terminal.on('data', (c: Buffer) => (screen += c.toString()));
    const gate = new LogGate(terminal);
    const log = createLogger({ level: 'info', format: 'json' }, 'patchops', gate);
    const input = new PassThrough();
    log.info('before the prompt');
    const asked = askAtTerminal('Approve demo-acme-1 (12 devices in 2 rings) as demo? [Y/n] ', {
      input,
      output: terminal,
      gate,
    });
    await new Promise((r) => setTimeout(r, 20));
    log.info('while the prompt waits');
    log.warn('another while it waits');
    await new Promise((r) => setTimeout(r, 20));
    assert.doesNotMatch(screen, /while the prompt waits/, 'held while the question is open');
    input.write('y\n');
    assert.equal(await asked, 'y');
    log.info('after the answer');
    await new Promise((r) => setTimeout(r, 20));
    const lines = screen.split('\n');
    const prompt = lines.findIndex((l) => l.startsWith('Approve demo-acme-1'));
    assert.ok(prompt > 0, screen);
    assert.equal(
      lines[prompt],
      'Approve demo-acme-1 (12 devices in 2 rings) as demo? [Y/n] ',
      'alone on its line',
    );
    assert.match(lines[prompt - 2] ?? '', /before the prompt/);
    assert.equal(lines[prompt - 1], '', 'the prompt starts on a fresh line');
    const later = lines.slice(prompt + 1).join('\n');
    assert.ok(
      later.indexOf('while the prompt waits') < later.indexOf('another while it waits') &&
        later.indexOf('another while it waits') < later.indexOf('after the answer'),
      later,
    );
  });
});
