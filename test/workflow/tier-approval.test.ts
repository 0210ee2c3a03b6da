import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressQuery, promoteUpdate } from '../../workflows/messages.js';
import { policy, testDeps } from '../helpers/deps.js';
import { rolloutSuite } from '../helpers/rollout-suite.js';

// The README's example: the 3-day tiers reach the pilot without asking, broad waits for a human.
const tierPolicy = policy(`
scope: { level: global }
approval:
  default: auto
  rules:
    - { tiers: [forensic, act], rings: [pilot], action: auto }
    - { tiers: [forensic, act], action: needs_approval }
rings:
  - { name: pilot, members: { percent: 30 }, soak: 1s, successThreshold: 0.5, concurrency: 5 }
  - { name: broad, members: { percent: 70 }, soak: 0s, successThreshold: 0.5, concurrency: 10 }
windows: []
approvers: { cli: [alice] }
approvalTimeout: { after: 1m, remindEvery: 30s, outcome: reject }
circuitBreaker: { maxFailureRate: 0.9, minSamples: 5 }
reboot: { mode: if_required, userDeferrals: 0 }
`);

describe('approval by risk tier and ring (simulator, Temporal)', () => {
  const s = rolloutSuite();

  it('deploys the 3-day tiers to the pilot at once and asks before broad', async () => {
    const deps = testDeps(s.db.store, {
      policies: [tierPolicy],
      simulator: { clients: 1, devicesPerClient: 12, knownBadPatch: false, offlineRate: 0 },
    });
    const state = await s.t.withWorker(deps, async () => {
      const handle = await s.start('tier-pilot');
      let progress = await handle.query(progressQuery);
      for (let i = 0; i < 600 && progress.phase !== 'awaiting_promotion'; i++) {
        assert.notEqual(progress.phase, 'awaiting_approval', 'the pilot needs no approval');
        assert.notEqual(progress.phase, 'completed', 'broad must wait for a promotion');
        await new Promise((r) => setTimeout(r, 100));
        progress = await handle.query(progressQuery);
      }
      assert.equal(progress.phase, 'awaiting_promotion');
      const [pilot, broad] = progress.rings;
      assert.ok(pilot && broad && pilot.total > 0 && broad.total > 0, JSON.stringify(progress));
      assert.equal(pilot.started, pilot.total);
      assert.equal(broad.started, 0, 'nothing reaches broad before the promotion');
      await handle.executeUpdate(promoteUpdate, {
        args: [{ ring: 'broad', approver: { id: 'alice', via: 'cli' } }],
      });
      return handle.result();
    });
    assert.equal(state.phase, 'completed');
    assert.equal(state.rings[1]?.started, state.rings[1]?.total);
    // Broad waited because a forensic/act patch sits on its devices.
    const broadTiers = await s.db.pool.query<{ risk_tier: string }>(
      `select distinct dp.risk_tier from rollout_devices rd
       join device_patches dp on dp.device_id = rd.device_id and dp.patch_id = any(rd.patch_ids)
       where rd.rollout_id = 'tier-pilot' and rd.ring = 'broad'`,
    );
    assert.ok(
      broadTiers.rows.some((r) => r.risk_tier === 'forensic' || r.risk_tier === 'act'),
      JSON.stringify(broadTiers.rows),
    );
    // Nobody approved the rollout; alice's promotion is the one human decision.
    const decisions = await s.db.store.records.approvals('tier-pilot');
    assert.deepEqual(
      decisions.map((d) => d.decision),
      ['promote'],
    );
    assert.ok(deps.notices.some((n) => n.kind === 'promotion_request'));
  });
});
