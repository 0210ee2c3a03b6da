/**
 * Tactical renders `date_installed` as "%m %d %Y %H:%M" in its default time zone, without
 * an offset (winupdate.serializers.WinUpdateSerializer). Comparing it with an agent's boot
 * time (epoch seconds) needs that zone.
 */

function offsetMs(utcMs: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(utcMs));
  const n = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  const asUtc = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/** Epoch ms of a local wall-clock time in `timeZone` (the earlier instant at a DST fold). */
export function zonedToEpochMs(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  timeZone: string,
): number {
  const wall = Date.UTC(y, mo - 1, d, h, mi);
  const first = wall - offsetMs(wall, timeZone);
  return wall - offsetMs(first, timeZone);
}

/** Epoch ms of a `date_installed` value, or undefined when it is absent or not that format. */
export function parseDateInstalled(value: string | null, timeZone: string): number | undefined {
  const m = value ? /^(\d{2}) (\d{2}) (\d{4}) (\d{2}):(\d{2})$/.exec(value) : null;
  if (!m) return undefined;
  const [mo, d, y, h, mi] = m.slice(1).map(Number) as [number, number, number, number, number];
  return zonedToEpochMs(y, mo, d, h, mi, timeZone);
}
