/**
 * patchops beside Ansible on the same real Debian test hosts (test/hosts), in one run:
 * the same upgrade (patchops-demo-lib and -tool) of N hosts, each round starting from the
 * old versions. Three ways, alternating:
 *   - raw apt: `apt-get update && apt-get install --only-upgrade …` on every host at
 *     once, run inside the hosts (no SSH, no orchestration): the floor;
 *   - Ansible: Debian's ansible, `apt` module (update_cache, only_upgrade), forks = N;
 *   - patchops: a rollout (scan → auto-approve → one ring → verify) with a real worker,
 *     Temporal dev server and PostgreSQL, through the SSH adapter.
 * Prints wall times (median of the rounds), the ratio to Ansible, and patchops'
 * orchestration overhead per host: its wall time minus raw apt's, spread over the hosts.
 *
 *   DATABASE_URL=postgres://… npx tsx bench/ssh/run.ts [--hosts 10] [--rounds 3]
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../../cli/runtime.js';
import { startTemporal } from '../../cli/temporal/start.js';
import { startHosts, type HostFleet } from '../../test/hosts/harness.js';
import { adapter, writeInventory } from '../../test/integration/ssh/fleet-adapter.js';
import { createTestDatabase } from '../../test/helpers/database.js';
import { policy, testDeps } from '../../test/helpers/deps.js';
import { connectTemporal } from '../../test/helpers/temporal.js';

const { values } = parseArgs({
  options: { hosts: { type: 'string', default: '10' }, rounds: { type: 'string', default: '3' } },
});
const HOSTS = Number(values.hosts);
const ROUNDS = Number(values.rounds);
const PKGS = ['patchops-demo-lib', 'patchops-demo-tool'];
const rollout = policy(`
scope: { level: global }
approval: { default: auto }
blocklist: [patchops-demo-fail, patchops-demo-kernel, patchops-demo-pinned]
rings:
  - { name: all, members: { percent: 100 }, soak: 0s, successThreshold: 1.0, concurrency: ${HOSTS} }
windows: []
approvers: { cli: [bench] }
circuitBreaker: { maxFailureRate: 0.99, minSamples: 100 }
reboot: { mode: never }
`);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function reset(fleet: HostFleet) {
  await Promise.all(
    fleet.hosts.map(async (h) => {
      const r = await fleet.exec(
        h,
        `DEBIAN_FRONTEND=noninteractive apt-get install -y -q --allow-downgrades patchops-demo-lib=1.0-1 patchops-demo-tool=2.0-1 >/dev/null && rm -rf /var/lib/patchops/jobs`,
      );
      if (r.code !== 0) throw new Error(`reset ${h.name}: ${r.stderr}`);
    }),
  );
}

async function check(fleet: HostFleet, what: string) {
  for (const h of fleet.hosts) {
    const v = await fleet.dpkgVersion(h, 'patchops-demo-lib');
    if (v !== '1.1-1') throw new Error(`${what}: ${h.name} has patchops-demo-lib ${v}`);
  }
}

async function rawApt(fleet: HostFleet): Promise<number> {
  const t = Date.now();
  await Promise.all(
    fleet.hosts.map((h) =>
      fleet.exec(
        h,
        `apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --only-upgrade ${PKGS.join(' ')} >/dev/null`,
      ),
    ),
  );
  return Date.now() - t;
}

function ansibleFiles(fleet: HostFleet): {
  inventory: string;
  playbook: string;
  env: NodeJS.ProcessEnv;
} {
  const dir = mkdtempSync(path.join(tmpdir(), 'patchops-bench-ansible-'));
  const inventory = path.join(dir, 'hosts.ini');
  writeFileSync(
    inventory,
    [
      '[fleet]',
      ...fleet.hosts.map(
        (h) => `${h.name} ansible_host=127.0.0.1 ansible_port=${h.port} ansible_user=root`,
      ),
    ].join('\n'),
  );
  const playbook = path.join(dir, 'upgrade.yml');
  writeFileSync(
    playbook,
    `- hosts: fleet
  gather_facts: false
  tasks:
    - name: upgrade the demo packages
      ansible.builtin.apt:
        name: [${PKGS.join(', ')}]
        state: latest
        only_upgrade: true
        update_cache: true
`,
  );
  return {
    inventory,
    playbook,
    env: {
      ...process.env,
      ANSIBLE_HOST_KEY_CHECKING: 'True',
      ANSIBLE_PRIVATE_KEY_FILE: fleet.clientKeyPath,
      ANSIBLE_SSH_ARGS: `-o UserKnownHostsFile=${fleet.knownHostsPath} -o ControlMaster=auto -o ControlPersist=60s`,
      ANSIBLE_PYTHON_INTERPRETER: 'auto_silent',
      ANSIBLE_FORKS: String(HOSTS),
    },
  };
}

const fleet = await startHosts({ count: HOSTS });
const temporal = await startTemporal({ root: PROJECT_ROOT, explicitCli: process.env.TEMPORAL_CLI });
process.env.PATCHOPS_TEST_TEMPORAL_ADDRESS = temporal.address;
const db = await createTestDatabase();
const t = await connectTemporal();
const rmm = adapter(writeInventory(fleet), fleet.knownHostsPath);
const times = { raw: [] as number[], ansible: [] as number[], patchops: [] as number[] };
try {
  const deps = testDeps(db.store, { policies: [rollout] });
  (deps as { rmm: unknown }).rmm = rmm;
  deps.timing = { jobPollMs: 500, offlineRetryMs: 60_000 };
  const a = ansibleFiles(fleet);
  await t.withWorker(deps, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      await reset(fleet);
      times.raw.push(await rawApt(fleet));
      await check(fleet, 'raw apt');

      await reset(fleet);
      let s = Date.now();
      // Asynchronously: the hosts' apt repository is served from this process.
      await promisify(execFile)(
        'ansible-playbook',
        ['-i', a.inventory, '-f', String(HOSTS), a.playbook],
        { env: a.env },
      );
      times.ansible.push(Date.now() - s);
      await check(fleet, 'ansible');

      await reset(fleet);
      s = Date.now();
      const id = `bench-ssh-${round}`;
      const h = await t.client.workflow.start('patchCycle', {
        taskQueue: t.taskQueue,
        workflowId: id,
        args: [{ rolloutId: id, clientId: 'acme', startedBy: 'bench' }],
      });
      const state = (await h.result()) as { phase: string };
      times.patchops.push(Date.now() - s);
      if (state.phase !== 'completed') throw new Error(`rollout ${id} ended ${state.phase}`);
      await check(fleet, 'patchops');
      process.stderr.write(
        `round ${round + 1}: raw ${secs(times.raw.at(-1)!)}, ansible ${secs(times.ansible.at(-1)!)}, patchops ${secs(times.patchops.at(-1)!)}\n`,
      );
    }
  });
} finally {
  rmm.close();
  await t.close();
  await db.drop();
  await temporal.stop();
  await fleet.stop();
}
const raw = median(times.raw);
const ans = median(times.ansible);
const po = median(times.patchops);
console.log(`${HOSTS} hosts, ${ROUNDS} rounds, medians (same upgrade: ${PKGS.join(', ')})\n`);
console.log('| way | wall (median) | min – max | ÷ Ansible | overhead over raw apt, per host |');
console.log('| --- | ---: | ---: | ---: | ---: |');
const row = (name: string, xs: number[]) =>
  `| ${name} | ${secs(median(xs))} | ${secs(Math.min(...xs))} – ${secs(Math.max(...xs))} | ${(median(xs) / ans).toFixed(2)}× | ${secs((median(xs) - raw) / HOSTS)} |`;
console.log(row('raw apt in every host at once (floor)', times.raw));
console.log(row('Ansible apt module, forks = hosts', times.ansible));
console.log(row('patchops rollout over SSH', times.patchops));
console.log(`\npatchops ÷ Ansible: ${(po / ans).toFixed(2)}×`);
