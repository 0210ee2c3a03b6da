/**
 * How many ITSM API calls one rollout makes, per adapter: a rollout of N simulated devices
 * (default 1,000) in two rings with a CLI approval, against each vendor's fake, counting
 * the requests the fake received by method. Ticket traffic grows with decisions and
 * rings, not with devices; the run at two sizes shows it.
 *
 *   DATABASE_URL=postgres://… npx tsx bench/itsm/calls.ts [--devices 100,1000]
 */
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createHttpClient } from '../../adapters/http/client.js';
import { itsmRegistry } from '../../adapters/itsm/registry.js';
import { PROJECT_ROOT } from '../../cli/runtime.js';
import { startTemporal } from '../../cli/temporal/start.js';
import { decideUpdate, progressQuery } from '../../workflows/messages.js';
import { policy, testDeps } from '../../test/helpers/deps.js';
import { createTestDatabase } from '../../test/helpers/database.js';
import { ITSM_FAKES } from '../../test/helpers/itsm-fakes.js';
import { connectTemporal } from '../../test/helpers/temporal.js';

const { values } = parseArgs({ options: { devices: { type: 'string', default: '100,1000' } } });
const sizes = values.devices.split(',').map(Number);
const log = pino({ level: 'silent' });
const rollout = policy(`
scope: { level: global }
approval: { default: needs_approval }
rings:
  - { name: pilot, members: { percent: 10 }, soak: 0s, successThreshold: 0.0, concurrency: 200 }
  - { name: broad, members: { percent: 90 }, soak: 0s, successThreshold: 0.0, concurrency: 200 }
windows: []
approvers: { cli: [alice] }
approvalTimeout: { after: 1h, remindEvery: 1h, outcome: reject }
circuitBreaker: { maxFailureRate: 0.99, minSamples: 100 }
reboot: { mode: never }
`);

const temporal = await startTemporal({ root: PROJECT_ROOT, explicitCli: process.env.TEMPORAL_CLI });
process.env.PATCHOPS_TEST_TEMPORAL_ADDRESS = temporal.address;
const rows: string[] = [];
try {
  for (const devices of sizes) {
    for (const vendor of ITSM_FAKES) {
      const db = await createTestDatabase();
      const t = await connectTemporal();
      const fake = await vendor.start();
      try {
        const parsed = itsmRegistry.parseSettings(vendor.kind, vendor.env(fake.url));
        if (!parsed.ok) throw new Error(parsed.problems.join('; '));
        const deps = testDeps(db.store, {
          policies: [rollout],
          simulator: {
            clients: 1,
            devicesPerClient: devices,
            knownBadPatch: false,
            offlineRate: 0,
          },
        });
        deps.itsm = itsmRegistry.create(vendor.kind, parsed.settings, {
          log,
          http: (o) => createHttpClient({ ...o, log }),
          clock: () => new Date(),
          dataDir: '/tmp',
        });
        const started = Date.now();
        await t.withWorker(deps, async () => {
          const id = `bench-${vendor.kind}-${devices}`;
          const h = await t.client.workflow.start('patchCycle', {
            taskQueue: t.taskQueue,
            workflowId: id,
            args: [{ rolloutId: id, clientId: 'acme', startedBy: 'bench' }],
          });
          while ((await h.query(progressQuery)).phase !== 'awaiting_approval')
            await new Promise((r) => setTimeout(r, 200));
          await h.executeUpdate(decideUpdate, {
            args: [{ decision: 'approve', approver: { id: 'alice', via: 'cli' } }],
          });
          await h.result();
        });
        const reqs = fake.requests ?? [];
        const by = (m: string) => reqs.filter((r) => r.method === m).length;
        rows.push(
          `| ${vendor.kind} | ${devices} | ${by('GET')} | ${by('POST')} | ${by('PATCH')} | ${by('PUT')} | ${reqs.length} | ${((Date.now() - started) / 1000).toFixed(0)} s |`,
        );
        process.stderr.write(`${rows.at(-1)}\n`);
      } finally {
        await fake.close();
        await t.close();
        await db.drop();
      }
    }
  }
} finally {
  await temporal.stop();
}
console.log('| ITSM | devices | GET | POST | PATCH | PUT | calls | rollout wall |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(r);
