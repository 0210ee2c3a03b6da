import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { cliEnv, runCli, scratchDir, startCli } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { temporalAddress } from '../helpers/temporal.js';
import { json, startFakeHttp } from '../fakes/http/server.js';

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

  it('rollout start → approve → status against a running worker; unknown names get one line', async () => {
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
      assert.equal(refused.code, 3, refused.stderr);
      assert.equal(
        refused.stderr,
        "patchops: You are not an approver for client acme, so you cannot approve rollouts. Ask a listed approver, or an admin to add you under approvers.cli in the client's policy.\n",
      );
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
      // Who approved: the approver name given and the OS account that ran the command.
      const requested = await db.pool.query<{ actor: string; data: Record<string, unknown> }>(
        `select actor, data from audit_events where rollout_id = $1 and action = 'rollout.approve.requested'`,
        [id],
      );
      assert.deepEqual(
        requested.rows.map((r) => [r.actor, r.data.as, r.data.osUser]),
        [['cli:alice', 'alice', userInfo().username]],
      );

      // Unknown names: one line on stderr, exit 4, nothing started.
      const nosuch = await runCli(
        ['rollout', 'start', '--client', 'nosuch', '--id', `nosuch-${taskQueue}`],
        env,
      );
      assert.equal(nosuch.code, 4, nosuch.stderr);
      assert.match(nosuch.stderr, /^patchops: unknown client "nosuch": .*\n$/);
      assert.equal(nosuch.stderr.split('\n').length, 2, nosuch.stderr);
      const rows = await db.pool.query(`select id from rollouts where client_id = 'nosuch'`);
      assert.equal(rows.rowCount, 0);
      // `status` asks Temporal as well as the store: no workflow was started either.
      for (const args of [
        ['approve', 'nosuch', '--as', 'alice'],
        ['cancel', 'nosuch', '--as', 'alice'],
        ['status', `nosuch-${taskQueue}`],
      ]) {
        const r = await runCli(args, env);
        assert.deepEqual(
          [r.code, r.stderr, r.stdout],
          [4, `patchops: no rollout ${args[1]}\n`, ''],
        );
      }
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
      // A name that is nobody's approver: refused, exit 3, and the rollout goes on.
      const stranger = await runCli(['cancel', deferred, '--as', 'nobody-at-all'], env);
      assert.equal(stranger.code, 3, stranger.stderr);
      assert.match(stranger.stderr, /not an approver for client acme, so you cannot cancel/);
      await waitFor(deferred, /: deferred/);
      assert.match(
        await ok(['cancel', deferred, '--as', 'alice', '--reason', 'change freeze']),
        /cancel sent by cli:alice/,
      );
      await waitFor(deferred, new RegExp(`${deferred}: cancelled`));
      const again = await runCli(['cancel', deferred, '--as', 'alice'], env);
      assert.deepEqual(
        [again.code, again.stderr],
        [5, `patchops: rollout ${deferred} is cancelled: there is nothing to cancel\n`],
      );
      const cancels = await db.pool.query<{
        action: string;
        actor: string;
        data: Record<string, unknown>;
      }>(
        `select action, actor, data from audit_events where rollout_id = $1
           and action in ('rollout.cancel.requested', 'cli.unauthorised') order by id`,
        [deferred],
      );
      assert.deepEqual(
        cancels.rows.map((r) => [r.action, r.actor, r.data.osUser, r.data.reason ?? null]),
        [
          ['cli.unauthorised', 'cli:nobody-at-all', userInfo().username, null],
          ['rollout.cancel.requested', 'cli:alice', userInfo().username, 'change freeze'],
        ],
      );

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
      const twice = await runCli(['pause', paused, '--as', 'alice'], env);
      assert.deepEqual(
        [twice.code, twice.stderr],
        [5, `patchops: ${paused}: rollout ${paused} is already paused\n`],
      );
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
      // The list says what each rollout's own status said above.
      const list = await ok(['status']);
      for (const [id, final] of [
        [deferred, 'cancelled'],
        [rejected, 'rejected'],
        [paused, 'completed'],
      ])
        assert.match(list, new RegExp(`^${id} +acme +${final} `, 'm'));
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

  it('a rollout that fails in planning: start exits 1 with the reason, status says failed and why', async () => {
    // The ITSM (GitHub issues) refuses the token: the change ticket, the last step of
    // planning, cannot be opened.
    const github = await startFakeHttp([], () =>
      json(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' }),
    );
    const taskQueue = `cli-${randomBytes(4).toString('hex')}`;
    const env = cliEnv({
      DATABASE_URL: db.url,
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_TASK_QUEUE: taskQueue,
      PATCHOPS_RMM_CONFIG: JSON.stringify({ clients: 1, devicesPerClient: 3, offlineRate: 0 }),
      PATCHOPS_ITSM: 'github',
      GITHUB_API_URL: github.url,
      GITHUB_REPOSITORY: 'acme/patches',
      GITHUB_TOKEN: 'ghp_revoked',
    });
    const policyFile = path.join(scratchDir('failing'), 'acme.yaml');
    writeFileSync(policyFile, POLICY);
    const worker = startCli(['worker'], env);
    const exited = new Promise<number | null>((resolve) => worker.on('exit', resolve));
    try {
      const id = `fail-${taskQueue}`;
      const started = await runCli(
        ['rollout', 'start', '--client', 'acme', '--policy', policyFile, '--id', id],
        env,
      );
      assert.equal(started.code, 1, `${started.stdout}\n${started.stderr}`);
      assert.match(started.stdout, new RegExp(`^started ${id} \\(by cli:`));
      assert.match(
        started.stderr,
        new RegExp(`^patchops: ${id} failed: planning failed: .*Bad credentials`),
      );
      const status = await runCli(['status', id], env);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, new RegExp(`^${id}: failed: planning failed: .*Bad credentials`));
      const list = await runCli(['status'], env);
      assert.match(list.stdout, new RegExp(`^${id} +acme +failed `, 'm'));
      assert.ok(github.requests.length > 0, 'the adapter did call the ITSM');
    } finally {
      worker.kill('SIGTERM');
      await exited;
      await github.close();
    }
  });
});
