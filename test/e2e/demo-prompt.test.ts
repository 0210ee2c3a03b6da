/**
 * `patchops dev` at a real terminal (a pty from util-linux `script`): the demo's approval
 * prompt stands on its own line, names the approver (demo), and no log line cuts into it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PROJECT_ROOT } from '../../cli/runtime.js';
import { cliEnv, scratchDir } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

describe('patchops dev demo at a terminal', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => db?.drop());

  it('asks on its own line as demo, holding log lines until answered', async () => {
    const main = path.join(PROJECT_ROOT, 'cli', 'main.ts');
    const command = [process.execPath, '--import', 'tsx', main, 'dev', '--once']
      .map(shellQuote)
      .join(' ');
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: PROJECT_ROOT,
      env: cliEnv({
        PATCHOPS_DATA_DIR: scratchDir('demo-prompt'),
        DATABASE_URL: db.ownerUrl,
        TEMPORAL_ADDRESS: process.env.PATCHOPS_TEST_TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
        TEMPORAL_TASK_QUEUE: `demo-prompt-${randomUUID().slice(0, 8)}`,
        // Info logs: the worker and activities write while the question waits.
        LOG_LEVEL: 'info',
        PATCHOPS_RMM_CONFIG: JSON.stringify({
          clients: 2,
          devicesPerClient: 4,
          offlineRate: 0,
          latencyMs: { scan: 200, job: 200 },
        }),
        TERM: 'dumb',
      }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    // Each prompt is answered after a pause in which the other rollout's work logs.
    const answers: Array<{ at: number; logsWhileAsked: number }> = [];
    let prompts = 0;
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const seen = out.split('[Y/n] ').length - 1;
      if (seen > prompts) {
        prompts = seen;
        const asked = out.length;
        setTimeout(() => {
          answers.push({
            at: Date.now(),
            logsWhileAsked: out.slice(asked).split('"level"').length - 1,
          });
          child.stdin.write('y\r');
        }, 3_000);
      }
    });
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    if (process.env.DEMO_PROMPT_DUMP) writeFileSync(process.env.DEMO_PROMPT_DUMP, out);
    const lines = out.replace(/\r/g, '').split('\n');
    assert.equal(code, 0, out.slice(-3_000));
    assert.equal(answers.length, 2, `two prompts expected:\n${out.slice(-3_000)}`);
    for (const a of answers) assert.equal(a.logsWhileAsked, 0, 'nothing written while asked');
    const held: string[] = [];
    let prompt = 0;
    lines.forEach((line, at) => {
      if (!line.includes('[Y/n]')) return;
      assert.match(
        line,
        /^Approve demo-\S+ \(\d+ devices in \d+ rings\) as demo\? \[Y\/n\] y?$/,
        'the prompt alone on its line (the pty echoes the answer)',
      );
      assert.equal(lines[at - 1], '', 'it starts on a fresh line');
      // Log lines stamped before this prompt's answer but printed after it were held.
      const answeredAt = answers[prompt++]?.at ?? 0;
      for (const next of lines.slice(at + 1)) {
        if (!next.startsWith('{')) continue;
        const time = (JSON.parse(next) as { time: number }).time;
        if (time < answeredAt - 500) held.push(next);
      }
    });
    assert.ok(held.length > 0, `no log line was held by a prompt:\n${out}`);
    assert.match(out, /patchops approve ROLLOUT --as demo/);
    assert.match(out, /demo-\S+: approve by cli:demo/);
  });
});
