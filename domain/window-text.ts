import type { WindowSettings } from './rollout-settings.js';

const DAY: Record<string, string> = {
  mon: 'Mon',
  tue: 'Tue',
  wed: 'Wed',
  thu: 'Thu',
  fri: 'Fri',
  sat: 'Sat',
  sun: 'Sun',
};
const NTH: Record<string, string> = {
  1: '1st',
  2: '2nd',
  3: '3rd',
  4: '4th',
  5: '5th',
  last: 'last',
};

function hours(ms: number): string {
  const h = ms / 3_600_000;
  return Number.isInteger(h) ? `${h}h` : `${Math.round(ms / 60_000)}m`;
}

/** A window in words for cards and chat: "weekly Sat, Sun 02:00 for 4h (device time)". */
export function describeWindow(w: WindowSettings): string {
  const r = w.rule;
  const when =
    'daily' in r
      ? 'daily'
      : 'weekly' in r
        ? `weekly ${r.weekly.days.map((d) => DAY[d] ?? d).join(', ')}`
        : `${NTH[String(r.monthly.nthWeekday.n)]} ${DAY[r.monthly.nthWeekday.weekday]}${
            r.monthly.offsetDays
              ? ` ${r.monthly.offsetDays > 0 ? '+' : ''}${r.monthly.offsetDays}d`
              : ''
          } monthly`;
  const tz = w.timezone === 'device' || w.timezone === 'site' ? `${w.timezone} time` : w.timezone;
  return `${w.name}: ${when} ${w.start} for ${hours(w.durationMs)} (${tz})`;
}

export function describeWindows(ws: WindowSettings[], bypass: boolean): string {
  if (bypass) return 'any time (maintenance windows bypassed)';
  if (ws.length === 0) return 'any time (no maintenance window)';
  return ws.map(describeWindow).join('; ');
}
