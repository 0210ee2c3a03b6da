/** The nearest-rank percentile q (0..1] of xs; NaN when empty. */
export function percentile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.max(0, Math.ceil(q * s.length) - 1)]! : NaN;
}

export const median = (xs: readonly number[]): number => percentile(xs, 0.5);
