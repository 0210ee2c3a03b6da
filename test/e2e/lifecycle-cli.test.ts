import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
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

  it('scan --every, defer, cancel, reject, pause and resume from the command line', async () => {
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
        latencyMs: { job: 700 },
      }),
    });
    const dir = scratchDir('controls');
    const gated = path.join(dir, 'gated.yaml');
    writeFileSync(gated, POLICY);
    const auto = path.join(dir, 'auto.yaml');
    writeFileSync(
      auto,
      // A catch-all rule at the client level is nearer than the global rule that keeps
      // critical security patches for a human, so everything goes out automatically.
      POLICY.replace(
        '{ default: needs_approval }',
        '{ default: auto, rules: [{ action: auto }] }',
      ).replace('concurrency: 10', 'concurrency: 1'),
    );
    const ok = async (args: string[]) => {
      const r = await runCli(args, env);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const waitFor = async (id: string, pattern: RegExp) => {
      let status = '';
      for (let i = 0; i < 90 && !pattern.test(status); i++) {
        status = await ok(['status', id]);
        if (!pattern.test(status)) await new Promise((r) => setTimeout(r, 500));
      }
      assert.match(status, pattern);
      return status;
    };
    const start = (id: string, policyFile: string) =>
      ok(['rollout', 'start', '--client', 'acme', '--policy', policyFile, '--id', id]);
    const worker = startCli(['worker'], env);
    const exited = new Promise<number | null>((resolve) => worker.on('exit', resolve));
    const connection = await Connection.connect({ address: temporalAddress() });
    try {
      // A Temporal Schedule that scans the client every day.
      assert.match(await ok(['scan', 'acme', '--every', '1d']), /scan-acme/);
      const schedule = await new Client({ connection }).schedule.getHandle('scan-acme').describe();
      assert.deepEqual(
        schedule.spec.intervals?.map((i) => i.every),
        [86_400_000],
      );

      const deferred = `${taskQueue}-defer`;
      await start(deferred, gated);
      await waitFor(deferred, /awaiting_approval/);
      await ok(['defer', deferred, '--as', 'alice', '--for', '3d']);
      await waitFor(deferred, /: deferred/);
      await ok(['cancel', deferred, '--as', 'alice', '--reason', 'change freeze']);
      await waitFor(deferred, new RegExp(`${deferred}: cancelled`));

      const rejected = `${taskQueue}-reject`;
      await start(rejected, gated);
      await waitFor(rejected, /awaiting_approval/);
      await ok(['reject', rejected, '--as', 'alice', '--reason', 'not this month']);
      await waitFor(rejected, new RegExp(`${rejected}: rejected`));

      const paused = `${taskQueue}-pause`;
      await start(paused, auto);
      await waitFor(paused, /deploying/);
      await ok(['pause', paused, '--as', 'alice']);
      await waitFor(paused, /\(paused\)/);
      await ok(['resume', paused, '--as', 'alice']);
      await waitFor(paused, new RegExp(`${paused}: completed`));

      const approvals = await db.pool.query<{ rollout_id: string; decision: string }>(
        `select rollout_id, decision from approvals where rollout_id like $1 order by rollout_id`,
        [`${taskQueue}-%`],
      );
      assert.deepEqual(
        approvals.rows.map((r) => `${r.rollout_id.slice(taskQueue.length + 1)} ${r.decision}`),
        ['defer defer', 'reject reject'],
      );
      const trail = await db.pool.query<{ action: string; actor: string }>(
        `select action, actor from audit_events where rollout_id = $1
           and action in ('rollout.paused', 'rollout.resumed') order by id`,
        [paused],
      );
      assert.deepEqual(
        trail.rows.map((r) => `${r.action} ${r.actor}`),
        ['rollout.paused cli:alice', 'rollout.resumed cli:alice'],
      );
    } finally {
      await new Client({ connection }).schedule
        .getHandle('scan-acme')
        .delete()
        .catch(() => undefined);
      await connection.close();
      worker.kill('SIGTERM');
      await exited;
    }
  });
});
