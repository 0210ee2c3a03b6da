import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** A Vega-Lite spec drawn to SVG headlessly (no DOM, no canvas). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The chart as a PNG, text drawn with the machine's fonts (resvg finds DejaVu, Liberation …). */
export async function renderPng(
  spec: TopLevelSpec,
  opts: { scale?: number } = {},
): Promise<Buffer> {
  const svg = await renderSvg(spec);
  const resvg = new Resvg(svg, {
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
    background: 'white',
    fitTo: { mode: 'zoom', value: opts.scale ?? 2 },
  });
  return resvg.render().asPng();
}
