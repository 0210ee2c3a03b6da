import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { resolveTemporalCli, TemporalCliNotFound } from '../../../cli/temporal/resolve-cli.js';

function fakeBinary(dir: string, name = 'temporal'): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  writeFileSync(file, '#!/bin/sh\necho fake\n');
  chmodSync(file, 0o755);
  return file;
}

describe('resolveTemporalCli', () => {
  let root: string;
  let savedPath: string | undefined;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'resolve-cli-'));
    savedPath = process.env.PATH;
    process.env.PATH = path.join(root, 'empty-bin'); // no temporal, no go
  });
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  it('prefers TEMPORAL_CLI, then PATH, then .tools', async () => {
    const explicit = fakeBinary(path.join(root, 'explicit'));
    const onPath = fakeBinary(path.join(root, 'bin'));
    const tools = fakeBinary(path.join(root, '.tools'));
    process.env.PATH = path.join(root, 'bin');
    assert.deepEqual(await resolveTemporalCli({ explicit, root, build: false }), {
      path: explicit,
      source: 'TEMPORAL_CLI',
    });
    assert.deepEqual(await resolveTemporalCli({ root, build: false }), {
      path: onPath,
      source: 'PATH',
    });
    process.env.PATH = path.join(root, 'empty-bin');
    assert.deepEqual(await resolveTemporalCli({ root, build: false }), {
      path: tools,
      source: '.tools',
    });
  });

  it('rejects a TEMPORAL_CLI that is not executable, naming the variable', async () => {
    await assert.rejects(
      resolveTemporalCli({ explicit: path.join(root, 'missing'), root, build: false }),
      (err: Error) =>
        err instanceof TemporalCliNotFound &&
        /^TEMPORAL_CLI: .*missing is not an executable file$/.test(err.message),
    );
  });

  it('returns undefined when there is no binary and building is off', async () => {
    assert.equal(await resolveTemporalCli({ root, build: false }), undefined);
  });
});
