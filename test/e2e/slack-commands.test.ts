import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import { decodeAction } from '../../bot/cards/model.js';
import type { patchCycle } from '../../workflows/index.js';
import { progressQuery } from '../../workflows/messages.js';
import { appHomeOpened, blockActions } from '../fakes/slack/payloads.js';
import type { FakeMessage } from '../fakes/slack/state.js';
import { policy, type TestDeps } from '../helpers/deps.js';
import { rolloutSuite } from '../helpers/rollout-suite.js';
import {
  SLACK_CHANNEL,
  clickInView,
  clickOn,
  elementOf,
  mainCard,
  runPatchCommand,
  serveSlack,
  startResponseSink,
  type ResponseSink,
  type ServedSlack,
} from '../helpers/slack.js';
import { progressUntil, until } from '../helpers/until.js';

/**
 * Every `/patch` subcommand run through signed slash-command requests to the real Bolt
 * receiver, with a real worker, dev server and PostgreSQL behind it; each check looks at
 * what the command did (workflow state, approvals, audit, store), not only at the reply.
 * Also: "View details" and its paging, the channel allow-list and the App Home contents.
 */

const APPROVER = 'U0001';
const OUTSIDER = 'U0003';
/** A channel of the workspace that is not on the allow-list (only SLACK_CHANNEL is). */
const OTHER_CHANNEL = 'C0OTHER';
const DEVICES = 10;
const DAY_MS = 86_400_000;

const needsApproval = policy(`
scope: { level: global }
approval: { default: needs_approval }
rings:
  - { name: pilot, members: { percent: 40 }, soak: 0s, successThreshold: 0, concurrency: 2 }
  - { name: broad, members: { percent: 60 }, soak: 0s, successThreshold: 0, concurrency: 2 }
windows: []
approvers: { slack: { teamId: T0001, users: [${APPROVER}] } }
approvalTimeout: { after: 10m, remindEvery: 5m, outcome: reject }
circuitBreaker: { maxFailureRate: 1, minSamples: 1000 }
reboot: { mode: if_required, userDeferrals: 0 }
`);
const policies = [needsApproval];

type Handle = WorkflowHandle<typeof patchCycle>;

describe('/patch commands, View details, allow-list and App Home, end to end', () => {
  const s = rolloutSuite();
  let slack: ServedSlack;
  let sink: ResponseSink;
  let deps: TestDeps;
  let stopWorker: () => void = () => undefined;
  let worker: Promise<void> | undefined;

  before(async () => {
    slack = await serveSlack(s, {
      policies,
      updateGapMs: 50,
      fake: {
        channels: [
          { id: SLACK_CHANNEL, name: 'patching', members: [APPROVER, OUTSIDER] },
          { id: OTHER_CHANNEL, name: 'random', members: [APPROVER, OUTSIDER] },
        ],
      },
    });
    sink = await startResponseSink();
    deps = slack.workerDeps({
      policies,
      simulator: {
        // acme is rolled out by one test; the others need clients with patches still missing.
        clients: 3,
        devicesPerClient: DEVICES,
        offlineRate: 0,
        userDeferRate: 0,
        knownBadPatch: false,
        failureRate: { perPatch: 0, perDevice: 0 },
        // Slow enough that a pause lands mid-rollout.
        latencyMs: { job: 300 },
      },
    });
    const stopped = new Promise<void>((resolve) => (stopWorker = resolve));
    worker = s.t.withWorker(deps, () => stopped);
  });
  s.beforeTeardown(async () => {
    stopWorker();
    await worker;
    await slack.close();
    sink.server.close();
  });

  const patch = (text: string, user = APPROVER, channel?: string) =>
    runPatchCommand(slack, sink, text, user, channel ? { channel } : {});
  const handleOf = (id: string): Handle => s.t.client.workflow.getHandle<typeof patchCycle>(id);
  const auditOf = async (rolloutId: string) =>
    (
      await s.db.pool.query<{ action: string; actor: string }>(
        `select action, actor from audit_events where rollout_id = $1 order by id`,
        [rolloutId],
      )
    ).rows;
  /** The App Home `user` gets when they open it now, as text. */
  const homeOf = async (user: string): Promise<string> => {
    const before = slack.fake.callsTo('views.publish').length;
    assert.equal((await slack.send(appHomeOpened({ user }))).status, 200);
    await until('views.publish', () => slack.fake.callsTo('views.publish')[before]);
    return JSON.stringify(slack.fake.homeViews.get(user)?.blocks ?? []);
  };
  /** The part of the App Home text from `heading` to the next divider. */
  const homeSection = (home: string, heading: string): string => {
    const at = home.indexOf(heading);
    assert.ok(at >= 0, `no "${heading}" in ${home}`);
    return home.slice(at, home.indexOf('"divider"', at) >>> 0 || undefined);
  };
  const approvalCard = (id: string): Promise<FakeMessage> =>
    until('the approval card', () => {
      const m = mainCard(slack.fake, id);
      return elementOf(m, 'approve') ? m : undefined;
    });

  it('status with no rollouts, scan, report with and without a client, an unknown subcommand', async () => {
    assert.equal((await patch('status')).text, 'No running rollouts.');
    assert.match((await patch('report acme')).text, /no devices known for client acme/);

    // Only approvers start scans; the refusal starts nothing.
    assert.match((await patch('scan acme', OUTSIDER)).text, /not an approver for client acme/);
    const scans = async () => {
      const ids: string[] = [];
      const list = s.t.client.workflow.list({
        query: `TaskQueue = '${s.t.taskQueue}' AND WorkflowType = 'clientScan'`,
      });
      for await (const wf of list) ids.push(wf.workflowId);
      return ids;
    };
    assert.deepEqual(await scans(), []);
    // A rollout needs a scan first; a scan may bring in a client patchops has never seen.
    assert.match(
      (await patch('rollout acme')).text,
      /unknown client "acme".*run `scan acme` first/,
    );

    for (const client of ['acme', 'globex']) {
      const reply = await patch(`scan ${client}`);
      const id = new RegExp(`^Scanning ${client} \\(workflow (scan-${client}-[\\w.-]+)\\)`).exec(
        reply.text,
      )?.[1];
      assert.ok(id, reply.text);
      const result: unknown = await s.t.client.workflow.getHandle(id).result();
      assert.deepEqual(result, { devices: DEVICES });
    }
    assert.equal((await scans()).length, 2);
    const found = await s.db.pool.query<{ client_id: string; devices: string; pairs: string }>(
      `select d.client_id, count(distinct d.id) as devices, count(dp.patch_id) as pairs
       from devices d left join device_patches dp on dp.device_id = d.id
       group by d.client_id order by d.client_id`,
    );
    assert.deepEqual(
      found.rows.map((r) => [r.client_id, Number(r.devices)]),
      [
        ['acme', DEVICES],
        ['globex', DEVICES],
      ],
    );
    assert.ok(
      found.rows.every((r) => Number(r.pairs) > 0),
      'the scans found missing patches',
    );

    // The report is the compliance snapshot of what the scans stored, per client and site.
    const devicesIn = (text: string, client: string) =>
      [
        ...text.matchAll(
          new RegExp(`• ${client} / \\S+: [\\d.]+% compliant on (\\d+) devices`, 'g'),
        ),
      ]
        .map((m) => Number(m[1]))
        .reduce((a, b) => a + b, 0);
    const acme = await patch('report acme');
    assert.equal(acme.response_type, 'ephemeral');
    assert.equal(devicesIn(acme.text, 'acme'), DEVICES, acme.text);
    assert.doesNotMatch(acme.text, /globex/);
    const all = await patch('report');
    assert.equal(devicesIn(all.text, 'acme'), DEVICES, all.text);
    assert.equal(devicesIn(all.text, 'globex'), DEVICES, all.text);

    const unknown = await patch('frobnicate acme');
    assert.match(unknown.text, /unknown command "frobnicate"/);
    assert.match(unknown.text, /Usage:/);
    assert.match(unknown.text, /\/patch approve ROLLOUT/, 'an approver is shown every command');
    assert.equal((await scans()).length, 2, 'the unknown command started nothing');
  });

  it('/patch rollout by an approver → status → approve → pause → status → resume → completed; App Home shows it', async () => {
    const started = await patch('rollout acme');
    const id = /^Started rollout (rollout-acme-[\w.-]+) for acme;/.exec(started.text)?.[1];
    assert.ok(id, started.text);
    const handle = handleOf(id);
    await progressUntil(handle, (p) => p.phase === 'awaiting_approval', 'awaiting approval');
    const row = await s.db.pool.query(`select started_by from rollouts where id = $1`, [id]);
    assert.deepEqual(row.rows, [{ started_by: `slack:${APPROVER}` }]);
    await approvalCard(id);

    assert.equal((await patch('status')).text, `• ${id} (acme): awaiting_approval`);
    const one = await patch(`status ${id}`);
    assert.equal(one.text, `Approval needed: ${id}`);
    assert.match(JSON.stringify(one.blocks), /patchops\.approve/, 'the reply carries the card');

    // App Home: waiting for this approver, not for someone who approves nothing.
    const pending = homeSection(await homeOf(APPROVER), 'Waiting for your approval');
    assert.match(pending, /Waiting for your approval\* \(1\)/);
    assert.ok(pending.includes(`\`${id}\` — acme`), pending);
    const outsider = homeSection(await homeOf(OUTSIDER), 'Waiting for your approval');
    assert.ok(!outsider.includes(id), outsider);
    assert.match(outsider, /not an approver for any client/);

    const approved = await patch(`approve ${id}`);
    assert.equal(approved.text, `${id}: approve recorded (by slack:${APPROVER}).`);
    assert.deepEqual(await s.db.store.records.approvals(id), [
      { decision: 'approve', decidedBy: `slack:${APPROVER}`, via: 'slack' },
    ]);

    await progressUntil(handle, (p) => (p.rings[0]?.started ?? 0) >= 1, 'a device started');
    // The Update answers with where the rollout now stands.
    assert.match(
      (await patch(`pause ${id}`)).text,
      new RegExp(`^${id}: pause sent by slack:${APPROVER}; it is \\w+, paused\\.$`),
    );
    const paused = await progressUntil(handle, (p) => p.paused, 'paused');
    assert.ok(!['completed', 'verifying', 'reporting'].includes(paused.phase), paused.phase);
    assert.match((await patch('status')).text, new RegExp(`^• ${id} \\(acme\\): \\w+, paused$`));
    const running = homeSection(await homeOf(APPROVER), 'Running rollouts');
    assert.match(running, /Running rollouts\* \(1\)/);
    assert.ok(running.includes(`\`${id}\` — acme: `) && running.includes('(paused)'), running);

    assert.match(
      (await patch(`resume ${id}`)).text,
      new RegExp(`^${id}: resume sent by slack:${APPROVER}; it is \\w+\\.$`),
    );
    const state = await handle.result();
    assert.equal(state.phase, 'completed');
    assert.equal(state.paused, false);
    assert.deepEqual(
      (await auditOf(id)).filter((e) => e.action.endsWith('.requested')),
      [
        { action: 'rollout.pause.requested', actor: `slack:${APPROVER}` },
        { action: 'rollout.resume.requested', actor: `slack:${APPROVER}` },
      ],
    );
    assert.equal((await patch('status')).text, 'No running rollouts.');
  });

  it('View details opens the patch list in a modal; Next shows the second page in the same modal', async () => {
    const id = `rollout-details-${Date.now().toString(36)}`;
    const handle = await s.start(id, 'globex');
    try {
      const card = await approvalCard(id);
      const page = (n: number) => s.db.store.risk.patchPage(id, n, 15);
      const first = await page(0);
      assert.ok(first.total > 15, `${first.total} patches: the test needs two pages`);
      const pages = Math.ceil(first.total / 15);

      const opened = slack.fake.callsTo('views.open').length;
      assert.equal((await slack.send(clickOn(card, 'details', APPROVER))).status, 200);
      const open = await until('views.open', () => slack.fake.callsTo('views.open')[opened]);
      assert.equal(open.status, 200);
      assert.equal(open.error, undefined);
      const shown = (v: unknown) => JSON.stringify((v as { blocks: unknown[] }).blocks);
      const one = shown(open.body.view);
      assert.ok(one.includes(`${first.total} patches, page 1 of ${pages}`), one);
      for (const p of first.patches)
        assert.ok(one.includes(`*${p.patchId}*`), `${p.patchId} on page 1`);

      const modal = [...slack.fake.views.values()].find(
        (v) => v.callback_id === 'patchops.details',
      );
      assert.ok(modal, 'the modal is open');
      const next = elementOf({ blocks: modal.blocks as unknown[] }, 'details.next');
      assert.equal(decodeAction(next?.element.value)?.page, 1);
      assert.equal(elementOf({ blocks: modal.blocks as unknown[] }, 'details.prev'), undefined);

      const updates = slack.fake.callsTo('views.update').length;
      assert.equal((await slack.send(clickInView(modal, 'details.next', APPROVER))).status, 200);
      const update = await until('views.update', () => slack.fake.callsTo('views.update')[updates]);
      assert.equal(update.body.view_id, modal.id, 'the same modal, updated in place');
      assert.equal(update.error, undefined);
      assert.equal(slack.fake.callsTo('views.open').length, opened + 1, 'no second modal');
      const second = await page(1);
      const two = shown(slack.fake.views.get(modal.id));
      assert.ok(two.includes(`page 2 of ${pages}`), two);
      for (const p of second.patches)
        assert.ok(two.includes(`*${p.patchId}*`), `${p.patchId} on page 2`);
      for (const p of first.patches)
        assert.ok(!two.includes(`*${p.patchId}*`), `${p.patchId} not on page 2`);
      assert.ok(
        elementOf({ blocks: slack.fake.views.get(modal.id)!.blocks as unknown[] }, 'details.prev'),
      );
      assert.equal((await handle.query(progressQuery)).phase, 'awaiting_approval');
    } finally {
      await handle.terminate('test over');
    }
  });

  it('a command or click from a channel not on the allow-list decides nothing', async () => {
    const id = `rollout-elsewhere-${Date.now().toString(36)}`;
    const handle = await s.start(id, 'globex');
    try {
      const card = await approvalCard(id);
      const refused = await patch(`approve ${id}`, APPROVER, OTHER_CHANNEL);
      assert.match(refused.text, /not enabled in this channel or workspace/);
      assert.doesNotMatch(refused.text, /recorded/);

      // The card's Approve button, clicked where the card was shared into another channel.
      const value = elementOf(card, 'approve')?.element.value;
      const ephemerals = slack.fake.ephemerals.length;
      const click = blockActions({
        user: APPROVER,
        channel: OTHER_CHANNEL,
        messageTs: card.ts,
        actionId: 'patchops.approve',
        ...(value !== undefined ? { value } : {}),
      });
      assert.equal((await slack.send(click)).status, 200);
      const told = await until('the answer to the click', () =>
        slack.fake.ephemerals.slice(ephemerals).find((e) => e.user === APPROVER),
      );
      assert.equal(told.channel, OTHER_CHANNEL);
      assert.match(told.text, /not enabled in this channel or workspace/);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(slack.fake.ephemerals.length, ephemerals + 1, 'nothing else was said');
      assert.equal((await handle.query(progressQuery)).phase, 'awaiting_approval');
      assert.deepEqual(await s.db.store.records.approvals(id), []);
      assert.deepEqual(
        (await auditOf(id)).filter((e) => e.actor.startsWith('slack:')),
        [],
        'nothing was attempted on the rollout',
      );
    } finally {
      await handle.terminate('test over');
    }
  });

  it('/patch defer then /patch cancel; /patch reject with a reason', async () => {
    const deferId = `rollout-defer-cmd-${Date.now().toString(36)}`;
    const rejectId = `rollout-reject-cmd-${Date.now().toString(36)}`;
    const deferred = await s.start(deferId, 'initech');
    const rejected = await s.start(rejectId, 'globex');
    await approvalCard(deferId);
    await approvalCard(rejectId);

    assert.equal(
      (await patch(`defer ${deferId}`)).text,
      `${deferId}: defer recorded (by slack:${APPROVER}).`,
    );
    await progressUntil(handleOf(deferId), (p) => p.phase === 'deferred', 'deferred');
    const row = (
      await s.db.pool.query<{ decision: string; decided_at: Date; defer_until: Date | null }>(
        `select decision, decided_at, defer_until from approvals where rollout_id = $1`,
        [deferId],
      )
    ).rows;
    assert.equal(row.length, 1);
    assert.equal(row[0]!.decision, 'defer');
    const ms = (row[0]!.defer_until?.getTime() ?? 0) - row[0]!.decided_at.getTime();
    assert.ok(Math.abs(ms - DAY_MS) < 60_000, `deferred by ${ms} ms, not the default day`);

    assert.equal(
      (await patch(`cancel ${deferId}`)).text,
      `${deferId}: cancel sent by slack:${APPROVER}; it is being cancelled.`,
    );
    const cancelled = await deferred.result();
    assert.equal(cancelled.phase, 'cancelled');
    assert.equal(cancelled.cancelled?.by, `slack:${APPROVER}`);
    assert.equal((await s.db.store.rollouts.get(deferId))?.status, 'cancelled');

    assert.match((await patch(`reject ${rejectId}`)).text, /`reject` needs a reason/);
    assert.equal((await handleOf(rejectId).query(progressQuery)).phase, 'awaiting_approval');
    assert.equal(
      (await patch(`reject ${rejectId} CAB said no`)).text,
      `${rejectId}: reject recorded (by slack:${APPROVER}).`,
    );
    assert.equal((await rejected.result()).phase, 'rejected');
    const reason = await s.db.pool.query(
      `select decision, reason, decided_by from approvals where rollout_id = $1`,
      [rejectId],
    );
    assert.deepEqual(reason.rows, [
      { decision: 'reject', reason: 'CAB said no', decided_by: `slack:${APPROVER}` },
    ]);
  });
});
