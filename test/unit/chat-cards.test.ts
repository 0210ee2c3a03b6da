import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { detailsModal, renderBlocks, SLACK_LIMITS } from '../../bot/cards/block-kit.js';
import { awaitingPromotion } from '../../bot/cards/build.js';
import { actionsFor, decodeAction, encodeAction } from '../../bot/cards/model.js';
import { alertHeadline, decisionLine } from '../../bot/cards/text.js';
import { sampleCard } from '../helpers/cards.js';
import { parseCommand, usage } from '../../bot/commands/parse.js';
import { REQUIRED_SCOPES } from '../../bot/slack/scopes.js';
import type { Progress, RolloutPhase } from '../../workflows/messages.js';
import { checkMessageBlocks, checkView } from '../fakes/slack/block-kit.js';

describe('approval card model and Block Kit', () => {
  it('an approval card carries approve, reject, defer (1/3/7 days) and details, within limits', () => {
    const blocks = renderBlocks(sampleCard());
    assert.deepEqual(checkMessageBlocks(blocks), []);
    const actions = blocks.find((b) => b.type === 'actions') as unknown as {
      elements: Array<Record<string, unknown>>;
    };
    const ids = actions.elements.map((e) => e.action_id);
    assert.deepEqual(ids, [
      'patchops.approve',
      'patchops.reject',
      'patchops.defer',
      'patchops.details',
    ]);
    const defer = actions.elements[2] as { options: Array<{ value: string }> };
    assert.deepEqual(
      defer.options.map((o) => decodeAction(o.value)?.days),
      [1, 3, 7],
    );
    assert.match(JSON.stringify(blocks), /KEV/);
  });

  it('a decided, finished card has no decision buttons and says who decided and when', () => {
    const card = sampleCard({
      phase: 'completed',
      actions: actionsFor('rollout', 'completed', false),
      decision: {
        decision: 'approve',
        by: 'slack:U0002',
        via: 'slack',
        at: '2026-11-24T10:05:00.000Z',
        reason: null,
      },
    });
    const text = JSON.stringify(renderBlocks(card));
    assert.doesNotMatch(text, /patchops\.approve/);
    assert.match(text, /Approved by U0002 \(slack\) at 2026-11-24 10:05 UTC/);
  });

  it('a deferred card says until when and offers Cancel, not Approve', () => {
    const card = sampleCard({
      phase: 'deferred',
      actions: actionsFor('rollout', 'deferred', false),
      decision: {
        decision: 'defer',
        by: 'teams:c33aafc4',
        via: 'teams',
        at: '2026-11-24T10:05:00.000Z',
        reason: 'CAB on Thursday',
        until: '2026-11-27T10:05:00.000Z',
      },
    });
    assert.equal(
      decisionLine(card),
      'Deferred by c33aafc4 (teams) at 2026-11-24 10:05 UTC until 2026-11-27 10:05 UTC — "CAB on Thursday"',
    );
    assert.deepEqual(card.actions, ['cancel', 'details']);
  });

  it('a re-rendered alert names the rings with failures, or says it halted', () => {
    const ring = (name: string, failed: number) =>
      ({ name, devices: 10, succeeded: 10 - failed, failed, skipped: 0, running: 0 }) as const;
    const alert = (phase: RolloutPhase, rings: ReturnType<typeof ring>[]) =>
      alertHeadline(sampleCard({ kind: 'alert', phase, rings }));
    assert.equal(
      alert('deploying', [ring('pilot', 2), ring('broad', 0)]),
      'Failures in ring pilot',
    );
    assert.equal(
      alert('completed', [ring('pilot', 2), ring('broad', 1)]),
      'Failures in rings pilot, broad',
    );
    assert.equal(alert('halted', [ring('pilot', 9)]), 'Halted');
  });

  it('clips oversized content instead of breaking Slack limits', () => {
    const long = 'x'.repeat(5000);
    const card = sampleCard({ haltReason: long, clientName: long, window: long });
    const blocks = renderBlocks(card);
    assert.deepEqual(checkMessageBlocks(blocks), []);
    assert.ok(blocks.length <= SLACK_LIMITS.blocks);
  });

  it('details pages stay inside modal limits and page forward', () => {
    const patches = Array.from({ length: 15 }, (_, i) => ({
      patchId: `KB${i}`,
      title: 't'.repeat(400),
      severity: 'critical' as const,
      cves: Array.from({ length: 20 }, (_, j) => `CVE-2026-${j}`),
      kev: i % 2 === 0,
      decision: 'auto',
      devices: 3,
    }));
    const view = detailsModal({ rolloutId: 'r1', page: 0, pages: 3, total: 40, patches });
    assert.deepEqual(checkView(view, ['modal']), []);
    assert.match(JSON.stringify(view), /patchops\.details\.next/);
    assert.doesNotMatch(JSON.stringify(view), /patchops\.details\.prev/);
  });

  it('button values round-trip; anything else is ignored', () => {
    const v = encodeAction({ action: 'defer', rolloutId: 'r-1', round: 2, days: 3 });
    assert.deepEqual(decodeAction(v), { action: 'defer', rolloutId: 'r-1', round: 2, days: 3 });
    assert.equal(decodeAction('{"action":"drop_tables","rolloutId":"x"}'), undefined);
    assert.equal(decodeAction('not json'), undefined);
    assert.equal(
      decodeAction(encodeAction({ action: 'defer', rolloutId: 'r', days: 99 }))?.days,
      undefined,
    );
  });
});

describe('promotion cards', () => {
  const progress = (phase: RolloutPhase, currentRing: string | null): Progress => ({
    rolloutId: 'r-1',
    phase,
    paused: false,
    currentRing,
    rings: ['pilot', 'first', 'broad'].map((name) => ({
      name,
      total: 4,
      started: 0,
      succeeded: 0,
      failed: 0,
      skipped: 0,
    })),
    decision: null,
    haltReason: null,
  });

  it('the ring waiting for promotion is the one after the ring that just finished', () => {
    assert.equal(awaitingPromotion(progress('awaiting_promotion', 'pilot')), 'first');
    assert.equal(awaitingPromotion(progress('awaiting_promotion', 'first')), 'broad');
    assert.equal(awaitingPromotion(progress('awaiting_promotion', 'broad')), null);
    assert.equal(awaitingPromotion(progress('soaking', 'pilot')), null);
    assert.equal(awaitingPromotion(progress('awaiting_promotion', null)), null);
  });

  it('the Promote button names the ring it starts (the workflow refuses a promotion without it)', () => {
    const card = sampleCard({
      kind: 'promotion',
      phase: 'awaiting_promotion',
      actions: actionsFor('promotion', 'awaiting_promotion', false),
      promoteRing: 'broad',
    });
    const blocks = renderBlocks(card);
    assert.deepEqual(checkMessageBlocks(blocks), []);
    const actions = blocks.find((b) => b.type === 'actions') as unknown as {
      elements: Array<{ action_id: string; value: string }>;
    };
    const promote = actions.elements.find((e) => e.action_id === 'patchops.promote');
    assert.deepEqual(decodeAction(promote?.value), {
      action: 'promote',
      rolloutId: 'rollout-acme-1',
      round: 0,
      ring: 'broad',
    });
  });
});

describe('chat command language', () => {
  it('parses every command and explains mistakes', () => {
    assert.deepEqual(parseCommand('approve r-1 looks fine'), {
      ok: true,
      command: { name: 'approve', rolloutId: 'r-1', reason: 'looks fine' },
    });
    assert.deepEqual(parseCommand('defer r-1 3d busy week'), {
      ok: true,
      command: { name: 'defer', rolloutId: 'r-1', deferMs: 3 * 86_400_000, reason: 'busy week' },
    });
    assert.deepEqual(parseCommand(''), { ok: true, command: { name: 'help' } });
    assert.deepEqual(parseCommand('status'), { ok: true, command: { name: 'status' } });
    const noReason = parseCommand('reject r-1');
    assert.ok(!noReason.ok && /needs a reason/.test(noReason.error));
    const unknown = parseCommand('deploy everything');
    assert.ok(!unknown.ok && /unknown command "deploy"/.test(unknown.error));
    const noId = parseCommand('pause');
    assert.ok(!noId.ok && /needs a rollout id/.test(noId.error));
  });

  it('help lists only read-only commands for non-approvers', () => {
    assert.doesNotMatch(usage('/patch ', false), /approve/);
    assert.match(usage('/patch ', true), /\/patch approve ROLLOUT/);
  });
});

describe('Slack app manifest', () => {
  it('requests exactly the scopes doctor checks, with /patch, interactivity and App Home', () => {
    const m = parse(readFileSync('bot/slack/manifest.yaml', 'utf8')) as {
      oauth_config: { scopes: { bot: string[] } };
      features: {
        slash_commands: Array<{ command: string }>;
        app_home: { home_tab_enabled: boolean };
      };
      settings: {
        interactivity: { is_enabled: boolean };
        event_subscriptions: { bot_events: string[] };
      };
    };
    assert.deepEqual([...m.oauth_config.scopes.bot].sort(), [...REQUIRED_SCOPES].sort());
    assert.deepEqual(
      m.features.slash_commands.map((c) => c.command),
      ['/patch'],
    );
    assert.equal(m.features.app_home.home_tab_enabled, true);
    assert.equal(m.settings.interactivity.is_enabled, true);
    assert.deepEqual(m.settings.event_subscriptions.bot_events, ['app_home_opened']);
  });
});
