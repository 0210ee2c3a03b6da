/**
 * Seeded randomness for the simulated fleet. Two tools on purpose:
 *
 * - `stream(seed, ...labels)` — a mulberry32 sequence, used to *build* things in order
 *   (a client's sites and devices). One stream per client, so adding a client never
 *   reshuffles the others.
 * - `chance(seed, ...labels)` — a number in [0, 1) derived only from its labels, used for
 *   *decisions* (is this device offline, does this install fail). It does not depend on
 *   call order, so a retried activity or a restarted worker sees the same outcome.
 */

/** FNV-1a over the UTF-16 code units, then murmur3's finaliser to spread nearby inputs. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function key(seed: number, labels: readonly (string | number)[]): string {
  return `${seed}|${labels.join('|')}`;
}

/** A value in [0, 1) fixed by the seed and the labels alone. */
export function chance(seed: number, ...labels: (string | number)[]): number {
  return hash32(key(seed, labels)) / 2 ** 32;
}

export interface Stream {
  /** Next value in [0, 1). */
  next(): number;
  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** One key of a table of weights (need not sum to 1). */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K;
}

/** A mulberry32 sequence seeded from the seed and labels. */
export function stream(seed: number, ...labels: (string | number)[]): Stream {
  let state = hash32(key(seed, labels));
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const pick = <T>(items: readonly T[]): T => {
    const item = items[Math.floor(next() * items.length)];
    if (item === undefined) throw new Error('pick() needs a non-empty list');
    return item;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick,
    weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
      const entries = Object.entries(weights) as [K, number][];
      const total = entries.reduce((sum, [, w]) => sum + w, 0);
      let roll = next() * total;
      for (const [k, w] of entries) {
        roll -= w;
        if (roll < 0) return k;
      }
      // Floating-point rounding can leave a sliver past the last bucket.
      const last = entries.at(-1);
      if (last === undefined) throw new Error('weighted() needs at least one weight');
      return last[0];
    },
  };
}
