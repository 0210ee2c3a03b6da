import type { Device } from './model.js';

/**
 * Ring planning: which devices get a patch first. Pure and deterministic so a workflow can
 * recompute the plan on replay and get the same answer.
 */

/** Who belongs to a ring: devices carrying any of these tags, or a share of the rest. */
export type RingMembers = { groups: string[] } | { percent: number };

/** A ring as a policy defines it; other fields (soak, gate …) pass through untouched. */
export interface RingDefinition {
  name: string;
  members: RingMembers;
}

/** What ring planning needs to know about a device. */
export type RingDevice = Pick<Device, 'id' | 'tags'>;

/**
 * Device ids per ring name, each list sorted. A plain record rather than a Map because
 * plans cross Temporal payloads, which are JSON (a Map would arrive as `{}`). Every ring
 * has a key, possibly with an empty list; rollout order is the order of the definitions.
 */
export type RingAssignment = Record<string, string[]>;

/**
 * A stable number in [0, 100) for a key: FNV-1a over the key's UTF-8 bytes, then
 * MurmurHash3's finaliser because FNV alone spreads near-identical ids ("ws-0001",
 * "ws-0002") poorly in its high bits. Hand-written because workflows may not use crypto.
 */
export function stableBucket(key: string): number {
  let h = 0x811c9dc5;
  for (const byte of utf8(key)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return ((h >>> 0) / 0x1_0000_0000) * 100;
}

// TextEncoder is not guaranteed in every sandbox; UTF-8 by hand is a few lines.
function* utf8(text: string): Generator<number> {
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp < 0x80) yield cp;
    else if (cp < 0x800) yield* [0xc0 | (cp >> 6), 0x80 | (cp & 63)];
    else if (cp < 0x10000) yield* [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
    else {
      yield* [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63)];
      yield 0x80 | (cp & 63);
    }
  }
}

function validate(rings: readonly RingDefinition[]): void {
  if (rings.length === 0) throw new Error('rings: define at least one ring');
  const names = new Set<string>();
  let total = 0;
  for (const [i, ring] of rings.entries()) {
    if (!ring.name) throw new Error(`rings[${i}].name must not be empty`);
    if (names.has(ring.name)) throw new Error(`rings[${i}].name "${ring.name}" is used twice`);
    names.add(ring.name);
    if ('percent' in ring.members) {
      const p = ring.members.percent;
      if (!Number.isFinite(p) || p <= 0 || p > 100) {
        throw new Error(`rings[${i}] "${ring.name}": percent must be > 0 and ≤ 100, got ${p}`);
      }
      total += p;
    }
  }
  // A little slack for fractions like 33.3 + 33.3 + 33.4 written in decimal.
  if (total > 100 + 1e-9) {
    throw new Error(`rings: percentages add up to ${total}, more than 100`);
  }
}

/**
 * Assigns every device to exactly one ring.
 *
 * 1. Group rings, in order, take the still-unassigned devices that carry any of their tags.
 * 2. Percentage rings split the remaining devices by `stableBucket(salt + ":" + id)` into
 *    consecutive ranges in ring order (10 % → [0, 10), then 30 % → [10, 40) …).
 * 3. Whatever is left (percentages under 100, or tags no group ring names) goes to the last
 *    ring, so nobody is silently left unpatched.
 *
 * A device's ring depends only on its own id, tags and the salt, so adding devices never
 * moves existing ones; change the salt to reshuffle who is in the pilot.
 */
export function assignRings(
  rings: readonly RingDefinition[],
  devices: readonly RingDevice[],
  salt: string,
): RingAssignment {
  const locate = ringLocator(rings, salt);
  const out: RingAssignment = {};
  for (const ring of rings) out[ring.name] = [];
  const seen = new Set<string>();
  for (const device of devices) {
    if (seen.has(device.id)) throw new Error(`devices: id "${device.id}" appears twice`);
    seen.add(device.id);
    out[locate(device)]?.push(device.id);
  }
  for (const ids of Object.values(out)) ids.sort(); // code-unit order: locale-independent
  return out;
}

/**
 * The ring of one device, by the rules of assignRings (which it agrees with for every
 * device, since a device's ring depends only on itself and the salt). Validates once.
 */
export function ringLocator(
  rings: readonly RingDefinition[],
  salt: string,
): (device: RingDevice) => string {
  validate(rings);
  // Upper bounds of the percentage ranges, in ring order.
  const ranges: { name: string; upTo: number }[] = [];
  let upTo = 0;
  for (const ring of rings) {
    if ('percent' in ring.members) {
      upTo += ring.members.percent;
      ranges.push({ name: ring.name, upTo });
    }
  }
  const lastRing = rings[rings.length - 1]?.name ?? '';
  return (device) => ringOf(device, rings, ranges, salt) ?? lastRing;
}

function ringOf(
  device: RingDevice,
  rings: readonly RingDefinition[],
  ranges: readonly { name: string; upTo: number }[],
  salt: string,
): string | undefined {
  for (const ring of rings) {
    if ('groups' in ring.members && ring.members.groups.some((g) => device.tags.includes(g))) {
      return ring.name;
    }
  }
  const bucket = stableBucket(`${salt}:${device.id}`);
  return ranges.find((r) => bucket < r.upTo)?.name;
}

/**
 * Where a rollout asks a human, from which rings hold a device × patch pair that needs
 * approval. When the first ring with devices does, the rollout waits for approval before
 * it starts and that approval covers every ring (as before ring-specific rules). Otherwise
 * it starts at once and each later ring that needs approval waits for a promotion: the
 * ring before it gets `promotion: manual`. Returns those ring indices.
 */
export function approvalGates(
  ringSizes: readonly number[],
  needsApproval: readonly boolean[],
): { upfront: boolean; manualAfter: number[] } {
  const first = ringSizes.findIndex((n) => n > 0);
  if (first < 0) return { upfront: false, manualAfter: [] };
  if (needsApproval[first]) return { upfront: true, manualAfter: [] };
  const manualAfter: number[] = [];
  for (let i = first + 1; i < ringSizes.length; i++) {
    if ((ringSizes[i] ?? 0) > 0 && needsApproval[i]) manualAfter.push(i - 1);
  }
  return { upfront: false, manualAfter };
}
