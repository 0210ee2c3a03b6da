import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cliEnv, runCli, scratchDir, startCli } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { temporalAddress } from '../helpers/temporal.js';

const POLICY = `
scope: { level: client, id: acme }
approval: { default: needs_approval }
rings:
  - { name: all, members: { percent: 100 }, soak: 0s, successThreshold: 0.1, concurrency: 10 }
windows: []
reboot: { mode: if_required, userDeferrals: 0 }
approvers: { cli: [alice] }
circuitBreaker: { maxFailureRate: 1, minSamples: 1000 }
`;

describe('the lifecycle from the command line', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => db.drop());

  it('policy validate prints every error with its path and exits 1', async () => {
    const dir = scratchDir('policy');
    const good = path.join(dir, 'good.yaml');
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(good, POLICY);
    writeFileSync(
      bad,
      'scope: { level: global }\nrings:\n  - { name: a, members: { percent: 10 }, soak: 2 hours }\n  - { name: a, members: { percent: 95 }, soak: 1h }\n',
    );
    const r = await runCli(['policy', 'validate', good, bad], cliEnv());
    assert.equal(r.code, 1);
    assert.match(r.stdout, /good\.yaml: ok \(client acme\)/);
    assert.match(
      r.stderr,
      /bad\.yaml: rings\[0\]\.soak: expected a duration like "2h", "30m" or "1h30m", got "2 hours"/,
    );
    assert.ok(r.stderr.split('\n').filter((l) => l.includes('bad.yaml')).length >= 2, r.stderr);
  });

  it('rollout start → approve → status → report against a running worker', async () => {
    const taskQueue = `cli-${randomBytes(4).toString('hex')}`;
    const env = cliEnv({
      DATABASE_URL: db.url,
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_TASK_QUEUE: taskQueue,
      PATCHOPS_RMM_CONFIG: JSON.stringify({
        clients: 1,
        devicesPerClient: 8,
        offlineRate: 0,
        knownBadPatch: false,
      }),
    });
    const policyFile = path.join(scratchDir('rollout'), 'acme.yaml');
    writeFileSync(policyFile, POLICY);
    const worker = startCli(['worker'], env);
    const exited = new Promise<number | null>((resolve) => worker.on('exit', resolve));
    try {
      const started = await runCli(
        [
          'rollout',
          'start',
          '--client',
          'acme',
          '--policy',
          policyFile,
          '--id',
          `cli-${taskQueue}`,
        ],
        env,
      );
      assert.equal(started.code, 0, started.stderr);
      const id = `cli-${taskQueue}`;
      let status = '';
      for (let i = 0; i < 60 && !status.includes('awaiting_approval'); i++) {
        status = (await runCli(['status', id], env)).stdout;
        if (!status.includes('awaiting_approval')) await new Promise((r) => setTimeout(r, 500));
      }
      assert.match(status, /awaiting_approval/);
      const refused = await runCli(['approve', id, '--as', 'mallory'], env);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /cli user mallory is not an approver for client acme/);
      const approved = await runCli(
        ['approve', id, '--as', 'alice', '--reason', 'patch night'],
        env,
      );
      assert.equal(approved.code, 0, approved.stderr);
      assert.match(approved.stdout, /approve recorded \(by cli:alice\)/);
      const final = /: (completed|halted|rejected|cancelled)/;
      for (let i = 0; i < 60 && !final.test(status); i++) {
        status = (await runCli(['status', id], env)).stdout;
        if (!final.test(status)) await new Promise((r) => setTimeout(r, 500));
      }
      assert.match(status, new RegExp(`${id}: completed`));
      const report = await runCli(['report', '--client', 'acme'], env);
      assert.equal(report.code, 0, report.stderr);
      assert.match(report.stdout, /^acme +\S+ +\d+ +\d+\.\d%/m);
    } finally {
      worker.kill('SIGTERM');
      await exited;
    }
  });
});
