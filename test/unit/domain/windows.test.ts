import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isInWindow,
  nextOpening,
  nextWindow,
  patchTuesday,
  type MaintenanceWindow,
  type WindowRule,
} from '../../../domain/windows.js';

const HOUR = 3_600_000;
const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number): string => new Date(ms).toISOString();

function win(
  rule: WindowRule,
  start: string,
  hours: number,
  timezone: string,
  name = 'w',
): MaintenanceWindow {
  return { name, rule, start, durationMs: hours * HOUR, timezone };
}

function occurrence(w: MaintenanceWindow, now: string): [string, string] {
  const o = nextWindow(w, at(now));
  return [iso(o.startsAt), iso(o.endsAt)];
}

describe('patchTuesday', () => {
  it('is the second Tuesday of the month', () => {
    assert.equal(patchTuesday(2025, 1), '2025-01-14');
    assert.equal(patchTuesday(2025, 7), '2025-07-08');
    assert.equal(patchTuesday(2025, 10), '2025-10-14');
    assert.equal(patchTuesday(2026, 9), '2026-09-08');
    assert.equal(patchTuesday(2026, 11), '2026-11-10');
    assert.equal(patchTuesday(2026, 12), '2026-12-08');
  });

  it('rejects a month outside 1-12', () => {
    assert.throws(() => patchTuesday(2026, 13), /month must be 1-12/);
  });
});

describe('weekly windows across DST (America/New_York, 2025-11-02)', () => {
  const tuesdayNight = win({ weekly: { days: ['tue'] } }, '22:00', 4, 'America/New_York');

  it('keeps 22:00 local on both sides of the change', () => {
    assert.deepEqual(occurrence(tuesdayNight, '2025-10-27T12:00:00Z'), [
      '2025-10-29T02:00:00.000Z', // 22:00 EDT (UTC-4)
      '2025-10-29T06:00:00.000Z',
    ]);
    assert.deepEqual(occurrence(tuesdayNight, '2025-10-29T12:00:00Z'), [
      '2025-11-05T03:00:00.000Z', // 22:00 EST (UTC-5)
      '2025-11-05T07:00:00.000Z',
    ]);
  });

  it('takes the first of a repeated hour and ends at the written wall-clock time', () => {
    const sunday = win({ weekly: { days: ['sun'] } }, '01:30', 1, 'America/New_York');
    // 01:30 happens twice on 2025-11-02; the window opens at the first (EDT) and closes
    // at 02:30 EST, so it is two real hours long that night.
    assert.deepEqual(occurrence(sunday, '2025-11-01T12:00:00Z'), [
      '2025-11-02T05:30:00.000Z',
      '2025-11-02T07:30:00.000Z',
    ]);
  });
});

describe('spring forward (Europe/Berlin, 2026-03-29)', () => {
  const early = win({ daily: true }, '02:30', 2, 'Europe/Berlin');

  it('opens a window in the skipped hour at 03:00 local', () => {
    assert.deepEqual(occurrence(early, '2026-03-28T12:00:00Z'), [
      '2026-03-29T01:00:00.000Z', // 03:00 CEST, the first valid instant
      '2026-03-29T02:30:00.000Z', // 04:30 CEST
    ]);
  });

  it('is unaffected on the day before', () => {
    assert.deepEqual(occurrence(early, '2026-03-27T12:00:00Z'), [
      '2026-03-28T01:30:00.000Z', // 02:30 CET
      '2026-03-28T03:30:00.000Z',
    ]);
  });
});

describe('windows spanning midnight and membership', () => {
  const night = win({ daily: true }, '22:00', 6, 'Europe/London');

  it('reports the open occurrence that started yesterday', () => {
    assert.deepEqual(occurrence(night, '2026-01-15T02:00:00Z'), [
      '2026-01-14T22:00:00.000Z',
      '2026-01-15T04:00:00.000Z',
    ]);
    assert.equal(isInWindow(night, at('2026-01-15T02:00:00Z')), true);
  });

  it('is inside from the start, outside from the end', () => {
    assert.equal(isInWindow(night, at('2026-01-15T21:59:59Z')), false);
    assert.equal(isInWindow(night, at('2026-01-15T22:00:00Z')), true);
    assert.equal(isInWindow(night, at('2026-01-16T03:59:59Z')), true);
    assert.equal(isInWindow(night, at('2026-01-16T04:00:00Z')), false);
    assert.deepEqual(occurrence(night, '2026-01-16T04:00:00Z'), [
      '2026-01-16T22:00:00.000Z',
      '2026-01-17T04:00:00.000Z',
    ]);
  });

  it('uses local days for weekly rules (Friday 23:00 in Tokyo is Friday 14:00 UTC)', () => {
    const friday = win({ weekly: { days: ['fri'] } }, '23:00', 2, 'Asia/Tokyo');
    assert.deepEqual(occurrence(friday, '2026-01-12T00:00:00Z'), [
      '2026-01-16T14:00:00.000Z',
      '2026-01-16T16:00:00.000Z',
    ]);
  });
});

describe('monthly windows', () => {
  it('last Friday of the month', () => {
    const lastFriday = win(
      { monthly: { nthWeekday: { n: 'last', weekday: 'fri' } } },
      '20:00',
      3,
      'UTC',
    );
    assert.deepEqual(occurrence(lastFriday, '2026-01-01T00:00:00Z')[0], '2026-01-30T20:00:00.000Z');
    assert.deepEqual(occurrence(lastFriday, '2026-01-31T00:00:00Z')[0], '2026-02-27T20:00:00.000Z');
  });

  it('Thursday after Patch Tuesday (second Tuesday + 2 days)', () => {
    const thursday = win(
      { monthly: { nthWeekday: { n: 2, weekday: 'tue' }, offsetDays: 2 } },
      '21:00',
      4,
      'Europe/Berlin',
    );
    assert.deepEqual(occurrence(thursday, '2026-11-01T00:00:00Z')[0], '2026-11-12T20:00:00.000Z');
    assert.deepEqual(occurrence(thursday, '2026-11-13T00:00:00Z')[0], '2026-12-10T20:00:00.000Z');
  });

  it('an offset that crosses the month end belongs to the anchor month', () => {
    // Monday after the last Friday: January's falls on 2 February, February's on 2 March.
    const monday = win(
      { monthly: { nthWeekday: { n: 'last', weekday: 'fri' }, offsetDays: 3 } },
      '09:00',
      2,
      'UTC',
    );
    assert.deepEqual(occurrence(monday, '2026-01-31T00:00:00Z')[0], '2026-02-02T09:00:00.000Z');
    assert.deepEqual(occurrence(monday, '2026-02-03T00:00:00Z')[0], '2026-03-02T09:00:00.000Z');
  });

  it('a negative offset reaches back into the previous month', () => {
    // The day before the first Monday: 2026-06-01 is a Monday, so 31 May.
    const sunday = win(
      { monthly: { nthWeekday: { n: 1, weekday: 'mon' }, offsetDays: -1 } },
      '10:00',
      1,
      'UTC',
    );
    assert.deepEqual(occurrence(sunday, '2026-05-10T00:00:00Z')[0], '2026-05-31T10:00:00.000Z');
  });

  it('skips months without a fifth weekday', () => {
    // 2026: the next month with five Mondays after March is June.
    const fifthMonday = win(
      { monthly: { nthWeekday: { n: 5, weekday: 'mon' } } },
      '10:00',
      1,
      'UTC',
    );
    assert.deepEqual(
      occurrence(fifthMonday, '2026-04-01T00:00:00Z')[0],
      '2026-06-29T10:00:00.000Z',
    );
  });
});

describe('nextOpening', () => {
  const now = at('2026-01-12T12:00:00Z'); // a Monday
  const berlin = win({ weekly: { days: ['wed'] } }, '22:00', 2, 'Europe/Berlin', 'berlin-wed');
  const ny = win({ weekly: { days: ['tue'] } }, '22:00', 2, 'America/New_York', 'ny-tue');
  const tokyo = win({ weekly: { days: ['tue'] } }, '01:00', 2, 'Asia/Tokyo', 'tokyo-tue');

  it('picks the earliest across time zones', () => {
    const first = nextOpening([berlin, ny, tokyo], now);
    assert.equal(first?.window.name, 'tokyo-tue'); // Mon 16:00 UTC
    assert.equal(iso(first?.startsAt ?? 0), '2026-01-12T16:00:00.000Z');
    assert.equal(nextOpening([berlin, ny], now)?.window.name, 'ny-tue'); // Wed 03:00 UTC
  });

  it('prefers a window that is open now', () => {
    const always = win({ daily: true }, '00:00', 23, 'UTC', 'daytime');
    assert.equal(nextOpening([tokyo, always], now)?.window.name, 'daytime');
  });

  it('is undefined for no windows', () => {
    assert.equal(nextOpening([], now), undefined);
  });
});

describe('bad windows fail clearly', () => {
  it('names the bad field', () => {
    const now = at('2026-01-01T00:00:00Z');
    assert.throws(() => nextWindow(win({ daily: true }, '24:00', 1, 'UTC'), now), /"HH:MM"/);
    assert.throws(() => nextWindow(win({ daily: true }, '10:00', 1, 'Mars/Olympus'), now), /IANA/);
    assert.throws(() => nextWindow(win({ daily: true }, '10:00', 0, 'UTC'), now), /durationMs/);
  });
});
