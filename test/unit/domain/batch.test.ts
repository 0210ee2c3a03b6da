import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  deviceWindows,
  mayDefer,
  rebootNeeded,
  verdict,
  windowNow,
} from '../../../domain/batch.js';

const HOUR = 3_600_000;
const at = (iso: string): number => Date.parse(iso);
const nightly = {
  name: 'nightly',
  rule: { daily: true } as const,
  start: '02:00',
  durationMs: 2 * HOUR,
  timezone: 'device',
};
const reboot = {
  mode: 'if_required' as const,
  userDeferrals: 2,
  deferralIntervalMs: HOUR,
  deadlineMs: 4 * HOUR,
};

describe('batch steps (domain/batch.ts)', () => {
  it("resolves 'device' and 'site' zones per device and keeps named zones", () => {
    const ws = deviceWindows(
      { windows: [nightly, { ...nightly, timezone: 'site' }, { ...nightly, timezone: 'UTC' }] },
      'Asia/Tokyo',
      'Europe/Berlin',
    );
    assert.deepEqual(
      ws.map((w) => w.timezone),
      ['Asia/Tokyo', 'Europe/Berlin', 'UTC'],
    );
  });

  it('is closed until the next opening in the device zone, open until its end inside it', () => {
    const settings = { windows: [nightly], bypassWindows: false, offlineRetryMs: 5_000 };
    const tokyo = deviceWindows(settings, 'Asia/Tokyo', 'UTC');
    // 12:00 UTC is 21:00 in Tokyo: the window opens at 02:00 JST = 17:00 UTC.
    assert.deepEqual(windowNow(settings, tokyo, at('2026-12-07T12:00:00Z')), {
      open: false,
      opensAt: at('2026-12-07T17:00:00Z'),
    });
    assert.deepEqual(windowNow(settings, tokyo, at('2026-12-07T17:30:00Z')), {
      open: true,
      endsAt: at('2026-12-07T19:00:00Z'),
    });
  });

  it('without windows, or bypassing them, is open and retries offline devices offlineRetryMs later', () => {
    const now = at('2026-12-07T12:00:00Z');
    assert.deepEqual(
      windowNow({ windows: [], bypassWindows: false, offlineRetryMs: 5_000 }, [], now),
      { open: true, endsAt: now + 5_000 },
    );
    const settings = { windows: [nightly], bypassWindows: true, offlineRetryMs: 7 };
    assert.deepEqual(windowNow(settings, deviceWindows(settings, 'UTC', 'UTC'), now), {
      open: true,
      endsAt: now + 7,
    });
  });

  it('reboots per policy: always, if a patch waits for one, never', () => {
    const pending = [{ patchId: 'a', outcome: 'pending_reboot' as const }];
    const done = [{ patchId: 'a', outcome: 'installed' as const }];
    assert.equal(rebootNeeded(reboot, pending), true);
    assert.equal(rebootNeeded(reboot, done), false);
    assert.equal(rebootNeeded({ ...reboot, mode: 'always' }, done), true);
    assert.equal(rebootNeeded({ ...reboot, mode: 'never' }, pending), false);
  });

  it('lets the user postpone while deferrals are left and the deadline is not reached', () => {
    const deadline = 10 * HOUR;
    assert.equal(mayDefer(reboot, 0, deadline, 0), true);
    assert.equal(mayDefer(reboot, 1, deadline, 0), true);
    assert.equal(mayDefer(reboot, 2, deadline, 0), false, 'no deferrals left');
    assert.equal(mayDefer(reboot, 0, deadline, deadline - HOUR), false, 'would pass the deadline');
  });

  it('counts a patch installed only when the rescan says so, whatever the job said', () => {
    assert.deepEqual(
      verdict(['a', 'b', 'c', 'd'], { installed: ['a', 'd'], missing: ['c', 'd'] }),
      { installed: ['a'], pendingReboot: ['b'], failed: ['c', 'd'] },
    );
  });
});
