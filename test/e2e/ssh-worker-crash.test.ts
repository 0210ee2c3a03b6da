/**
 * A `patchops worker` patching real Debian hosts over SSH (PATCHOPS_RMM=ssh) is killed
 * with SIGKILL while apt runs on them; a new worker takes over. The job record each host
 * keeps under the deploy's key is what stands between the retry and a second apt run:
 * the rollout must complete with apt having upgraded each host exactly once.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import type { patchCycle } from '../../workflows/index.js';
import { cliEnv, scratchDir, startCli } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { temporalAddress } from '../helpers/temporal.js';
import { startHosts, type HostFleet } from '../hosts/harness.js';
import { writeInventory } from '../integration/ssh/fleet-adapter.js';

const POLICY = `
scope: { level: global }
approval: { default: auto }
blocklist: [patchops-demo-fail, patchops-demo-kernel, patchops-demo-pinned]
rings:
  - { name: all, members: { percent: 100 }, soak: 0s, successThreshold: 1.0, concurrency: 5 }
windows: []
reboot: { mode: never, userDeferrals: 0 }
circuitBreaker: { maxFailureRate: 1, minSamples: 1000 }
`;
// Holds dpkg's frontend lock for a while, so apt is waiting (and running) when the worker dies.
const HOLD_LOCK = `nohup perl -e 'use Fcntl qw(:flock); open(my $f, ">>", "/var/lib/dpkg/lock-frontend") or die; flock($f, LOCK_EX) or die; sleep 8' >/dev/null 2>&1 &`;

describe('an SSH worker killed with SIGKILL while apt runs', () => {
  let db: TestDatabase;
  let fleet: HostFleet;
  before(async () => {
    db = await createTestDatabase();
    fleet = await startHosts({ count: 2 });
  });
  after(async () => {
    await fleet?.stop();
    await db?.drop();
  });

  it('is replaced by a new worker; the rollout completes and apt upgraded each host once', async () => {
    const dir = scratchDir('ssh-crash');
    writeFileSync(path.join(dir, 'global.yaml'), POLICY);
    const taskQueue = `ssh-crash-${randomBytes(4).toString('hex')}`;
    const env = cliEnv({
      DATABASE_URL: db.url,
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_TASK_QUEUE: taskQueue,
      PATCHOPS_POLICY_DIR: dir,
      PATCHOPS_RMM: 'ssh',
      PATCHOPS_SSH_INVENTORY: writeInventory(fleet),
      PATCHOPS_SSH_KNOWN_HOSTS: fleet.knownHostsPath,
      PATCHOPS_SSH_LOCK_TIMEOUT_SECONDS: '60',
    });
    const first = startCli(['worker'], env);
    let stderr = '';
    first.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const firstExit = new Promise((resolve) => first.on('exit', resolve));
    const connection = await Connection.connect({ address: temporalAddress() });
    let second: ReturnType<typeof startCli> | undefined;
    try {
      const client = new Client({ connection });
      const id = `ssh-crash-${taskQueue}`;
      const handle = await client.workflow.start<typeof patchCycle>('patchCycle', {
        taskQueue,
        workflowId: id,
        args: [{ rolloutId: id, clientId: 'acme', startedBy: 'tester' }],
      });
      // Once the scan is done, lock dpkg on every host; the deploys then wait inside apt.
      for (let i = 0; ; i++) {
        const r = await db.pool.query(`select 1 from rollout_devices where rollout_id = $1`, [id]);
        if (r.rowCount) break;
        if (i > 1_200) throw new Error(`no plan after 60 s; worker said: ${stderr}`);
        await new Promise((res) => setTimeout(res, 50));
      }
      for (const h of fleet.hosts) await fleet.exec(h, HOLD_LOCK);
      for (let i = 0; ; i++) {
        const running = await Promise.all(
          fleet.hosts.map(
            async (h) => (await fleet.exec(h, 'pgrep -f "apt-get install"')).code === 0,
          ),
        );
        if (running.every(Boolean)) break;
        if (i > 600) throw new Error(`apt never started on every host; worker said: ${stderr}`);
        await new Promise((res) => setTimeout(res, 100));
      }
      first.kill('SIGKILL');
      await firstExit;
      second = startCli(['worker'], env);
      const state = await handle.result();
      assert.equal(state.phase, 'completed', JSON.stringify(state.rings));
      assert.equal(state.rings[0]!.succeeded, 2);
      for (const h of fleet.hosts) {
        assert.equal(await fleet.dpkgVersion(h, 'patchops-demo-lib'), '1.1-1', h.name);
        // dpkg's own log on the host: one upgrade of each package, so apt ran once.
        const log = await fleet.exec(h, 'grep -c " upgrade patchops-demo-lib:" /var/log/dpkg.log');
        assert.equal(log.stdout.trim(), '1', `${h.name}: ${log.stdout}`);
        const jobs = await fleet.exec(h, 'ls /var/lib/patchops/jobs | wc -l');
        assert.equal(jobs.stdout.trim(), '1', `${h.name}: one deploy job`);
      }
    } finally {
      await connection.close();
      if (second) {
        const exited = new Promise((resolve) => second!.on('exit', resolve));
        second.kill('SIGTERM');
        await exited;
      }
    }
  });
});
