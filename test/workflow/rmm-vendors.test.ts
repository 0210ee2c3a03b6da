/**
 * Whole rollouts on each real RMM adapter against its stateful fake, with a real worker,
 * real Temporal and real PostgreSQL: scan, plan, CLI approval, two rings, verify by rescan.
 * Every device is installed on exactly once, also when the install request first gets a
 * 500, a 429 with Retry-After, or is carried out and never answered (the activity retries
 * with RetryHints and the adapter looks before installing again). What the store records
 * per device and patch is what the vendor's fake says.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it, type TestContext } from 'node:test';
import { pino } from 'pino';
import type { ActivityDeps } from '../../activities/index.js';
import { createHttpClient } from '../../adapters/http/client.js';
import type { AdapterDeps } from '../../adapters/kit.js';
import { rmmRegistry } from '../../adapters/rmm/registry.js';
import type { RmmAdapter } from '../../adapters/rmm/types.js';
import { decideUpdate, progressQuery } from '../../workflows/messages.js';
import { policy, testDeps } from '../helpers/deps.js';
import { rolloutSuite, type RolloutSuite } from '../helpers/rollout-suite.js';
import { RMM_FAKES, type RmmFake, type RmmFakeOptions } from '../helpers/rmm-fakes.js';

const log = pino({ level: 'silent' });
/** Workflow ids must be new on the shared Temporal server at every run. */
const RUN = randomBytes(3).toString('hex');
/** Short timeouts, so an install that is never answered is given up on in a second and a half. */
const deps: AdapterDeps = {
  log,
  http: (o) => createHttpClient({ ...o, log, timeoutMs: 1_500, retryBaseMs: 20 }),
  clock: () => new Date(),
  dataDir: '/tmp',
};

const rolloutPolicy = (o: { approval: string; reboot: string; blocked: string }) =>
  policy(`
scope: { level: global }
approval: { default: ${o.approval} }
blocklist: [${o.blocked}]
rings:
  - { name: pilot, members: { percent: 30 }, soak: 0s, successThreshold: 0.0, concurrency: 5 }
  - { name: broad, members: { percent: 70 }, soak: 0s, successThreshold: 0.0, concurrency: 5 }
windows: []
approvers: { cli: [alice] }
approvalTimeout: { after: 5m, remindEvery: 5m, outcome: reject }
circuitBreaker: { maxFailureRate: 0.99, minSamples: 100 }
reboot: { mode: ${o.reboot}, userDeferrals: 0 }
`);

/** Requests per device (and per endpoint) the fake saw, for the report. */
function callsPerDevice(fake: RmmFake, devices: number): string {
  const byEndpoint = new Map<string, number>();
  let perDevice = 0;
  let fleet = 0;
  for (const r of fake.requests) {
    const device = fake.deviceOf(r);
    if (device === undefined) {
      fleet++;
      continue;
    }
    perDevice++;
    const endpoint = `${r.method} ${r.path.replace(/\/(\d+|[a-z0-9-]{40})\//, '/{id}/')}`;
    byEndpoint.set(endpoint, (byEndpoint.get(endpoint) ?? 0) + 1);
  }
  const parts = [...byEndpoint]
    .sort()
    .map(([e, n]) => `${e} ${(n / devices).toFixed(1)}`)
    .join('; ');
  return `${(perDevice / devices).toFixed(1)} calls/device (+${fleet} fleet-wide): ${parts}`;
}

for (const vendor of RMM_FAKES) {
  describe(`rollouts on ${vendor.kind} against its fake`, () => {
    /**
     * One scenario: its own database (the fleet's ids repeat in every fresh fake, and a
     * store that remembers another fleet's installs would plan differently) and task queue.
     */
    const scenario = (
      name: string,
      body: (s: RolloutSuite, t: TestContext) => Promise<void>,
    ): void => {
      describe(name, () => {
        const s = rolloutSuite();
        s.beforeTeardown(async () => {
          for (const f of fakes.splice(0)) await f.close();
        });
        it(name, (t) => body(s, t));
      });
    };
    const fakes: RmmFake[] = [];

    const startFake = async (o?: RmmFakeOptions) => {
      const fake = await vendor.start(o);
      fakes.push(fake);
      const parsed = rmmRegistry.parseSettings(vendor.kind, vendor.env(fake));
      assert.ok(parsed.ok, JSON.stringify(parsed));
      const settings = { ...(parsed.settings as object), ...vendor.fastSettings };
      return { fake, rmm: rmmRegistry.create(vendor.kind, settings, deps) };
    };

    const run = async (
      s: RolloutSuite,
      id: string,
      rmm: RmmAdapter,
      o: { approval: 'auto' | 'needs_approval'; reboot: 'never' | 'if_required' },
    ) => {
      const d: ActivityDeps = {
        ...testDeps(s.db.store, {
          policies: [rolloutPolicy({ ...o, blocked: vendor.blocked })],
        }),
        rmm,
      };
      return s.t.withWorker(d, async () => {
        const h = await s.start(id, vendor.clientId);
        if (o.approval === 'needs_approval') {
          for (
            let i = 0;
            i < 300 && (await h.query(progressQuery)).phase !== 'awaiting_approval';
            i++
          )
            await new Promise((r) => setTimeout(r, 100));
          await h.executeUpdate(decideUpdate, {
            args: [{ decision: 'approve', approver: { id: 'alice', via: 'cli' }, reason: 'ok' }],
          });
        }
        return h.result();
      });
    };

    /** Each device installed on once (per family for NinjaOne), and the store says what the vendor says. */
    const assertOnceAndRecorded = async (
      s: RolloutSuite,
      t: TestContext,
      rolloutId: string,
      fake: RmmFake,
    ) => {
      const devices = fake.deviceIds();
      const runs = fake.installRuns();
      for (const [key, n] of runs) assert.equal(n, 1, `${key} installed ${n} times`);
      for (const d of devices)
        assert.ok(
          [...runs.keys()].some((k) => k === d || k.startsWith(`${d}|`)),
          `${d} never installed: ${JSON.stringify([...runs])}`,
        );
      const outcomes = await s.db.pool.query<{ device_id: string; status: string }>(
        'select device_id, status from rollout_devices where rollout_id = $1',
        [rolloutId],
      );
      assert.deepEqual(
        outcomes.rows.map((r) => r.device_id).sort(),
        [...devices].sort(),
        'every patchable device is in the rollout',
      );
      for (const r of outcomes.rows) assert.equal(r.status, 'succeeded', r.device_id);
      const rows = await s.db.pool.query<{ device_id: string; patch_id: string; state: string }>(
        'select device_id, patch_id, state from device_patches where device_id = any($1)',
        [devices],
      );
      for (const d of devices) {
        const mine = rows.rows.filter((r) => r.device_id === d);
        assert.ok(mine.length > 0, `${d}: the scan recorded nothing`);
        const vendorSays = fake.vendorStates(d);
        // Every patch the store tracks (what a scan found missing) is where the vendor says;
        // one installed before patchops first looked has no row, which is fine.
        const stored = Object.fromEntries(mine.map((r) => [r.patch_id, r.state]));
        const expected = Object.fromEntries(
          mine.map((r) => [
            r.patch_id,
            vendorSays.get(r.patch_id) ??
              (r.patch_id.endsWith(vendor.blocked) ? 'excluded' : 'missing'),
          ]),
        );
        assert.deepEqual(stored, expected, `device ${d}: store vs ${vendor.kind}`);
        assert.ok(
          ![...vendorSays.keys()].some((p) => p.endsWith(vendor.blocked)),
          `${d}: the blocklisted ${vendor.blocked} was installed`,
        );
      }
      t.diagnostic(`${vendor.kind} ${rolloutId}: ${callsPerDevice(fake, devices.length)}`);
    };

    scenario(
      'scans, waits for a CLI approval, deploys pilot then broad, verifies: once per device',
      async (s, t) => {
        const { fake, rmm } = await startFake();
        // A technician approved the blocklisted update in the vendor's console: patchops
        // must still leave it out (Tactical withdraws approvals it did not give).
        const first = fake.deviceIds()[0]!;
        fake.approveInVendor?.(first, vendor.blocked);
        const state = await run(s, `${vendor.kind}-happy-${RUN}`, rmm, {
          approval: 'needs_approval',
          reboot: 'never',
        });
        assert.equal(state.phase, 'completed', JSON.stringify(state));
        const [pilot, broad] = state.rings;
        assert.ok(pilot && broad, JSON.stringify(state.rings));
        assert.ok(pilot.total > 0 && broad.total > 0, JSON.stringify(state.rings));
        assert.equal(pilot.started, pilot.total);
        assert.equal(broad.started, broad.total);
        assert.deepEqual(await s.db.store.records.approvals(`${vendor.kind}-happy-${RUN}`), [
          { decision: 'approve', decidedBy: 'cli:alice', via: 'cli' },
        ]);
        await assertOnceAndRecorded(s, t, `${vendor.kind}-happy-${RUN}`, fake);
        const pending = fake.deviceIds().flatMap((d) => [...fake.vendorStates(d).values()]);
        assert.ok(pending.includes('pending_reboot'), 'reboot: never leaves installs pending');
      },
    );

    const faults = [
      ['500', 'a 500 on the install, then success', { status: 500, times: 2 }],
      ['429', 'a 429 with Retry-After on the install', { status: 429, retryAfterSeconds: 1 }],
      ['hang', 'an install carried out but never answered', { commitThenHang: true, times: 2 }],
    ] as const;
    for (const [tag, name, fault] of faults) {
      scenario(`${name}: still installed once per device`, async (s, t) => {
        const { fake, rmm } = await startFake();
        fake.fault({ method: 'POST', path: vendor.installPath, ...fault });
        const id = `${vendor.kind}-${tag}-${RUN}`;
        const state = await run(s, id, rmm, { approval: 'auto', reboot: 'if_required' });
        assert.equal(state.phase, 'completed', JSON.stringify(state));
        const hit = fake.requests.filter(
          (r) => r.method === 'POST' && vendor.installPath.test(r.path),
        );
        assert.ok(
          hit.some((r) => r.status === ('status' in fault ? fault.status : 0)),
          'the fault was hit',
        );
        await assertOnceAndRecorded(s, t, id, fake);
        // if_required rebooted every device that waited: nothing is pending any more.
        for (const d of fake.deviceIds())
          assert.ok(![...fake.vendorStates(d).values()].includes('pending_reboot'), d);
      });
    }

    if (vendor.kind === 'tacticalrmm') {
      scenario(
        'an auto-approving Tactical policy: devices fail with CONFIG_INVALID, nothing installed',
        async (s) => {
          const { fake, rmm } = await startFake({ autoApprove: true });
          const id = `tacticalrmm-autoapprove-${RUN}`;
          const state = await run(s, id, rmm, { approval: 'auto', reboot: 'never' });
          assert.notEqual(state.phase, 'awaiting_approval');
          assert.equal(fake.installRuns().size, 0, JSON.stringify([...fake.installRuns()]));
          assert.equal(
            fake.requests.filter((r) => vendor.installPath.test(r.path)).length,
            0,
            'install/ never sent',
          );
          const rows = await s.db.pool.query<{
            device_id: string;
            status: string;
            outcome: { reason?: string };
          }>('select device_id, status, outcome from rollout_devices where rollout_id = $1', [id]);
          assert.equal(rows.rowCount, fake.deviceIds().length);
          for (const r of rows.rows) {
            assert.equal(r.status, 'failed', r.device_id);
            assert.match(
              r.outcome.reason ?? '',
              /auto-approves critical, important updates: set them to Manual/,
            );
          }
        },
      );
    }
  });
}
