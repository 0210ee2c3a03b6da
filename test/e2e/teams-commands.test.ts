/**
 * Teams commands typed as messages, end to end: botbuilder's real CloudAdapter over HTTP, the
 * fake Bot Connector capturing replies, a real Temporal worker running the workflows and
 * PostgreSQL. Each command is checked by what it did (workflow state, approvals, audit), not
 * only by the reply.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { clientScan, patchCycle } from '../../workflows/index.js';
import { progressQuery } from '../../workflows/messages.js';
import * as fake from '../fakes/teams/activities.js';
import { startFakeConnector, type FakeConnector } from '../fakes/teams/connector.js';
import { postActivity } from '../fakes/teams/tokens.js';
import { rolloutSuite } from '../helpers/rollout-suite.js';
import {
  ADA,
  CHANNEL,
  TENANT,
  cardOf,
  repliesTo,
  serveTeams,
  teamsWorkerDeps,
  textOf,
  until,
  type ServedFrontDoor,
} from '../helpers/teams.js';
import { testLog } from '../helpers/temporal.js';

const DEVICES = 6;
const MALLORY = {
  id: '29:mallory',
  aadObjectId: '5d1c0b5e-0000-4000-8000-00000000beef',
  name: 'Mallory',
};
// Unique per run: a failed run must not leave a workflow that blocks the next one's start.
const run = randomBytes(3).toString('hex');

describe('Teams commands sent as messages', () => {
  const s = rolloutSuite();
  let connector: FakeConnector;
  let bot: ServedFrontDoor;
  const personal = (user?: fake.TeamsContext['user']) =>
    fake.teamsContext({
      serviceUrl: connector.serviceUrl,
      conversationId: `a:1personal-${user?.aadObjectId ?? ADA}`,
      tenantId: TENANT,
      ...(user ? { user } : {}),
    });
  const inChannel = () =>
    fake.teamsContext({
      serviceUrl: connector.serviceUrl,
      conversationId: CHANNEL,
      tenantId: TENANT,
      botName: 'patchops',
    });
  /** Sends `text` as a message and answers the text of the bot's replies to it. */
  const say = async (text: string, ctx = personal()) => {
    const m = fake.message(ctx, { text });
    const r = await postActivity(bot.url, m);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const replies = repliesTo(connector, m.id);
    assert.ok(replies.length > 0, `no reply to "${text}"`);
    return replies.join('\n');
  };
  const phaseOf = (id: string) => s.t.client.workflow.getHandle(id).query(progressQuery);
  const awaiting = (id: string) =>
    until(`${id} awaiting approval`, async () => (await phaseOf(id)).phase === 'awaiting_approval');

  before(async () => {
    connector = await startFakeConnector();
    bot = await serveTeams(s, testLog);
    // Known as the scheduled scans know it: chat commands only take clients patchops knows.
    await s.db.store.inventory.upsertClients([{ id: 'acme', name: 'Acme Corporation' }]);
    const install = await postActivity(bot.url, fake.conversationUpdateInstall(inChannel()));
    assert.equal(install.status, 200);
  });
  after(async () => {
    await bot?.close();
    await connector?.close();
  });

  it('scan starts a real scan workflow; report then shows its devices', async () => {
    await s.t.withWorker(teamsWorkerDeps(s, { devicesPerClient: DEVICES }), async () => {
      const reply = await say('scan acme');
      const id = /Scanning acme \(workflow (scan-acme-[\w.-]+)\)/.exec(reply)?.[1];
      assert.ok(id, reply);
      const scanned = await s.t.client.workflow.getHandle<typeof clientScan>(id).result();
      assert.equal(scanned.devices, DEVICES);
    });
    const report = await say('report acme');
    const counts = [...report.matchAll(/• acme \/ \S+: [\d.]+% compliant on (\d+) devices/g)];
    assert.ok(counts.length > 0, report);
    assert.equal(
      counts.reduce((n, m) => n + Number(m[1]), 0),
      DEVICES,
    );
  });

  it('help lists what each person may run; unknown input gets that list, not just "try help"', async () => {
    const help = await say('help');
    for (const line of ['status [client|rollout]', 'approve ROLLOUT [reason]', 'scan CLIENT'])
      assert.ok(help.includes(line), help);

    const unknown = await say('frobnicate the fleet');
    assert.match(unknown, /^unknown command "frobnicate"\. You can run:/);
    for (const line of ['help — ', 'report [client] — ', 'approve ROLLOUT [reason] — '])
      assert.ok(unknown.includes(line), unknown);

    // Someone who approves for no client sees only the read-only commands, both ways.
    for (const text of ['help', 'frobnicate']) {
      const outsider = await say(text, personal(MALLORY));
      assert.ok(outsider.includes('status [client|rollout]'), outsider);
      assert.ok(!outsider.includes('approve ROLLOUT'), outsider);
      assert.match(outsider, /not an approver for any client/);
    }

    // In a channel the usage says how to address the bot there.
    const inThread = await say('what now', inChannel());
    assert.match(inThread, /unknown command "what"[\s\S]*@patchops approve ROLLOUT/);
    const missing = await say('reject');
    assert.match(missing, /`reject` needs a rollout id[\s\S]*You can run:[\s\S]*cancel ROLLOUT/);
  });

  it('rollout by an approver @-mentioning the bot in a channel, then approve by message', async () => {
    const state = await s.t.withWorker(
      teamsWorkerDeps(s, { devicesPerClient: DEVICES }),
      async () => {
        const m = fake.message(inChannel(), { text: 'rollout acme' });
        assert.equal(m.text, '<at>patchops</at> rollout acme');
        assert.deepEqual(m.entities?.[0]?.type, 'mention');
        assert.equal((await postActivity(bot.url, m)).status, 200);
        const reply = repliesTo(connector, m.id).join('\n');
        const id = /Started rollout (rollout-acme-[\w.-]+) for acme/.exec(reply)?.[1];
        assert.ok(id, reply);
        await awaiting(id);
        await until('its approval card in the channel', () =>
          connector.activities(CHANNEL).find((a) => textOf(cardOf(a)).includes(id)),
        );
        const audit = await s.db.store.audit.listBySubject('rollout', id);
        assert.ok(
          audit.some((e) => e.actor === `teams:${ADA}`),
          `started by Ada: ${JSON.stringify(audit.map((e) => [e.action, e.actor]))}`,
        );

        assert.match(await say(`approve ${id} patch tuesday`), /approve recorded \(by teams:c33/);
        assert.deepEqual(await s.db.store.records.approvals(id), [
          { decision: 'approve', decidedBy: `teams:${ADA}`, via: 'teams' },
        ]);
        return s.t.client.workflow.getHandle<typeof patchCycle>(id).result();
      },
    );
    assert.equal(state.phase, 'completed');
  });

  it('reject needs a reason and then ends the rollout rejected', async () => {
    const id = `rollout-teams-cmd-reject-${run}`;
    const state = await s.t.withWorker(teamsWorkerDeps(s), async () => {
      const handle = await s.start(id);
      await awaiting(id);
      assert.match(await say(`reject ${id}`), /`reject` needs a reason/);
      assert.equal((await phaseOf(id)).phase, 'awaiting_approval');
      assert.match(await say(`reject ${id} change freeze`), /reject recorded/);
      return handle.result();
    });
    assert.equal(state.phase, 'rejected');
    assert.deepEqual(await s.db.store.records.approvals(id), [
      { decision: 'reject', decidedBy: `teams:${ADA}`, via: 'teams' },
    ]);
  });

  it('defer puts the rollout off; cancel during the defer ends it', async () => {
    const id = `rollout-teams-cmd-defer-${run}`;
    const state = await s.t.withWorker(teamsWorkerDeps(s), async () => {
      const handle = await s.start(id);
      await awaiting(id);
      assert.match(await say(`defer ${id} 3d not this week`), /defer recorded/);
      const p = await phaseOf(id);
      assert.equal(p.phase, 'deferred');
      const until3d = Date.parse(p.decision?.until ?? '') - Date.now();
      assert.ok(until3d > 2.9 * 86_400_000 && until3d <= 3 * 86_400_000, p.decision?.until);
      assert.match(await say(`cancel ${id} superseded`), /cancel sent by teams:c33/);
      return handle.result();
    });
    assert.equal(state.phase, 'cancelled');
    assert.deepEqual(await s.db.store.records.approvals(id), [
      { decision: 'defer', decidedBy: `teams:${ADA}`, via: 'teams' },
    ]);
    const audit = await s.db.store.audit.listBySubject('rollout', id);
    const cancel = audit.find((e) => e.action === 'rollout.cancel.requested');
    assert.equal(cancel?.actor, `teams:${ADA}`);
    assert.equal(cancel?.data.reason, 'superseded');
  });

  it('pause and resume reach the workflow and the stored card state', async () => {
    const id = `rollout-teams-cmd-pause-${run}`;
    await s.t.withWorker(teamsWorkerDeps(s), async () => {
      const handle = await s.start(id);
      await awaiting(id);
      assert.match(await say(`pause ${id}`), /pause sent/);
      await until('paused', async () => (await phaseOf(id)).paused);
      assert.equal((await s.db.store.cards.facts(id))?.paused, true);
      assert.match(await say(`resume ${id}`), /resume sent/);
      await until('resumed', async () => !(await phaseOf(id)).paused);
      assert.equal((await s.db.store.cards.facts(id))?.paused, false);
      // Someone who may not decide cannot pause it, and the attempt is on record. In a
      // personal chat they may not even see it: the answer does not say whether it exists.
      assert.equal(
        await say(`pause ${id}`, personal(MALLORY)),
        `No client or rollout "${id}" that you can see here.`,
      );
      assert.match(
        await say(`pause ${id}`, { ...inChannel(), user: MALLORY }),
        /not an approver for client acme/,
        'in the channel the cards go to, they see it and are told why',
      );
      assert.equal((await phaseOf(id)).paused, false);
      assert.match(await say(`cancel ${id}`), /cancel sent/);
      assert.equal((await handle.result()).phase, 'cancelled');
    });
    const audit = await s.db.store.audit.listBySubject('rollout', id);
    assert.deepEqual(
      audit
        .filter((e) => e.action.startsWith('rollout.') && e.action.endsWith('.requested'))
        .map((e) => e.action),
      ['rollout.pause.requested', 'rollout.resume.requested', 'rollout.cancel.requested'],
    );
    assert.ok(
      audit.some(
        (e) => e.action === 'chat.unauthorised' && e.actor === `teams:${MALLORY.aadObjectId}`,
      ),
    );
  });
});
