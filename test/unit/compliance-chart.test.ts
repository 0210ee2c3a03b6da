import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderPng, renderSvg } from '../../activities/chart-render.js';
import { complianceChartSpec, type ChartPoint } from '../../domain/compliance-chart.js';
import { isoWeek } from '../../domain/compliance-report.js';

/** Twelve days: compliance climbing from 55 % by 4 points a day, KEV exposure falling. */
const POINTS: ChartPoint[] = Array.from({ length: 12 }, (_, i) => ({
  day: `2026-11-${String(20 + i).padStart(2, '0')}`.replace('2026-11-31', '2026-12-01'),
  complianceRate: 0.55 + i * 0.04,
  openKev: Math.max(0, 14 - 2 * i),
}));

describe('compliance chart', () => {
  it('the spec carries the series as percentages and counts', () => {
    const spec = complianceChartSpec('acme', POINTS) as { data: { values: unknown[] } };
    assert.equal(spec.data.values.length, 12);
    assert.deepEqual(spec.data.values[0], { day: '2026-11-20', rate: 55, kev: 14 });
    assert.deepEqual(spec.data.values[11], { day: '2026-12-01', rate: 99, kev: 0 });
  });

  it('draws both series with their axes and the newest point in the subtitle', async () => {
    const svg = await renderSvg(complianceChartSpec('acme: compliance', POINTS));
    assert.match(svg, /Compliance rate \(%\)/);
    assert.match(svg, /Open KEV exposure/);
    assert.match(svg, /2026-12-01: 99\.0% compliant, 0 open KEV/);
    // One bar path per day with KEV exposure (the last five are zero-height but still drawn).
    assert.equal((svg.match(/aria-roledescription="bar"/g) ?? []).length, 12);
    assert.match(svg, /<path[^>]*stroke="#1f77b4"/);
  });

  it('renders a PNG: signature, plausible dimensions and size', async () => {
    const png = await renderPng(complianceChartSpec('acme', POINTS));
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.equal(png.subarray(12, 16).toString('latin1'), 'IHDR');
    const width = png.readUInt32BE(16);
    const height = png.readUInt32BE(20);
    // 640 × 260 plot plus axes, title and padding, drawn at 2×.
    assert.ok(width > 1280 && width < 1800, `width ${width}`);
    assert.ok(height > 520 && height < 900, `height ${height}`);
    assert.ok(png.length > 20_000 && png.length < 400_000, `${png.length} bytes`);
  });

  it('ISO weeks name the report period', () => {
    assert.equal(isoWeek(new Date('2026-12-07T07:00:00Z')), '2026-W50'); // a Monday
    assert.equal(isoWeek(new Date('2026-12-06T23:59:59Z')), '2026-W49'); // the Sunday before
    assert.equal(isoWeek(new Date('2027-01-01T00:00:00Z')), '2026-W53'); // Friday: 2026's last week
    assert.equal(isoWeek(new Date('2025-12-29T00:00:00Z')), '2026-W01');
  });
});
