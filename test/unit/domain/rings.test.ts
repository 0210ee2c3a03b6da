import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assignRings,
  stableBucket,
  type RingDefinition,
  type RingDevice,
} from '../../../domain/rings.js';

const fleet = (n: number, from = 0): RingDevice[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `dev-${String(from + i).padStart(5, '0')}`,
    tags: [],
  }));

const standard: RingDefinition[] = [
  { name: 'pilot', members: { percent: 10 } },
  { name: 'first', members: { percent: 30 } },
  { name: 'broad', members: { percent: 60 } },
];

function ringByDevice(plan: Record<string, string[]>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [ring, ids] of Object.entries(plan)) for (const id of ids) out.set(id, ring);
  return out;
}

describe('stableBucket', () => {
  it('is deterministic and in [0, 100)', () => {
    assert.equal(stableBucket('salt:dev-1'), stableBucket('salt:dev-1'));
    assert.notEqual(stableBucket('salt:dev-1'), stableBucket('salt:dev-2'));
    for (const key of ['', 'a', 'ünïcødé', '🚀', 'x'.repeat(1000)]) {
      const b = stableBucket(key);
      assert.ok(b >= 0 && b < 100, `${key}: ${b}`);
    }
  });

  it('pins values so the hash cannot change silently (that would reshuffle every fleet)', () => {
    // Cross-checked against an independent Python FNV-1a + fmix32 over UTF-8 bytes.
    assert.equal(stableBucket('acme:dev-00001').toFixed(6), '24.888355');
    assert.equal(stableBucket('').toFixed(6), '66.892219');
    assert.equal(stableBucket('ünïcødé🚀').toFixed(6), '24.203942');
  });
});

describe('assignRings', () => {
  it('is deterministic and sorts ids', () => {
    const devices = fleet(500);
    const a = assignRings(standard, devices, 'acme');
    const b = assignRings(standard, [...devices].reverse(), 'acme');
    assert.deepEqual(a, b);
    for (const ids of Object.values(a)) assert.deepEqual(ids, [...ids].sort());
    assert.deepEqual(Object.keys(a), ['pilot', 'first', 'broad']);
  });

  it('splits 10,000 devices within ±3 % of the requested shares', () => {
    const plan = assignRings(standard, fleet(10_000), 'acme');
    const share = (ring: string): number => ((plan[ring]?.length ?? 0) / 10_000) * 100;
    assert.ok(Math.abs(share('pilot') - 10) <= 3, `pilot ${share('pilot')}`);
    assert.ok(Math.abs(share('first') - 30) <= 3, `first ${share('first')}`);
    assert.ok(Math.abs(share('broad') - 60) <= 3, `broad ${share('broad')}`);
  });

  it('a different salt picks a different pilot', () => {
    const devices = fleet(1000);
    assert.notDeepEqual(
      assignRings(standard, devices, 'acme').pilot,
      assignRings(standard, devices, 'globex').pilot,
    );
  });

  it('group membership wins over percentages, first matching group ring first', () => {
    const rings: RingDefinition[] = [
      { name: 'canary', members: { percent: 50 } },
      { name: 'it', members: { groups: ['it-staff'] } },
      { name: 'servers', members: { groups: ['servers', 'it-staff'] } },
      { name: 'rest', members: { percent: 50 } },
    ];
    const devices: RingDevice[] = [
      ...fleet(200),
      { id: 'admin-1', tags: ['it-staff', 'servers'] },
      { id: 'db-1', tags: ['servers'] },
    ];
    const plan = assignRings(rings, devices, 'acme');
    assert.deepEqual(plan.it, ['admin-1']);
    assert.deepEqual(plan.servers, ['db-1']);
    assert.equal((plan.canary?.length ?? 0) + (plan.rest?.length ?? 0), 200);
  });

  it('adding devices does not move existing ones', () => {
    const before = ringByDevice(assignRings(standard, fleet(2000), 'acme'));
    const after = ringByDevice(assignRings(standard, fleet(5000, 0), 'acme'));
    for (const [id, ring] of before) assert.equal(after.get(id), ring, id);
  });

  it('puts every device in exactly one ring; leftovers go to the last ring', () => {
    const rings: RingDefinition[] = [
      { name: 'pilot', members: { percent: 10 } },
      { name: 'vip', members: { groups: ['vip'] } },
      { name: 'first', members: { percent: 20 } },
      { name: 'broad', members: { groups: ['kiosk'] } },
    ];
    const devices = [...fleet(3000), { id: 'ceo', tags: ['vip'] }];
    const plan = assignRings(rings, devices, 'acme');
    const all = Object.values(plan).flat();
    assert.equal(all.length, devices.length);
    assert.equal(new Set(all).size, devices.length);
    // 70 % fall outside the percentage ranges and land in the last ring.
    const broad = plan.broad?.length ?? 0;
    assert.ok(Math.abs(broad / 3000 - 0.7) <= 0.03, `broad ${broad}`);
  });

  it('keeps a key for an empty ring', () => {
    const plan = assignRings(
      [
        { name: 'pilot', members: { groups: ['nobody'] } },
        { name: 'broad', members: { percent: 100 } },
      ],
      fleet(3),
      's',
    );
    assert.deepEqual(plan.pilot, []);
    assert.equal(plan.broad?.length, 3);
  });

  it('accepts ring definitions with extra fields', () => {
    const rings = [{ name: 'all', members: { percent: 100 }, soak: '24h', gate: 0.95 }];
    assert.equal(assignRings(rings, fleet(5), 's').all?.length, 5);
  });

  it('rejects bad definitions with a clear message', () => {
    const devices = fleet(1);
    assert.throws(() => assignRings([], devices, 's'), /at least one ring/);
    assert.throws(
      () =>
        assignRings(
          [
            { name: 'a', members: { percent: 60 } },
            { name: 'b', members: { percent: 50 } },
          ],
          devices,
          's',
        ),
      /add up to 110/,
    );
    assert.throws(
      () => assignRings([{ name: 'a', members: { percent: 0 } }], devices, 's'),
      /rings\[0\] "a": percent/,
    );
    assert.throws(
      () =>
        assignRings(
          [
            { name: 'a', members: { percent: 10 } },
            { name: 'a', members: { percent: 10 } },
          ],
          devices,
          's',
        ),
      /used twice/,
    );
    assert.throws(() => assignRings(standard, [...devices, ...devices], 's'), /appears twice/);
  });
});
