import type { CvssMetric } from './types.js';

const VERSION_RANK: Record<CvssMetric['version'], number> = { '4.0': 0, '3.1': 1, '3.0': 2 };
const TYPE_RANK: Record<CvssMetric['type'], number> = { Primary: 0, Secondary: 1 };

/**
 * The metric scoring uses: the newest CVSS version NVD lists (4.0, then 3.1, then 3.0),
 * and within a version NVD's own assessment (Primary) before a CNA's (Secondary). Among
 * equals the first listed wins, as NVD orders them.
 */
export function chooseCvss(metrics: readonly CvssMetric[]): CvssMetric | null {
  let best: CvssMetric | null = null;
  for (const m of metrics) {
    if (
      !best ||
      VERSION_RANK[m.version] < VERSION_RANK[best.version] ||
      (VERSION_RANK[m.version] === VERSION_RANK[best.version] &&
        TYPE_RANK[m.type] < TYPE_RANK[best.type])
    )
      best = m;
  }
  return best;
}
