import { crc32, deflateSync } from 'node:zlib';

/**
 * The two icons a Teams app package must carry, drawn in code so the repository holds no
 * binary assets: a 192×192 full-colour icon (white shield on the accent colour, glyph inside
 * the central 96×96 safe area) and a 32×32 outline icon (white shield on transparent, the
 * only colours Teams allows for outline icons). Both are 8-bit RGBA PNGs.
 */

/** The app's accent colour: the manifest's `accentColor` and the colour icon's background. */
export const ACCENT_COLOR = '#1E5AA8';
export const COLOR_ICON_SIZE = 192;
export const OUTLINE_ICON_SIZE = 32;

type Rgba = readonly [number, number, number, number];
type Point = readonly [number, number];

const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

/** Encodes RGBA pixels (row-major, 4 bytes each) as a PNG: IHDR, one IDAT, IEND. */
export function encodePng(width: number, height: number, rgba: Uint8Array): Uint8Array {
  if (rgba.length !== width * height * 4)
    throw new RangeError(`expected ${width * height * 4} bytes of RGBA, got ${rgba.length}`);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8); // bit depth 8, colour type 6 (RGBA), deflate, no filter, no interlace
  const stride = width * 4;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0; // filter type None: the icons are tiny, size does not matter
    raw.set(rgba.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  return new Uint8Array(
    Buffer.concat([
      PNG_SIGNATURE,
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(raw, { level: 9 })),
      chunk('IEND', new Uint8Array(0)),
    ]),
  );
}

/** Distance from (px, py) to the segment a–b. */
function segmentDistance(px: number, py: number, a: Point, b: Point): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const t = Math.max(0, Math.min(1, ((px - a[0]) * dx + (py - a[1]) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (a[0] + t * dx), py - (a[1] + t * dy));
}
// The glyph in a unit box: a shield (flat top, straight sides, curving to a point) with a
// check mark cut out of it.
const CHECK: readonly Point[] = [
  [0.3, 0.47],
  [0.45, 0.62],
  [0.71, 0.33],
];
const CHECK_HALF_WIDTH = 0.065;

function inShield(u: number, v: number): boolean {
  if (v < 0.04 || v > 0.96) return false;
  const shoulder = 0.45;
  const t = v <= shoulder ? 0 : (v - shoulder) / (0.96 - shoulder);
  return Math.abs(u - 0.5) <= 0.42 * (1 - t * t);
}

function inCheck(u: number, v: number): boolean {
  for (let i = 0; i + 1 < CHECK.length; i++) {
    if (segmentDistance(u, v, CHECK[i]!, CHECK[i + 1]!) <= CHECK_HALF_WIDTH) return true;
  }
  return false;
}

const SAMPLES = 4; // 4×4 supersampling per pixel gives smooth (anti-aliased) edges

/** Fraction of pixel (x, y) covered by the glyph drawn in the square box at `origin`, `box` wide. */
function glyphCoverage(x: number, y: number, origin: number, box: number): number {
  let hits = 0;
  for (let sy = 0; sy < SAMPLES; sy++) {
    for (let sx = 0; sx < SAMPLES; sx++) {
      const u = (x + (sx + 0.5) / SAMPLES - origin) / box;
      const v = (y + (sy + 0.5) / SAMPLES - origin) / box;
      if (inShield(u, v) && !inCheck(u, v)) hits++;
    }
  }
  return hits / (SAMPLES * SAMPLES);
}

function render(size: number, pixel: (x: number, y: number) => Rgba): Uint8Array {
  const out = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) out.set(pixel(x, y), (y * size + x) * 4);
  }
  return encodePng(size, size, out);
}

function hexToRgb(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

/** 192×192 colour icon: opaque accent background, white shield in the 96×96 safe area. */
export function colorIconPng(accent = ACCENT_COLOR): Uint8Array {
  const bg = hexToRgb(accent);
  const box = 96;
  const origin = (COLOR_ICON_SIZE - box) / 2;
  return render(COLOR_ICON_SIZE, (x, y) => {
    const c = glyphCoverage(x, y, origin, box);
    const mix = (i: 0 | 1 | 2) => Math.round(bg[i] + (255 - bg[i]) * c);
    return [mix(0), mix(1), mix(2), 255];
  });
}

/** 32×32 outline icon: white only, the shape carried by alpha on a transparent background. */
export function outlineIconPng(): Uint8Array {
  const margin = 1;
  return render(OUTLINE_ICON_SIZE, (x, y) => {
    const c = glyphCoverage(x, y, margin, OUTLINE_ICON_SIZE - 2 * margin);
    return [255, 255, 255, Math.round(255 * c)];
  });
}
