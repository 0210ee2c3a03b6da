import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Notifier } from '../../adapters/chat/types.js';
import { ensureComplianceSchedules } from '../../cli/commands/report.js';
import { complianceDaily, complianceReport } from '../../workflows/index.js';
import { startFakeSlack, type FakeSlack } from '../fakes/slack/web-api.js';
import {
  seedComplianceFleet,
  slackConfigFor,
  slackNotifierWithImages,
} from '../helpers/compliance-fleet.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { testDeps } from '../helpers/deps.js';
import { connectTemporal, type TemporalHarness } from '../helpers/temporal.js';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

describe('compliance workflows', () => {
  let db: TestDatabase;
  let t: TemporalHarness;
  let slack: FakeSlack;
  let slackNotifier: Notifier;
  /** Fails the next postImage after it has shared the file: a worker dying mid-activity. */
  let failAfterUpload = false;

  before(async () => {
    db = await createTestDatabase();
    await seedComplianceFleet(db.store, new Date());
    t = await connectTemporal();
    slack = await startFakeSlack();
    const real = slackNotifierWithImages(slackConfigFor(slack.url));
    slackNotifier = {
      ...real,
      postImage: async (...args) => {
        const posted = await real.postImage!(...args);
        if (failAfterUpload) {
          failAfterUpload = false;
          throw new Error('worker died after the upload');
        }
        return posted;
      },
    };
  });
  after(async () => {
    await slack.close();
    await t.close();
    await db.drop();
  });

  const run = <T>(fn: () => Promise<T>) => {
    const deps = testDeps(db.store);
    return t.withWorker({ ...deps, notifiers: [...deps.notifiers, slackNotifier] }, fn);
  };
  const uploads = (client: string, period: string) =>
    [...slack.files.values()].filter((f) => f.filename === `compliance-${client}-${period}.png`);

  it('daily: a snapshot of every client and site, then the new alerts', async () => {
    const r = await run(() =>
      t.client.workflow.execute(complianceDaily, {
        taskQueue: t.taskQueue,
        workflowId: `daily-${t.taskQueue}`,
        args: [{}],
      }),
    );
    // 2 client totals + 3 sites; acme 4 alerts (see alerts.test.ts) + beta 1.
    assert.deepEqual(r, { snapshots: 5, alerts: 5 });
    assert.equal((await db.store.compliance.history({ site: 'all' })).length, 5);
  });

  it('weekly: each client gets its report with the chart once per week, even when retried or run again', async () => {
    const period = '2026-W49';
    const first = await run(async () => {
      // The first upload of the week "crashes" after Slack shared it: the retry finds it.
      failAfterUpload = true;
      return t.client.workflow.execute(complianceReport, {
        taskQueue: t.taskQueue,
        workflowId: `weekly-${t.taskQueue}-1`,
        args: [{ period }],
      });
    });
    // Two clients × (log notifier + Slack) = 4 posts; acme's log post was made by the attempt
    // that failed, so the retry that completed counts 1 + beta's 2 (its Slack post is the
    // upload the failed attempt made, found again by file name).
    assert.deepEqual(first, { period, clients: 2, posted: 3 });
    assert.equal(await db.store.alerts.postsLike(`report:acme:${period}:`), 2);
    assert.equal(await db.store.alerts.postsLike(`report:beta:${period}:`), 2);
    for (const client of ['acme', 'beta']) {
      const files = uploads(client, period);
      assert.equal(files.length, 1, `${client}: one upload`);
      const png = files[0]!.bytes!;
      assert.deepEqual([...png.subarray(0, 8)], PNG_SIGNATURE);
      assert.ok(png.length > 10_000, `${client}: ${png.length} bytes`);
      assert.deepEqual(files[0]!.channels, ['C0001']);
    }
    const shares = (slack.messages.get('C0001') ?? []).filter((m) => m.upload);
    assert.equal(shares.length, 2);
    assert.match(shares[0]!.text, /Compliance report acme, 2026-W49/);
    assert.match(
      shares[0]!.text,
      /Overall: 75\.0% compliant \(3\/4 devices\) · 1 SLA breaches · 1 open KEV/,
    );
    assert.match(shares[0]!.text, /• s2: 100\.0% compliant/);

    const again = await run(() =>
      t.client.workflow.execute(complianceReport, {
        taskQueue: t.taskQueue,
        workflowId: `weekly-${t.taskQueue}-2`,
        args: [{ period }],
      }),
    );
    assert.deepEqual(again, { period, clients: 2, posted: 0 });
    assert.equal(uploads('acme', period).length, 1);
    assert.equal(slack.callsTo('files.completeUploadExternal').length, 2);
  });

  it('the schedules are created once and updated after', async () => {
    const prefix = `${t.taskQueue}-`;
    try {
      assert.deepEqual(
        (await ensureComplianceSchedules(t.client, t.taskQueue, prefix)).map((s) => s.created),
        [true, true],
      );
      assert.deepEqual(
        (await ensureComplianceSchedules(t.client, t.taskQueue, prefix)).map((s) => s.created),
        [false, false],
      );
      const weekly = await t.client.schedule.getHandle(`${prefix}compliance-weekly`).describe();
      assert.equal(
        weekly.action.type === 'startWorkflow' ? weekly.action.workflowType : '',
        'complianceReport',
      );
      assert.equal(weekly.spec.calendars?.[0]?.dayOfWeek?.[0]?.start, 'MONDAY');
    } finally {
      for (const id of ['compliance-daily', 'compliance-weekly'])
        await t.client.schedule
          .getHandle(`${prefix}${id}`)
          .delete()
          .catch(() => undefined);
    }
  });
});
