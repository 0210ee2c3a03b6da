import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RepeatFilter } from '../../bot/commands/repeats.js';

describe('RepeatFilter: which successful clicks re-render cards at once', () => {
  it('twenty Approve clicks by one person are one first and nineteen repeats', () => {
    const f = new RepeatFilter();
    const firsts = Array.from({ length: 20 }, (_, i) =>
      f.first('U1', 'r1', ['approve', 0], 1_000 + i),
    ).filter(Boolean);
    assert.equal(firsts.length, 1);
  });

  it('pause → resume → pause are three firsts; each person and rollout counts on its own', () => {
    const f = new RepeatFilter();
    assert.ok(f.first('U1', 'r1', ['pause']));
    assert.ok(f.first('U1', 'r1', ['resume']));
    assert.ok(f.first('U1', 'r1', ['pause']));
    assert.ok(!f.first('U1', 'r1', ['pause']));
    assert.ok(f.first('U2', 'r1', ['pause']), 'another person');
    assert.ok(f.first('U1', 'r2', ['pause']), 'another rollout');
    assert.ok(f.first('U1', 'r1', ['approve', 1]), 'a new approval round');
  });

  it('forgets after the window', () => {
    const f = new RepeatFilter(1_000);
    assert.ok(f.first('U1', 'r1', ['approve', 0], 0));
    assert.ok(!f.first('U1', 'r1', ['approve', 0], 999));
    assert.ok(f.first('U1', 'r1', ['approve', 0], 2_000));
  });
});
