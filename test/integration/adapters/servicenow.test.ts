/**
 * Contract tests of the ServiceNow ITSM adapter against the fake instance
 * (test/fakes/servicenow): every Table API call it makes, the documented error bodies,
 * retries that never create or note twice, the change state walk, and no secret in any
 * error or log line. Each test also pins how many calls an operation costs.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ItsmError } from '../../../adapters/itsm/types.js';
import { servicenowDefinition } from '../../../adapters/itsm/servicenow/index.js';
import { DEFAULT_CLIENT, DEFAULT_USER } from '../../fakes/servicenow/index.js';
import {
  harness,
  incidentDraft,
  ticketDraft,
  type Harness,
} from '../../fakes/servicenow/harness.js';

const opened: Harness[] = [];
const errors: string[] = [];
async function setup(...args: Parameters<typeof harness>): Promise<Harness> {
  const h = await harness(...args);
  opened.push(h);
  return h;
}
/** Runs `fn`, expecting an ItsmError with `code`; keeps its message for the secrets check. */
async function rejectsWith(
  fn: () => Promise<unknown>,
  code: string,
  message?: RegExp,
): Promise<ItsmError> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof ItsmError, `expected ItsmError, got ${String(err)}`);
    errors.push(err.message);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return err;
  }
  assert.fail(`expected ${code}`);
}
const key = (n: string) => `wf-acme-2026-12-06:${n}`;

after(async () => {
  for (const h of opened) await h.fake.close();
});

describe('ServiceNow settings', () => {
  const parse = (env: Record<string, string>) => servicenowDefinition.settings.safeParse(env);
  const problems = (env: Record<string, string>) => {
    const r = parse(env);
    assert.equal(r.success, false);
    return r.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`);
  };
  const URL = 'https://acme.service-now.com';

  it('accepts basic or OAuth credentials, with an optional default group', () => {
    const basic = parse({
      SERVICENOW_INSTANCE_URL: `${URL}/`,
      SERVICENOW_USERNAME: 'u',
      SERVICENOW_PASSWORD: 'p',
    });
    assert.deepEqual(basic.data, {
      instanceUrl: URL,
      auth: { kind: 'basic', username: 'u', password: 'p' },
    });
    const oauth = parse({
      SERVICENOW_INSTANCE_URL: URL,
      SERVICENOW_CLIENT_ID: 'c',
      SERVICENOW_CLIENT_SECRET: 's',
      SERVICENOW_ASSIGNMENT_GROUP: 'Patch Management',
    });
    assert.deepEqual(oauth.data, {
      instanceUrl: URL,
      auth: { kind: 'oauth', clientId: 'c', clientSecret: 's' },
      assignmentGroup: 'Patch Management',
    });
    assert.ok(
      parse({
        SERVICENOW_INSTANCE_URL: 'http://127.0.0.1:8080',
        SERVICENOW_USERNAME: 'u',
        SERVICENOW_PASSWORD: 'p',
      }).success,
    );
  });

  it('names the variable to fix', () => {
    assert.match(
      problems({ SERVICENOW_INSTANCE_URL: URL }).join(),
      /SERVICENOW_USERNAME: no credentials.*SERVICENOW_CLIENT_ID/,
    );
    assert.match(
      problems({
        SERVICENOW_INSTANCE_URL: URL,
        SERVICENOW_USERNAME: 'u',
        SERVICENOW_PASSWORD: 'p',
        SERVICENOW_CLIENT_ID: 'c',
      }).join(),
      /SERVICENOW_CLIENT_ID: set one auth method/,
    );
    assert.deepEqual(problems({ SERVICENOW_INSTANCE_URL: URL, SERVICENOW_USERNAME: 'u' }), [
      'SERVICENOW_PASSWORD: is required with SERVICENOW_USERNAME',
    ]);
    assert.deepEqual(problems({ SERVICENOW_INSTANCE_URL: URL, SERVICENOW_CLIENT_SECRET: 's' }), [
      'SERVICENOW_CLIENT_ID: is required with SERVICENOW_CLIENT_SECRET',
    ]);
    assert.match(
      problems({
        SERVICENOW_INSTANCE_URL: 'http://acme.service-now.com',
        SERVICENOW_USERNAME: 'u',
        SERVICENOW_PASSWORD: 'p',
      }).join(),
      /SERVICENOW_INSTANCE_URL: must use https/,
    );
    assert.match(
      problems({
        SERVICENOW_INSTANCE_URL: `${URL}/now/nav`,
        SERVICENOW_USERNAME: 'u',
        SERVICENOW_PASSWORD: 'p',
      }).join(),
      /instance root only/,
    );
    assert.match(
      problems({ SERVICENOW_USERNAME: 'u', SERVICENOW_PASSWORD: 'p' }).join(),
      /SERVICENOW_INSTANCE_URL: is required/,
    );
  });
});

describe('ServiceNow change: open', () => {
  it('posts a normal change with every field; the group name is looked up once (1 GET group + 1 POST)', async () => {
    const h = await setup({ env: { SERVICENOW_ASSIGNMENT_GROUP: 'Patch Management' } });
    const ref = await h.itsm.open(ticketDraft(), { key: key('open'), recheck: false });
    assert.deepEqual(h.calls(), [
      'GET /api/now/table/sys_user_group',
      'POST /api/now/table/change_request',
    ]);
    const [chg] = h.fake.changes();
    assert.ok(chg);
    assert.deepEqual(ref, {
      externalId: chg.sys_id,
      number: 'CHG0030001',
      url: `${h.fake.url}/nav_to.do?uri=change_request.do?sys_id=${chg.sys_id}`,
    });
    assert.match(chg.sys_id!, /^[0-9a-f]{32}$/);
    assert.equal(chg.type, 'normal');
    assert.equal(chg.state, '-5');
    assert.equal(chg.risk, '2');
    assert.equal(chg.impact, '2');
    assert.equal(chg.start_date, '2026-12-08 22:00:00');
    assert.equal(chg.end_date, '2026-12-09 04:30:00');
    assert.equal(chg.correlation_id, key('open'));
    assert.equal(chg.correlation_display, 'patchops');
    assert.equal(chg.assignment_group, h.fake.groups['Patch Management']);
    assert.match(
      chg.description!,
      /December patches[\s\S]*KB5048667: 2026-12 Cumulative Update .*\[critical, critical\][\s\S]*Devices \(3\):\n- acme-web-01\n- acme-web-02\n- acme-db-01/,
    );
    // Every value the instance keeps is a string; the POST asked for plain values only.
    assert.ok(Object.values(chg).every((v) => typeof v === 'string'));
    const post = h.fake.requestsTo('POST', /change_request$/)[0]!;
    assert.equal(post.query.sysparm_exclude_reference_link, 'true');
    assert.equal(post.status, 201);

    // A client's routing overrides the default; the group name cache saves the lookup next time.
    await h.itsm.open(
      ticketDraft({ emergency: true, routing: { assignmentGroup: 'Service Desk' } }),
      { key: key('em'), recheck: false },
    );
    await h.itsm.open(ticketDraft({ routing: { assignmentGroup: 'Service Desk' } }), {
      key: key('em2'),
      recheck: false,
    });
    assert.deepEqual(h.calls(), [
      'GET /api/now/table/sys_user_group',
      'POST /api/now/table/change_request',
      'POST /api/now/table/change_request',
    ]);
    const em = h.fake.changes()[1]!;
    assert.equal(em.type, 'emergency');
    assert.equal(em.assignment_group, h.fake.groups['Service Desk']);
  });

  it('an unknown group is INVALID_REQUEST naming both places to fix it', async () => {
    const h = await setup();
    await rejectsWith(
      () =>
        h.itsm.open(ticketDraft({ routing: { assignmentGroup: 'No Such Team' } }), {
          key: key('g'),
          recheck: false,
        }),
      'INVALID_REQUEST',
      /"No Such Team" was not found.*SERVICENOW_ASSIGNMENT_GROUP.*tickets\.assignmentGroup/,
    );
    assert.equal(h.fake.changes().length, 0);
  });

  it('open twice with the same key and recheck: one change (recheck = 1 GET, +1 POST only when absent)', async () => {
    const h = await setup();
    const a = await h.itsm.open(ticketDraft(), { key: key('twice'), recheck: true });
    assert.deepEqual(h.calls(), [
      'GET /api/now/table/change_request',
      'POST /api/now/table/change_request',
    ]);
    const b = await h.itsm.open(ticketDraft(), { key: key('twice'), recheck: true });
    assert.deepEqual(h.calls(), ['GET /api/now/table/change_request']);
    assert.deepEqual(a, b);
    assert.equal(h.fake.changes().length, 1);
    const lookup = h.fake.requestsTo('GET', /change_request$/)[0]!;
    assert.equal(
      lookup.query.sysparm_query,
      `correlation_id=${key('twice')}^ORDERBYsys_created_on`,
    );
    assert.equal(lookup.query.sysparm_limit, '1');
  });

  it('a create that commits and never answers is found, and a retry with recheck finds it again: one change', async () => {
    const h = await setup({ settings: { http: { timeoutMs: 300, retryBaseMs: 10 } } });
    h.fake.fault({ method: 'POST', path: /change_request$/, commitThenHang: true });
    const first = await h.itsm.open(ticketDraft(), { key: key('hang'), recheck: false });
    assert.deepEqual(h.calls(), [
      'POST /api/now/table/change_request',
      'GET /api/now/table/change_request',
    ]);
    const retry = await h.itsm.open(ticketDraft(), { key: key('hang'), recheck: true });
    assert.deepEqual(retry, first);
    assert.equal(h.fake.changes().length, 1);
    assert.ok(h.lines.some((l) => l.includes('create outcome unknown')));
  });

  it('a create lost before it reached the instance is OUTCOME_UNKNOWN (retryable), never posted twice', async () => {
    const h = await setup();
    h.fake.fault({
      method: 'POST',
      path: /change_request$/,
      status: 502,
      body: '<html>Bad Gateway</html>',
    });
    const err = await rejectsWith(
      () => h.itsm.open(ticketDraft(), { key: key('lost'), recheck: false }),
      'OUTCOME_UNKNOWN',
    );
    assert.equal(err.retryable, true);
    assert.deepEqual(h.calls(), [
      'POST /api/now/table/change_request',
      'GET /api/now/table/change_request',
    ]);
    await h.itsm.open(ticketDraft(), { key: key('lost'), recheck: true });
    assert.equal(h.fake.changes().length, 1);
  });

  it('a long key is stored as a readable prefix plus hash that fits correlation_id (100)', async () => {
    const h = await setup();
    const long = `wf-${'x'.repeat(150)}^open`;
    const a = await h.itsm.open(ticketDraft(), { key: long, recheck: true });
    const b = await h.itsm.open(ticketDraft(), { key: long, recheck: true });
    assert.deepEqual(a, b);
    const cid = h.fake.changes()[0]!.correlation_id!;
    assert.ok(cid.length <= 100 && !cid.includes('^'), cid);
  });
});

describe('ServiceNow work notes', () => {
  it('comment = 1 PATCH of work_notes with the key marker; with recheck 1 GET first, and nothing twice', async () => {
    const h = await setup();
    const ref = await h.itsm.open(ticketDraft(), { key: key('open'), recheck: false });
    h.calls();
    await h.itsm.comment(ref, 'Pilot ring: 10 of 10 devices patched.', {
      key: key('pilot'),
      recheck: false,
    });
    assert.deepEqual(h.calls(), ['PATCH /api/now/table/change_request/{id}']);
    await h.itsm.comment(ref, 'Pilot ring: 10 of 10 devices patched.', {
      key: key('pilot'),
      recheck: true,
    });
    assert.deepEqual(h.calls(), ['GET /api/now/table/change_request/{id}']);
    const read = h.fake.requestsTo('GET', /change_request\/[0-9a-f]{32}$/)[0]!;
    assert.equal(read.query.sysparm_display_value, 'true');
    assert.equal(read.query.sysparm_fields, 'work_notes');
    await h.itsm.comment(ref, 'Broad ring started.', { key: key('broad'), recheck: true });
    assert.deepEqual(h.calls(), [
      'GET /api/now/table/change_request/{id}',
      'PATCH /api/now/table/change_request/{id}',
    ]);
    assert.deepEqual(h.fake.tickets()[0]!.comments, [
      `Pilot ring: 10 of 10 devices patched.\n\n[patchops:${key('pilot')}]`,
      `Broad ring started.\n\n[patchops:${key('broad')}]`,
    ]);
  });

  it('a note whose PATCH hangs after the instance saved it is found; the retry with recheck adds nothing', async () => {
    const h = await setup({ settings: { http: { timeoutMs: 300, retryBaseMs: 10 } } });
    const ref = await h.itsm.open(ticketDraft(), { key: key('open'), recheck: false });
    h.calls();
    h.fake.fault({ method: 'PATCH', commitThenHang: true });
    await h.itsm.comment(ref, 'Deploying to pilot.', { key: key('c1'), recheck: false });
    assert.deepEqual(h.calls(), [
      'PATCH /api/now/table/change_request/{id}',
      'GET /api/now/table/change_request/{id}',
    ]);
    await h.itsm.comment(ref, 'Deploying to pilot.', { key: key('c1'), recheck: true });
    assert.equal(h.fake.journal().filter((j) => j.element === 'work_notes').length, 1);
  });

  it('comments on an incident go to the incident table; an unknown record is NOT_FOUND', async () => {
    const h = await setup();
    const chg = await h.itsm.open(ticketDraft(), { key: key('open'), recheck: false });
    const inc = await h.itsm.openIncident(chg, incidentDraft(), {
      key: key('inc'),
      recheck: false,
    });
    h.calls();
    await h.itsm.comment(inc, 'Paused by the on-call engineer.', {
      key: key('inc-note'),
      recheck: true,
    });
    assert.deepEqual(h.calls(), [
      'GET /api/now/table/incident/{id}',
      'PATCH /api/now/table/incident/{id}',
    ]);
    const gone = { externalId: 'a'.repeat(32), number: 'CHG0099999', url: null };
    await rejectsWith(
      () => h.itsm.comment(gone, 'x', { key: key('gone'), recheck: false }),
      'NOT_FOUND',
      /No Record found/,
    );
  });
});

describe('ServiceNow change: state walk', () => {
  it('New → Scheduled → Implement one state at a time; nothing when already there or beyond', async () => {
    const h = await setup();
    const ref = await h.itsm.open(ticketDraft(), { key: key('open'), recheck: false });
    h.calls();
    await h.itsm.advance(ref, 'approved', 'Approved in Slack by dana.', {
      key: key('approved'),
      recheck: false,
    });
    assert.deepEqual(h.calls(), [
      'GET /api/now/table/change_request/{id}',
      ...Array<string>(3).fill('PATCH /api/now/table/change_request/{id}'),
    ]);
    const states = h.fake
      .requestsTo('PATCH', /change_request/)
      .map((r) => (r.body as Record<string, string>).state);
    assert.deepEqual(states, ['-4', '-3', '-2']);
    assert.equal(h.fake.tickets()[0]!.state, 'Scheduled');
    // The note rides on the last move only.
    assert.deepEqual(h.fake.tickets()[0]!.comments, [
      `Approved in Slack by dana.\n\n[patchops:${key('approved')}]`,
    ]);

    await h.itsm.advance(ref, 'implementing', 'Pilot ring started.', {
      key: key('impl'),
      recheck: false,
    });
    assert.deepEqual(h.calls(), [
      'GET /api/now/table/change_request/{id}',
      'PATCH /api/now/table/change_request/{id}',
    ]);
    await h.itsm.advance(ref, 'approved', 'again', { key: key('approved'), recheck: true });
    await h.itsm.advance(ref, 'implementing', 'again', { key: key('impl'), recheck: true });
    assert.deepEqual(h.calls(), [
      'GET /api/now/table/change_request/{id}',
      'GET /api/now/table/change_request/{id}',
    ]);
    assert.equal(h.fake.tickets()[0]!.state, 'Implement');
    assert.equal(h.fake.tickets()[0]!.comments.length, 2);
  });

  it('an emergency change skips Assess (2 PATCH to Scheduled)', async () => {
    const h = await setup();
    const ref = await h.itsm.open(ticketDraft({ emergency: true }), {
      key: key('em'),
      recheck: false,
    });
    h.calls();
    await h.itsm.advance(ref, 'approved', 'KEV: expedited approval.', {
      key: key('em-ok'),
      recheck: false,
    });
    assert.deepEqual(h.calls(), [
      'GET /api/now/table/change_request/{id}',
      'PATCH /api/now/table/change_request/{id}',
      'PATCH /api/now/table/change_request/{id}',
    ]);
    const t = h.fake.tickets()[0]!;
    assert.deepEqual([t.state, t.type], ['Scheduled', 'emergency']);
  });

  it('the instance refuses a skipped state with the state model business rule; the adapter says INVALID_TRANSITION', async () => {
    const h = await setup();
    const ref = await h.itsm.open(ticketDraft(), { key: key('open'), recheck: false });
    const auth = `Basic ${Buffer.from(`${DEFAULT_USER.username}:${DEFAULT_USER.password}`).toString('base64')}`;
    const res = await fetch(`${h.fake.url}/api/now/table/change_request/${ref.externalId}`, {
      method: 'PATCH',
      headers: {
        Authorization: auth,
        'Content-Type': 'application/json',
        Accept: 'application/json',
      },
      body: JSON.stringify({ state: '-1' }),
    });
    assert.equal(res.status, 403);
    const refusal = (await res.json()) as {
      error: { message: string; detail: string };
      status: string;
    };
    assert.equal(refusal.status, 'failure');
    assert.equal(refusal.error.message, 'Operation Failed');
    assert.match(
      refusal.error.detail,
      /^Operation against file 'change_request' was aborted by Business Rule 'State model - Can change state\?\^[0-9a-f]{32}'/,
    );
    assert.equal(h.fake.tickets()[0]!.state, 'New');

    // Where the instance's own model is stricter than patchops', the same body comes back.
    h.fake.fault({ method: 'PATCH', status: 403, body: refusal });
    const err = await rejectsWith(
      () => h.itsm.advance(ref, 'approved', 'Approved.', { key: key('approved'), recheck: false }),
      'INVALID_TRANSITION',
      /CHG0030001 from New to Assess.*State model - Can change state/,
    );
    assert.equal(err.retryable, false);
  });

  it('close walks Implement → Review → Closed with close code and notes; a closed change is left alone', async () => {
    const h = await setup();
    const ref = await h.itsm.open(ticketDraft(), { key: key('open'), recheck: false });
    await h.itsm.advance(ref, 'implementing', 'Go.', { key: key('impl'), recheck: false });
    h.calls();
    const notes = '94 installed, 2 failed, 0 pending reboot.';
    await h.itsm.close(
      ref,
      { code: 'successful_issues', notes },
      { key: key('close'), recheck: false },
    );
    assert.deepEqual(h.calls(), [
      'GET /api/now/table/change_request/{id}',
      'PATCH /api/now/table/change_request/{id}',
      'PATCH /api/now/table/change_request/{id}',
    ]);
    const [review, closed] = h.fake
      .requestsTo('PATCH', /change_request/)
      .slice(-2)
      .map((r) => r.body);
    assert.deepEqual(review, { state: '0', close_code: 'successful_issues', close_notes: notes });
    assert.deepEqual(closed, { state: '3', close_code: 'successful_issues', close_notes: notes });
    const t = h.fake.tickets()[0]!;
    assert.equal(t.state, 'Closed');
    assert.equal(t.closeCode, 'successful_issues');
    assert.equal(h.fake.changes()[0]!.active, 'false');
    await h.itsm.close(
      ref,
      { code: 'successful', notes: 'again' },
      { key: key('close'), recheck: true },
    );
    await h.itsm.close(
      ref,
      { code: 'cancelled', notes: 'again' },
      { key: key('close'), recheck: true },
    );
    assert.deepEqual(h.calls(), [
      'GET /api/now/table/change_request/{id}',
      'GET /api/now/table/change_request/{id}',
    ]);
    assert.equal(h.fake.changes()[0]!.close_code, 'successful_issues');
  });

  it('Closed without a close code is a data policy refusal (INVALID_REQUEST, not FORBIDDEN)', async () => {
    const h = await setup();
    const ref = await h.itsm.open(ticketDraft(), { key: key('open'), recheck: false });
    await h.itsm.advance(ref, 'implementing', 'Go.', { key: key('impl'), recheck: false });
    h.fake.fault({
      method: 'PATCH',
      status: 403,
      body: {
        error: {
          message: 'Operation Failed',
          detail: 'Data Policy Exception: \n\tThe following fields are mandatory: Close code',
        },
        status: 'failure',
      },
    });
    await rejectsWith(
      () =>
        h.itsm.close(
          ref,
          { code: 'successful', notes: 'ok' },
          { key: key('close'), recheck: false },
        ),
      'INVALID_REQUEST',
      /mandatory: Close code/,
    );
  });

  it('cancel: one PATCH to Canceled from an open state; from Review (where Cancel is disabled) it closes unsuccessful', async () => {
    const h = await setup();
    const a = await h.itsm.open(ticketDraft(), { key: key('a'), recheck: false });
    await h.itsm.advance(a, 'approved', 'ok', { key: key('a-ok'), recheck: false });
    h.calls();
    await h.itsm.close(
      a,
      { code: 'cancelled', notes: 'Rollout cancelled by dana.' },
      { key: key('a-close'), recheck: false },
    );
    assert.deepEqual(h.calls(), [
      'GET /api/now/table/change_request/{id}',
      'PATCH /api/now/table/change_request/{id}',
    ]);
    assert.equal(h.fake.tickets()[0]!.state, 'Canceled');

    const b = await h.itsm.open(ticketDraft(), { key: key('b'), recheck: false });
    await h.itsm.advance(b, 'implementing', 'go', { key: key('b-go'), recheck: false });
    const auth = `Basic ${Buffer.from(`${DEFAULT_USER.username}:${DEFAULT_USER.password}`).toString('base64')}`;
    const toReview = await fetch(`${h.fake.url}/api/now/table/change_request/${b.externalId}`, {
      method: 'PATCH',
      headers: { Authorization: auth, 'Content-Type': 'application/json' },
      body: JSON.stringify({ state: '0' }),
    });
    assert.equal(toReview.status, 200);
    const cancelInReview = await fetch(
      `${h.fake.url}/api/now/table/change_request/${b.externalId}`,
      {
        method: 'PATCH',
        headers: { Authorization: auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ state: '4' }),
      },
    );
    assert.equal(cancelInReview.status, 403);
    await h.itsm.close(
      b,
      { code: 'cancelled', notes: 'Stopped.' },
      { key: key('b-close'), recheck: false },
    );
    const t = h.fake.tickets()[1]!;
    assert.deepEqual([t.state, t.closeCode], ['Closed', 'unsuccessful']);
    assert.match(h.fake.changes()[1]!.close_notes!, /cancelled after implementation\. Stopped\./);
  });

  it('a 500 on the state read is retried (GET is repeatable) and the walk goes on', async () => {
    const h = await setup();
    const ref = await h.itsm.open(ticketDraft(), { key: key('open'), recheck: false });
    h.fake.fault({
      method: 'GET',
      status: 500,
      body: { error: { message: 'Internal server error', detail: null }, status: 'failure' },
    });
    await h.itsm.advance(ref, 'approved', 'ok', { key: key('ok'), recheck: false });
    const gets = h.fake.requestsTo('GET', /change_request\//).map((r) => r.status);
    assert.deepEqual(gets, [500, 200]);
    assert.equal(h.fake.tickets()[0]!.state, 'Scheduled');
  });
});

describe('ServiceNow incident', () => {
  it('opens an incident caused by the change, found again by key (1 POST; recheck 1 GET)', async () => {
    // A group given as a sys_id is sent as it is, without a name lookup.
    const h = await setup({
      env: { SERVICENOW_ASSIGNMENT_GROUP: 'd625dccec0a8016700a222a0f7900d06' },
    });
    const chg = await h.itsm.open(ticketDraft(), { key: key('open'), recheck: false });
    h.calls();
    const inc = await h.itsm.openIncident(chg, incidentDraft({ urgency: 1 }), {
      key: key('halt'),
      recheck: false,
    });
    assert.deepEqual(h.calls(), ['POST /api/now/table/incident']);
    assert.equal(inc.number, 'INC0010001');
    assert.equal(inc.url, `${h.fake.url}/nav_to.do?uri=incident.do?sys_id=${inc.externalId}`);
    const again = await h.itsm.openIncident(chg, incidentDraft({ urgency: 1 }), {
      key: key('halt'),
      recheck: true,
    });
    assert.deepEqual(again, inc);
    assert.deepEqual(h.calls(), ['GET /api/now/table/incident']);
    const [row] = h.fake.incidents();
    assert.equal(h.fake.incidents().length, 1);
    assert.equal(row!.caused_by, chg.externalId);
    assert.deepEqual([row!.urgency, row!.impact, row!.priority], ['1', '1', '1']);
    assert.equal(row!.correlation_id, key('halt'));
    assert.equal(row!.assignment_group, 'd625dccec0a8016700a222a0f7900d06');
    const t = h.fake.tickets().find((x) => x.kind === 'incident')!;
    assert.deepEqual([t.linkedTo, t.state, t.correlation], [chg.externalId, 'New', key('halt')]);
  });
});

describe('ServiceNow auth, roles and connection test', () => {
  it('testConnection: one GET of change_request; ok with basic auth', async () => {
    const h = await setup();
    const check = await h.itsm.testConnection();
    assert.deepEqual(check, {
      ok: true,
      detail: `ServiceNow ${h.fake.url}: signed in (basic), change_request readable`,
    });
    assert.deepEqual(h.calls(), ['GET /api/now/table/change_request']);
    assert.equal(h.fake.requests[0]!.query.sysparm_limit, '1');
  });

  it('a wrong password: 401 with the instance body; testConnection names the variables, never the password', async () => {
    const h = await setup({ env: { SERVICENOW_PASSWORD: 'Wrong-Pa55word-1234' } });
    const check = await h.itsm.testConnection();
    assert.equal(check.ok, false);
    assert.match(
      check.detail,
      /HTTP 401: User Not Authenticated; Required to provide Auth information.*check SERVICENOW_USERNAME\/SERVICENOW_PASSWORD/,
    );
    assert.ok(!check.detail.includes('Wrong-Pa55word-1234'));
    errors.push(check.detail);
    const res = h.fake.requests[0]!;
    assert.equal(res.status, 401);
    await rejectsWith(
      () => h.itsm.open(ticketDraft(), { key: key('x'), recheck: false }),
      'AUTH_FAILED',
      /SERVICENOW_USERNAME/,
    );
    assert.equal(h.fake.changes().length, 0);
  });

  it('a user without the itil role: 403 on the query, 404 on a record it cannot read; the fix names the roles', async () => {
    const h = await setup({
      fake: {
        users: [
          {
            username: 'patchops.integration',
            password: 'Integration-Pa55word!',
            roles: ['snc_platform_rest_api_access'],
          },
        ],
      },
    });
    const check = await h.itsm.testConnection();
    assert.equal(check.ok, false);
    assert.match(check.detail, /HTTP 403: Insufficient rights to query records.*itil role/);
    const ref = { externalId: 'b'.repeat(32), number: 'CHG0030001', url: null };
    await rejectsWith(
      () => h.itsm.advance(ref, 'approved', 'x', { key: key('x'), recheck: false }),
      'NOT_FOUND',
      /ACL restricts the record retrieval/,
    );
    await rejectsWith(
      () => h.itsm.open(ticketDraft(), { key: key('x'), recheck: false }),
      'FORBIDDEN',
      /ACL Exception Insert Failed.*itil/,
    );
  });

  it('OAuth client credentials: one token for many calls, a new one after a 401', async () => {
    const h = await setup({ auth: 'oauth' });
    assert.equal((await h.itsm.testConnection()).ok, true);
    const ref = await h.itsm.open(ticketDraft(), { key: key('o'), recheck: false });
    assert.deepEqual(h.calls(), [
      'POST /oauth_token.do',
      'GET /api/now/table/change_request',
      'POST /api/now/table/change_request',
    ]);
    const form = h.fake.requests[0]!.body as Record<string, string>;
    assert.deepEqual(form, {
      grant_type: 'client_credentials',
      client_id: DEFAULT_CLIENT.clientId,
      client_secret: DEFAULT_CLIENT.clientSecret,
    });
    assert.match(h.fake.requests[1]!.headers.authorization!, /^Bearer [A-Za-z0-9_-]{40,}$/);
    h.fake.expireTokens();
    await h.itsm.comment(ref, 'note', { key: key('on'), recheck: false });
    assert.deepEqual(h.calls(), [
      'PATCH /api/now/table/change_request/{id}',
      'POST /oauth_token.do',
      'PATCH /api/now/table/change_request/{id}',
    ]);
    assert.deepEqual(
      h.fake.requests.slice(-3).map((r) => r.status),
      [401, 200, 200],
    );
    assert.equal(h.fake.tickets()[0]!.comments.length, 1);
  });

  it('a wrong client secret: the token endpoint says access_denied; testConnection names the OAuth variables', async () => {
    const h = await setup({
      auth: 'oauth',
      env: { SERVICENOW_CLIENT_SECRET: 'Not-The-Secret-987' },
    });
    const check = await h.itsm.testConnection();
    assert.equal(check.ok, false);
    assert.match(
      check.detail,
      /oauth_token\.do: HTTP 401: server_error.*SERVICENOW_CLIENT_ID\/SERVICENOW_CLIENT_SECRET/,
    );
    assert.ok(!check.detail.includes('Not-The-Secret-987'));
    errors.push(check.detail);
    assert.deepEqual(h.calls(), ['POST /oauth_token.do']);
  });
  it('an instance that does not answer: testConnection says so instead of throwing', async () => {
    const h = await setup({ settings: { http: { timeoutMs: 300, retries: 1, retryBaseMs: 10 } } });
    await h.fake.close();
    const check = await h.itsm.testConnection();
    assert.equal(check.ok, false);
    assert.match(
      check.detail,
      /no answer.*check SERVICENOW_INSTANCE_URL and that the instance is up/,
    );
  });

  it('a draft with a bad planned start is INVALID_REQUEST naming the field, and nothing is sent', async () => {
    const h = await setup();
    await rejectsWith(
      () =>
        h.itsm.open(ticketDraft({ plannedStart: 'next Tuesday' }), {
          key: key('d'),
          recheck: false,
        }),
      'INVALID_REQUEST',
      /plannedStart is not an ISO 8601 date-time/,
    );
    assert.deepEqual(h.calls(), []);
  });
});

describe('ServiceNow limits and wire format', () => {
  it('429 with Retry-After (inbound rate limit rule) is waited out and the call succeeds', async () => {
    const h = await setup({ fake: { rateLimit: { limit: 2, windowMs: 1_000 } } });
    const ref = await h.itsm.open(ticketDraft(), { key: key('rl'), recheck: true });
    const started = Date.now();
    await h.itsm.advance(ref, 'approved', 'ok', { key: key('rl-ok'), recheck: false });
    const limited = h.fake.requests.find((r) => r.status === 429)!;
    assert.ok(limited, 'expected a 429');
    assert.ok(Date.now() - started >= 500, 'the client waited for Retry-After');
    assert.equal(h.fake.tickets()[0]!.state, 'Scheduled');
    assert.equal(h.fake.changes().length, 1);
  });

  it('a 429 on a create is retried (the instance did nothing) and still makes one change', async () => {
    const h = await setup();
    h.fake.fault({
      method: 'POST',
      status: 429,
      retryAfterSeconds: 1,
      body: {
        error: {
          message: 'Rate limit exceeded',
          detail: 'Rate limit of 100 requests per hour for Table API exceeded',
        },
        status: 'failure',
      },
    });
    await h.itsm.open(ticketDraft(), { key: key('429'), recheck: false });
    assert.deepEqual(
      h.fake.requests.map((r) => r.status),
      [429, 201],
    );
    assert.equal(h.fake.changes().length, 1);
  });

  it('the fake pages with sysparm_limit/offset, Link and X-Total-Count (the adapter asks for 1 row, never pages)', async () => {
    const h = await setup();
    for (const n of [1, 2, 3, 4, 5])
      await h.itsm.open(ticketDraft(), { key: key(`p${n}`), recheck: false });
    const auth = `Basic ${Buffer.from(`${DEFAULT_USER.username}:${DEFAULT_USER.password}`).toString('base64')}`;
    let next: string | undefined =
      `${h.fake.url}/api/now/table/change_request?sysparm_query=correlation_idSTARTSWITHwf-acme^ORDERBYnumber&sysparm_fields=number&sysparm_limit=2`;
    const numbers: string[] = [];
    const totals: string[] = [];
    while (next) {
      const res = await fetch(next, {
        headers: { Authorization: auth, Accept: 'application/json' },
      });
      totals.push(res.headers.get('x-total-count')!);
      numbers.push(
        ...((await res.json()) as { result: Array<{ number: string }> }).result.map(
          (r) => r.number,
        ),
      );
      next = /<([^>]+)>;rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
    }
    assert.deepEqual(numbers, [
      'CHG0030001',
      'CHG0030002',
      'CHG0030003',
      'CHG0030004',
      'CHG0030005',
    ]);
    assert.deepEqual(totals, ['5', '5', '5']);
  });

  it('an answer without the documented shape is WIRE_FORMAT, naming the field', async () => {
    const h = await setup();
    h.fake.fault({
      method: 'POST',
      status: 201,
      body: { result: { sys_id: 'CHG-not-a-sys-id', number: 'CHG0030001', correlation_id: '' } },
    });
    await rejectsWith(
      () => h.itsm.open(ticketDraft(), { key: key('w'), recheck: false }),
      'WIRE_FORMAT',
      /result\.sys_id/,
    );
  });
});

describe('ServiceNow secrets', () => {
  it('no password, client secret or token appears in any error message or log line of this suite', () => {
    const tokens = opened.flatMap((h) =>
      h.fake.requests
        .map((r) => /^Bearer (.+)$/.exec(r.headers.authorization ?? '')?.[1])
        .filter((t): t is string => !!t),
    );
    assert.ok(tokens.length > 0, 'the suite used OAuth tokens');
    const basics = [DEFAULT_USER.password, `${DEFAULT_USER.username}:${DEFAULT_USER.password}`].map(
      (s) => Buffer.from(s).toString('base64'),
    );
    const secrets = [
      DEFAULT_USER.password,
      DEFAULT_CLIENT.clientSecret,
      'Wrong-Pa55word-1234',
      'Not-The-Secret-987',
      ...tokens,
      ...basics,
    ];
    const text = [...errors, ...opened.flatMap((h) => h.lines)];
    assert.ok(text.length > 20);
    for (const s of secrets)
      assert.ok(!text.some((l) => l.includes(s)), `a secret leaked: ${s.slice(0, 4)}…`);
  });
});
