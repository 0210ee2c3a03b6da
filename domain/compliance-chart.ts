import type { TopLevelSpec } from 'vega-lite';

/** One day of a client's compliance history, as the chart draws it. */
export interface ChartPoint {
  /** YYYY-MM-DD. */
  day: string;
  /** 0..1; null when the client had no devices that day. */
  complianceRate: number | null;
  /** Open device × patch pairs of CISA KEV-listed patches. */
  openKev: number;
}

const RATE = '#1f77b4';
const KEV = '#d62728';

/**
 * A Vega-Lite spec of a client's compliance rate (left axis, %) and open KEV exposure (right
 * axis, pairs) over time. Pure data: rendered to PNG by activities/chart-render.ts, so
 * anything that can draw Vega-Lite (a web page, a notebook) can draw the same chart.
 */
export function complianceChartSpec(
  title: string,
  points: readonly ChartPoint[],
  opts: { width?: number; height?: number } = {},
): TopLevelSpec {
  const values = points.map((p) => ({
    day: p.day,
    rate: p.complianceRate === null ? null : Math.round(p.complianceRate * 1000) / 10,
    kev: p.openKev,
  }));
  // Days as bands: each day's bar and point share the middle of its band, under its label.
  const x = {
    field: 'day',
    type: 'ordinal' as const,
    title: null,
    axis: {
      labelExpr: "timeFormat(toDate(datum.value + 'T00:00:00'), '%-d %b')",
      labelAngle: 0,
      // About ten evenly spaced labels, whatever the number of days.
      values: values.filter((_, i) => i % Math.ceil(values.length / 10) === 0).map((v) => v.day),
    },
  };
  // A handful of open KEV pairs should not fill the chart's height: the axis reaches 5 at least.
  const kevTop = Math.max(5, ...values.map((v) => v.kev));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: title,
      subtitle: latestLine(points),
      anchor: 'start',
      fontSize: 15,
      subtitleColor: '#555',
    },
    width: opts.width ?? 640,
    height: opts.height ?? 260,
    background: 'white',
    padding: 12,
    data: { values },
    config: { font: 'DejaVu Sans', view: { stroke: null } },
    layer: [
      {
        mark: { type: 'bar', color: KEV, opacity: 0.35, width: { band: 0.7 } },
        encoding: {
          x,
          y: {
            field: 'kev',
            type: 'quantitative',
            title: 'Open KEV exposure (device × patch)',
            scale: { domain: [0, kevTop], nice: true },
            axis: {
              titleColor: KEV,
              labelColor: KEV,
              grid: false,
              orient: 'right',
              tickMinStep: 1,
            },
          },
        },
      },
      {
        mark: {
          type: 'line',
          color: RATE,
          strokeWidth: 2.5, // Dots help a few weeks; over a quarter they crowd the line.
          point: values.length <= 31 ? { color: RATE, size: 30 } : false,
        },
        encoding: {
          x,
          y: {
            field: 'rate',
            type: 'quantitative',
            title: 'Compliance rate (%)',
            scale: { domain: [0, 100] },
            axis: { titleColor: RATE, labelColor: RATE, grid: true },
          },
        },
      },
    ],
    resolve: { scale: { y: 'independent' } },
  };
}

/** "1 Dec: 99.2% compliant, 0 open KEV" — the newest point in words. */
function latestLine(points: readonly ChartPoint[]): string {
  const last = points[points.length - 1];
  if (!last) return 'no snapshots yet';
  const rate = last.complianceRate === null ? '-' : `${(last.complianceRate * 100).toFixed(1)}%`;
  return `${last.day}: ${rate} compliant, ${last.openKev} open KEV (blue: compliance, red: KEV)`;
}
