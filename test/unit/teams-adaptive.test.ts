import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  actionsFor,
  decodeAction,
  type PatchPage,
  type RolloutCard,
} from '../../bot/cards/model.js';
import {
  ADAPTIVE_SCHEMA,
  TEAMS_LIMITS,
  renderAdaptiveCard,
  renderDetailsCard,
} from '../../bot/teams/adaptive.js';
import { commandText } from '../../bot/teams/bot.js';
import { sampleCard } from '../helpers/cards.js';
import { baseConversationId, messageRefOf, referenceIn } from '../../bot/teams/notifier.js';
import { retryAfterMs } from '../../bot/teams/retry.js';

type Json = Record<string, unknown>;

/** The shared sample card with a ticket link, a later approval round and pilot progress. */
const card = (over: Partial<RolloutCard> = {}): RolloutCard =>
  sampleCard({
    highlights: [
      {
        patchId: 'KB5091777',
        title: 'Cumulative update',
        cves: ['CVE-2026-1'],
        cvss: 9.8,
        kev: true,
      },
    ],
    rings: [
      { name: 'pilot', devices: 16, succeeded: 3, failed: 1, skipped: 0, running: 2 },
      { name: 'broad', devices: 64, succeeded: 0, failed: 0, skipped: 0, running: 0 },
    ],
    ticket: { id: 'INC-7', url: 'https://itsm.example/INC-7' },
    round: 2,
    ...over,
  });

/** Every TextBlock text and fact of a card, flattened, to assert on content. */
function texts(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(texts);
  if (!node || typeof node !== 'object') return [];
  const o = node as Json;
  const own = [
    o.type === 'TextBlock' ? String(o.text) : '',
    typeof o.value === 'string' ? `${String(o.title)}: ${o.value}` : '',
  ];
  return [
    ...own.filter(Boolean),
    ...Object.entries(o)
      .filter(([k]) => k !== 'actions')
      .flatMap(([, v]) => texts(v)),
  ];
}
const byTitle = (actions: unknown, title: string) =>
  (actions as Json[]).find((a) => a.title === title) as Json;

describe('Teams Adaptive Card renderer', () => {
  it("is a schema 1.5 Adaptive Card with the Block Kit card's content", () => {
    const c = renderAdaptiveCard(
      card({
        phase: 'halted',
        headline: 'Halted',
        haltReason: 'failure rate 40% in pilot',
        decision: {
          decision: 'approve',
          by: 'teams:c33a',
          via: 'teams',
          at: '2026-11-24T09:00:00.000Z',
          reason: null,
        },
        actions: actionsFor('rollout', 'halted', false),
      }),
    );
    assert.equal(c.type, 'AdaptiveCard');
    assert.equal(c.$schema, ADAPTIVE_SCHEMA);
    assert.equal(c.version, '1.5');
    const all = texts(c.body).join('\n');
    for (const want of [
      'Halted — Acme Corp',
      'Rollout: rollout-acme-1',
      'Client: Acme Corp (acme)',
      'Patches: 12 (2 critical · 5 important · 4 moderate · 1 low)',
      'Devices: 80',
      'Window: nightly: daily 22:00 for 4h (device time)',
      'Ticket: [INC-7](https://itsm.example/INC-7)',
      '1 on CISA KEV',
      '[KEV] KB5091777 Cumulative update — CVE-2026-1 (CVSS 9.8)',
      'pilot: 4/16 done, 3 ok, 1 failed, 2 running',
      '⚠ failure rate 40% in pilot',
      'Approved by c33a (teams) at 2026-11-24 09:00 UTC',
    ])
      assert.ok(all.includes(want), `missing "${want}" in:\n${all}`);
  });

  it('buttons are Action.Execute whose verb is the action, with an Action.Submit fallback of the same data', () => {
    const c = renderAdaptiveCard(card());
    const approve = byTitle(c.actions, 'Approve');
    assert.equal(approve.type, 'Action.Execute');
    assert.equal(approve.verb, 'approve');
    assert.deepEqual(approve.data, {
      action: 'approve',
      rolloutId: 'rollout-acme-1',
      round: 2,
      kind: 'rollout',
    });
    assert.deepEqual(approve.fallback, {
      type: 'Action.Submit',
      title: 'Approve',
      data: approve.data,
      style: 'positive',
    });
    assert.deepEqual(decodeAction(approve.data), {
      action: 'approve',
      rolloutId: 'rollout-acme-1',
      round: 2,
    });
    const details = byTitle(c.actions, 'View details');
    assert.equal(details.verb, 'details');
    assert.equal((details.data as Json).page, 0);
  });

  it('reject asks for a required reason; defer offers 1, 3 and 7 days', () => {
    const c = renderAdaptiveCard(card());
    const reject = byTitle(c.actions, 'Reject');
    assert.equal(reject.type, 'Action.ShowCard');
    const sub = reject.card as { body: Json[]; actions: Json[] };
    assert.deepEqual(
      { id: sub.body[0]?.id, type: sub.body[0]?.type, isRequired: sub.body[0]?.isRequired },
      { id: 'reason', type: 'Input.Text', isRequired: true },
    );
    assert.ok(String(sub.body[0]?.errorMessage).length > 0);
    assert.equal(sub.actions[0]?.type, 'Action.Execute');
    assert.equal(sub.actions[0]?.verb, 'reject');
    assert.equal((sub.actions[0]?.fallback as Json).type, 'Action.Submit');
    const defer = byTitle(c.actions, 'Defer');
    assert.equal(defer.type, 'Action.ShowCard');
    const days = (defer.card as { actions: Json[] }).actions.map((a) => {
      assert.equal(a.type, 'Action.Execute');
      assert.equal(a.verb, 'defer');
      return decodeAction(a.data)?.days;
    });
    assert.deepEqual(days, [1, 3, 7]);
  });

  it('refreshes on sight for the approvers, at most 60 of them, and not at all without any', () => {
    const ids = Array.from(
      { length: 75 },
      (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    );
    const c = renderAdaptiveCard(card(), { refreshUserIds: [...ids, ids[0]!] });
    assert.equal(c.refresh?.userIds.length, TEAMS_LIMITS.refreshUsers);
    assert.deepEqual(c.refresh?.userIds, ids.slice(0, 60));
    assert.deepEqual(c.refresh?.action, {
      type: 'Action.Execute',
      verb: 'refresh',
      data: { rolloutId: 'rollout-acme-1', kind: 'rollout' },
    });
    assert.equal(renderAdaptiveCard(card()).refresh, undefined);
  });

  it('a notice (a refusal) comes first and stands out', () => {
    const c = renderAdaptiveCard(card(), {
      notice: { tone: 'attention', text: 'You are not an approver for client acme' },
    });
    assert.equal(c.body[0]?.style, 'attention');
    assert.ok(texts(c.body[0]).includes('You are not an approver for client acme'));
  });

  it('stays under the Teams message size with long content', () => {
    const long = 'x'.repeat(5000);
    const c = renderAdaptiveCard(
      card({
        window: long,
        haltReason: long,
        highlights: Array.from({ length: 5 }, (_, i) => ({
          patchId: `P${i}`,
          title: long,
          cves: Array(50).fill('CVE-2026-12345') as string[],
          cvss: 9,
          kev: true,
        })),
        rings: Array.from({ length: 40 }, (_, i) => ({
          name: `ring-${i}-${long.slice(0, 200)}`,
          devices: 1,
          succeeded: 1,
          failed: 0,
          skipped: 0,
          running: 0,
        })),
        phase: 'deploying',
      }),
    );
    assert.ok(Buffer.byteLength(JSON.stringify(c)) <= TEAMS_LIMITS.cardBytes);
  });

  it('details pages have Previous / Next as they apply, and Back to the rollout card', () => {
    const page = (n: number): PatchPage => ({
      rolloutId: 'rollout-acme-1',
      page: n,
      pages: 3,
      total: 40,
      patches: [
        {
          patchId: 'KB1',
          title: 'Fix',
          severity: 'critical',
          cves: ['CVE-1'],
          kev: true,
          decision: 'needs_approval',
          devices: 4,
        },
      ],
    });
    const titles = (n: number) => (renderDetailsCard(page(n)).actions ?? []).map((a) => a.title);
    assert.deepEqual(titles(0), ['Next', 'Back']);
    assert.deepEqual(titles(1), ['Previous', 'Next', 'Back']);
    assert.deepEqual(titles(2), ['Previous', 'Back']);
    const d = renderDetailsCard(page(1));
    assert.equal(d.version, '1.5');
    assert.equal(decodeAction(byTitle(d.actions, 'Next').data)?.page, 2);
    assert.equal(decodeAction(byTitle(d.actions, 'Previous').data)?.page, 0);
    const back = byTitle(d.actions, 'Back');
    assert.deepEqual(
      [back.type, back.verb, back.data],
      ['Action.Execute', 'refresh', { rolloutId: 'rollout-acme-1', kind: 'rollout' }],
    );
    assert.ok(texts(d.body).some((t) => t.includes('page 2 of 3')));
  });
});

describe('Teams helpers', () => {
  it('strips the bot mention and any <at> markup from command text', () => {
    const recipient = { id: '28:bot', name: 'Patchops' };
    const mention = { type: 'mention', text: '<at>Patchops</at>', mentioned: recipient };
    assert.equal(
      commandText({ text: '<at>Patchops</at> status acme', recipient, entities: [mention] }),
      'status acme',
    );
    assert.equal(
      commandText({ text: '<at>Patch Ops Bot</at>&nbsp;approve r1 <at>Ada</at>', recipient }),
      'approve r1',
    );
    assert.equal(commandText({ text: 'help', recipient }), 'help');
  });

  it('addresses channel threads with ;messageid= and keeps thread replies updatable', () => {
    const channel = '19:abc@thread.tacv2';
    assert.equal(baseConversationId(`${channel};messageid=17`), channel);
    assert.equal(messageRefOf(`${channel};messageid=17`, '18'), '17|18');
    assert.equal(messageRefOf(`${channel};messageid=17`, '17'), '17');
    assert.equal(messageRefOf(channel, '18'), '18');
    const stored = {
      channelId: 'msteams',
      serviceUrl: 'http://x/',
      bot: { id: '28:b', name: 'b' },
      conversation: { id: channel, conversationType: 'channel', isGroup: true, name: '' },
    };
    const ref = referenceIn(stored, '17');
    assert.equal(ref.conversation.id, `${channel};messageid=17`);
    assert.equal(ref.activityId, '17');
    assert.equal(stored.conversation.id, channel, 'the stored reference is not modified');
    const group = referenceIn(
      {
        ...stored,
        conversation: {
          ...stored.conversation,
          id: '19:g@thread.v2',
          conversationType: 'groupChat',
        },
      },
      '17',
    );
    assert.equal(group.conversation.id, '19:g@thread.v2');
    assert.equal(group.activityId, undefined);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const err = (v: string) => ({ statusCode: 429, response: { headers: { get: () => v } } });
    assert.equal(retryAfterMs(err('2')), 2000);
    assert.equal(retryAfterMs(err(new Date(10_000).toUTCString()), 4_000), 6000);
    assert.equal(retryAfterMs({ statusCode: 429 }), undefined);
  });
});
