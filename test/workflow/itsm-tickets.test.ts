/**
 * The ticket follows the rollout, end to end with a real worker, real Temporal and real
 * PostgreSQL, for each ITSM adapter against its fake: one change per rollout, a note per
 * decision and ring, an incident on a breaker halt, the right close code — also when the
 * fake answers 500 first, 429 with Retry-After, or creates the ticket and never answers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { pino } from 'pino';
import { createHttpClient } from '../../adapters/http/client.js';
import { itsmRegistry } from '../../adapters/itsm/registry.js';
import type { ItsmAdapter } from '../../adapters/itsm/types.js';
import type { AdapterDeps } from '../../adapters/kit.js';
import { closureFor } from '../../domain/tickets.js';
import { decideUpdate, progressQuery } from '../../workflows/messages.js';
import { policy, testDeps } from '../helpers/deps.js';
import { rolloutSuite } from '../helpers/rollout-suite.js';
import { ITSM_FAKES, type ItsmFake } from '../helpers/itsm-fakes.js';

const log = pino({ level: 'silent' });
/** Short timeouts, so a create that never answers is given up on in a second. */
const deps: AdapterDeps = {
  log,
  http: (o) => createHttpClient({ ...o, log, timeoutMs: 1_500, retryBaseMs: 20 }),
  clock: () => new Date(),
  dataDir: '/tmp',
};

/** Waits for the approval card, then decides as cli:alice. */
async function decide(
  h: WorkflowHandle,
  decision: 'approve' | 'reject',
  reason: string,
): Promise<void> {
  for (let i = 0; i < 200 && (await h.query(progressQuery)).phase !== 'awaiting_approval'; i++)
    await new Promise((r) => setTimeout(r, 100));
  await h.executeUpdate(decideUpdate, {
    args: [{ decision, approver: { id: 'alice', via: 'cli' }, reason }],
  });
}

const rolloutPolicy = (o: { approval: string; breaker?: boolean }) =>
  policy(`
scope: { level: global }
approval: { default: ${o.approval} }
rings:
  - { name: pilot, members: { percent: 30 }, soak: 0s, successThreshold: 0.0, concurrency: 5 }
  - { name: broad, members: { percent: 70 }, soak: 0s, successThreshold: 0.0, concurrency: 10 }
windows: []
approvers: { cli: [alice] }
approvalTimeout: { after: 5m, remindEvery: 5m, outcome: reject }
circuitBreaker: ${o.breaker ? '{ maxFailureRate: 0.1, minSamples: 3 }' : '{ maxFailureRate: 0.99, minSamples: 100 }'}
reboot: { mode: if_required, userDeferrals: 0 }
tickets: { incidentOnFailure: true, labels: [acme-patching] }
`);

for (const vendor of ITSM_FAKES) {
  describe(`tickets follow the rollout in ${vendor.kind}`, () => {
    const s = rolloutSuite();
    let fake: ItsmFake;
    let itsm: ItsmAdapter;

    const run = async (
      id: string,
      o: { approval: string; breaker?: boolean; devices?: number },
      drive?: (h: Awaited<ReturnType<typeof s.start>>) => Promise<void>,
    ) => {
      const d = testDeps(s.db.store, {
        policies: [rolloutPolicy(o)],
        simulator: {
          clients: 1,
          devicesPerClient: o.devices ?? 10,
          knownBadPatch: !!o.breaker,
          offlineRate: 0,
        },
      });
      d.itsm = itsm;
      return s.t.withWorker(d, async () => {
        const h = await s.start(id);
        await drive?.(h);
        return h.result();
      });
    };
    const mine = (id: string) => fake.tickets().filter((t) => t.title.includes(id));

    it('opens one change, notes the decision and each ring, closes with the code', async () => {
      fake = await vendor.start();
      s.beforeTeardown(() => fake.close());
      const parsed = itsmRegistry.parseSettings(vendor.kind, vendor.env(fake.url));
      assert.ok(parsed.ok, JSON.stringify(parsed));
      itsm = itsmRegistry.create(vendor.kind, parsed.settings, deps);
      // The first create fails with a 500 the vendor did nothing for.
      fake.fault({ method: 'POST', path: vendor.createPath, status: 500 });
      const state = await run('itsm-approved', { approval: 'needs_approval' }, (h) =>
        decide(h, 'approve', 'CAB ok'),
      );
      assert.equal(state.phase, 'completed');
      const tickets = mine('itsm-approved');
      assert.equal(tickets.length, 1, JSON.stringify(tickets));
      const change = tickets[0]!;
      assert.equal(change.kind, 'change');
      const notes = change.comments.join('\n');
      assert.match(notes, /approve by cli:alice .*CAB ok/);
      assert.match(notes, /Ring pilot: \d+ of \d+ devices done/);
      assert.match(notes, /Ring broad: \d+ of \d+ devices done/);
      const { tally } = await s.db.store.tickets.facts('itsm-approved', 0);
      const expected = closureFor('completed', tally, 'all rings done');
      assert.equal(change.closeCode, expected.code);
      assert.match(change.state, vendor.closedState);
      const rows = await s.db.store.tickets.ofRollout('itsm-approved');
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.status, 'closed');
      assert.ok(rows[0]!.url, 'a link for cards and status');
    });

    it('a rejection cancels the change, with the decision noted', async () => {
      const state = await run('itsm-reject', { approval: 'needs_approval' }, (h) =>
        decide(h, 'reject', 'freeze'),
      );
      assert.equal(state.phase, 'rejected');
      const [change, ...more] = mine('itsm-reject');
      assert.ok(change && more.length === 0);
      assert.match(change.state, vendor.cancelledState);
      assert.match(change.comments.join('\n'), /reject by cli:alice .*freeze/);
      assert.equal((await s.db.store.tickets.ofRollout('itsm-reject'))[0]?.status, 'cancelled');
    });

    it('a 429 with Retry-After on the create is waited out: still one change', async () => {
      fake.fault({ method: 'POST', path: vendor.createPath, status: 429, retryAfterSeconds: 1 });
      const state = await run('itsm-429', { approval: 'auto' });
      assert.equal(state.phase, 'completed');
      assert.equal(mine('itsm-429').length, 1);
      assert.match(mine('itsm-429')[0]!.state, vendor.closedState);
    });

    it('a create that is made but never answered is found by the retry: still one', async () => {
      fake.fault({ method: 'POST', path: vendor.createPath, commitThenHang: true });
      const state = await run('itsm-hang', { approval: 'auto' });
      assert.equal(state.phase, 'completed');
      const tickets = mine('itsm-hang');
      assert.equal(
        tickets.length,
        1,
        JSON.stringify({
          tickets,
          requests: fake.requests
            ?.filter((r) => /change_request$|issues$|issue$/.test(r.path))
            .map((r) => `${r.method} ${r.path} ${JSON.stringify(r.query)} ${r.status} ${r.at}`),
        }),
      );
      assert.equal(tickets[0]!.kind, 'change');
    });

    it('a circuit-breaker halt opens an incident linked to the change and closes it unsuccessful', async () => {
      const state = await run('itsm-breaker', { approval: 'auto', breaker: true, devices: 40 });
      assert.equal(state.phase, 'halted');
      const tickets = mine('itsm-breaker');
      const change = tickets.find((t) => t.kind === 'change');
      const incidents = fake.tickets().filter((t) => t.kind === 'incident');
      assert.ok(change, JSON.stringify(tickets));
      const linked = incidents.filter(
        (i) => i.linkedTo === change.id || i.linkedTo === change.number,
      );
      assert.equal(linked.length, 1, JSON.stringify(incidents));
      assert.equal(change.closeCode, 'unsuccessful');
      assert.equal((await s.db.store.tickets.ofRollout('itsm-breaker')).length, 2);
    });
  });
}
