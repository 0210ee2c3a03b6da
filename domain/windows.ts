/**
 * Maintenance-window arithmetic. A window is written in the wall-clock time of its time
 * zone ("Tuesdays 22:00 for 6h, Europe/Berlin"), so every occurrence is computed on the
 * local calendar and only then converted to an instant. Pure and deterministic (no
 * Date.now, no I/O): workflows import it and pass `now` in. Time-zone offsets come from
 * Intl, which the workflow sandbox provides.
 */

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

/** When a window opens, as a rule on the local calendar. */
export type WindowRule =
  | { daily: true }
  | { weekly: { days: Weekday[] } }
  | {
      monthly: {
        /** The n-th (or last) given weekday of the month, e.g. Patch Tuesday = 2nd tue. */
        nthWeekday: { n: 1 | 2 | 3 | 4 | 5 | 'last'; weekday: Weekday };
        /**
         * Days after (or, if negative, before) that weekday. The occurrence belongs to the
         * month of its anchor even when the offset carries it into the next month.
         */
        offsetDays?: number;
      };
    };

/** A recurring maintenance window. */
export interface MaintenanceWindow {
  /** Shown to humans and in the audit trail. */
  name: string;
  /** Which local days it opens on. */
  rule: WindowRule;
  /** Local opening time, "HH:MM" (24 h). */
  start: string;
  /**
   * Length, added in wall-clock time: "22:00 for 6h" closes at 04:00 local even across a
   * DST change, which is what the owner of the window wrote down.
   */
  durationMs: number;
  /** Resolved IANA time zone, e.g. "America/New_York". */
  timezone: string;
}

/** One concrete occurrence of a window, as epoch milliseconds [startsAt, endsAt). */
export interface WindowOccurrence {
  startsAt: number;
  endsAt: number;
}

const DAY_MS = 86_400_000;
const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
/** Far enough for the sparsest rule ("5th Monday") to occur at least once. */
const HORIZON_DAYS = 400;

// Building a DateTimeFormat is far costlier than using one; zones are few.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: timezone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new Error(`window timezone "${timezone}" is not an IANA time zone name`);
    }
    formatters.set(timezone, f);
  }
  return f;
}

/** Local wall-clock time at `instant`, expressed as if it were UTC (epoch ms). */
function wallClockAt(timezone: string, instant: number): number {
  const parts: Record<string, number> = {};
  for (const p of formatterFor(timezone).formatToParts(instant)) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = parts;
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

/** UTC offset (ms) of `timezone` at `instant`; seconds are dropped by the formatter. */
function offsetAt(timezone: string, instant: number): number {
  return wallClockAt(timezone, instant) - Math.floor(instant / 1000) * 1000;
}

/**
 * The instant a local wall-clock time happens. Ambiguous times (the repeated hour when
 * clocks go back) take the first occurrence; times skipped when clocks go forward take the
 * first valid instant after them, i.e. the moment of the change.
 */
function wallClockToInstant(timezone: string, wallMs: number): number {
  // Offsets are whole seconds; keep sub-second parts out of the comparisons below.
  const fraction = ((wallMs % 1000) + 1000) % 1000;
  const wall = wallMs - fraction;
  // Offsets either side of any single transition near `wall`.
  const before = offsetAt(timezone, wall - DAY_MS);
  const after = offsetAt(timezone, wall + DAY_MS);
  const valid = [wall - before, wall - after].filter((t) => wallClockAt(timezone, t) === wall);
  if (valid.length > 0) return Math.min(...valid) + fraction;
  // In the gap: the transition lies between the two candidates; find its second.
  let lo = wall - after; // still on the old offset
  let hi = wall - before; // already on the new offset
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (offsetAt(timezone, mid) === after) hi = mid;
    else lo = mid;
  }
  return hi;
}

function parseStart(start: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(start);
  if (!m) throw new Error(`window start "${start}" must be "HH:MM" (00:00 to 23:59)`);
  return Number(m[1]) * 3_600_000 + Number(m[2]) * 60_000;
}

/** Epoch day (days since 1970-01-01) helpers, all on the proleptic UTC calendar. */
function civil(epochDay: number): { year: number; month: number; day: number; dow: number } {
  const d = new Date(epochDay * DAY_MS);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    dow: d.getUTCDay(),
  };
}

function epochDayOf(year: number, month: number, day: number): number {
  return Date.UTC(year, month - 1, day) / DAY_MS;
}

/** Epoch day of the n-th (or last) `weekday` of a month; undefined when there is no 5th. */
function nthWeekdayOf(
  year: number,
  month: number,
  n: 1 | 2 | 3 | 4 | 5 | 'last',
  weekday: Weekday,
): number | undefined {
  const target = WEEKDAYS.indexOf(weekday);
  if (n === 'last') {
    const last = epochDayOf(year, month + 1, 0);
    return last - ((civil(last).dow - target + 7) % 7);
  }
  const first = epochDayOf(year, month, 1);
  const day = first + ((target - civil(first).dow + 7) % 7) + (n - 1) * 7;
  return civil(day).month === month ? day : undefined;
}

function opensOn(rule: WindowRule, epochDay: number): boolean {
  if ('daily' in rule) return true;
  if ('weekly' in rule) {
    const dow = WEEKDAYS[civil(epochDay).dow];
    return dow !== undefined && rule.weekly.days.includes(dow);
  }
  const { nthWeekday, offsetDays = 0 } = rule.monthly;
  // The anchor day decides the month, so offsets may cross month ends.
  const anchor = epochDay - offsetDays;
  const { year, month } = civil(anchor);
  return nthWeekdayOf(year, month, nthWeekday.n, nthWeekday.weekday) === anchor;
}

function validate(w: MaintenanceWindow): number {
  if (!Number.isFinite(w.durationMs) || w.durationMs <= 0) {
    throw new Error(`window "${w.name}": durationMs must be a positive number of milliseconds`);
  }
  const offset = 'monthly' in w.rule ? w.rule.monthly.offsetDays : 0;
  if (offset !== undefined && !Number.isInteger(offset)) {
    throw new Error(`window "${w.name}": monthly.offsetDays must be a whole number of days`);
  }
  return parseStart(w.start);
}

/**
 * The occurrence of `w` that is open at `now` or, if none is, the next one to open.
 * When occurrences overlap (a duration longer than the rule's period), the open one that
 * closes last wins, since that is how long work may continue.
 */
export function nextWindow(w: MaintenanceWindow, now: number): WindowOccurrence {
  const startMs = validate(w);
  const today = Math.floor(wallClockAt(w.timezone, now) / DAY_MS);
  // Start far enough back that an occurrence still open now is seen.
  const lookback = Math.ceil(w.durationMs / DAY_MS) + 1;
  let open: WindowOccurrence | undefined;
  for (let day = today - lookback; day <= today + HORIZON_DAYS; day++) {
    if (!opensOn(w.rule, day)) continue;
    const wallStart = day * DAY_MS + startMs;
    const startsAt = wallClockToInstant(w.timezone, wallStart);
    const endsAt = wallClockToInstant(w.timezone, wallStart + w.durationMs);
    if (endsAt <= now) continue;
    if (startsAt > now) return open ?? { startsAt, endsAt };
    if (!open || endsAt > open.endsAt) open = { startsAt, endsAt };
  }
  if (open) return open;
  throw new Error(`window "${w.name}" does not open within ${HORIZON_DAYS} days`);
}

/** Whether `now` lies inside an occurrence of `w` (start inclusive, end exclusive). */
export function isInWindow(w: MaintenanceWindow, now: number): boolean {
  return nextWindow(w, now).startsAt <= now;
}

/**
 * The earliest opening across several windows (an open one counts, with startsAt ≤ now);
 * ties go to the one that closes last. Undefined when no windows are given.
 */
export function nextOpening(
  windows: readonly MaintenanceWindow[],
  now: number,
): (WindowOccurrence & { window: MaintenanceWindow }) | undefined {
  let best: (WindowOccurrence & { window: MaintenanceWindow }) | undefined;
  for (const window of windows) {
    const o = nextWindow(window, now);
    if (
      !best ||
      o.startsAt < best.startsAt ||
      (o.startsAt === best.startsAt && o.endsAt > best.endsAt)
    ) {
      best = { ...o, window };
    }
  }
  return best;
}

/** Microsoft's Patch Tuesday, the second Tuesday of a month (1-12), as "YYYY-MM-DD". */
export function patchTuesday(year: number, month: number): string {
  if (!Number.isInteger(month) || month < 1 || month > 12) {
    throw new Error(`month must be 1-12, got ${month}`);
  }
  const day = nthWeekdayOf(year, month, 2, 'tue');
  // The second of any weekday always exists.
  return new Date((day ?? 0) * DAY_MS).toISOString().slice(0, 10);
}
