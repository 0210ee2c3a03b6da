/**
 * Contract tests of the Jira Cloud ITSM adapter against the fake Jira site: every endpoint
 * the adapter uses, Jira's error bodies, paging, retries that must not write twice, and
 * the API token kept out of every error and log line.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { pino } from 'pino';
import { z } from 'zod';
import { createHttpClient } from '../../../adapters/http/client.js';
import { HttpFailure } from '../../../adapters/http/errors.js';
import { jiraDefinition } from '../../../adapters/itsm/jira/index.js';
import { correlationLabel } from '../../../adapters/itsm/jira/correlation.js';
import {
  ItsmError,
  toItsmError,
  type ItsmAdapter,
  type TicketRef,
} from '../../../adapters/itsm/types.js';
import { AdapterRegistry } from '../../../adapters/kit.js';
import { jiraHarness, ticketDraft } from '../../fakes/jira/harness.js';
import { CHANGE_WORKFLOW, type FakeJira, type FakeJiraOptions } from '../../fakes/jira/index.js';

const EMAIL = 'ops@example.com';
const TOKEN = 'ATATT3xFfGF0-secret-token-value-42';
const WRONG = 'ATATT3xFfGF0-wrong-token-0000';
const BASIC = Buffer.from(`${EMAIL}:${TOKEN}`).toString('base64');
const WRONG_BASIC = Buffer.from(`${EMAIL}:${WRONG}`).toString('base64');

/** Every log line and error message of the whole file, checked for the token at the end. */
const logLines: string[] = [];
const errorTexts: string[] = [];
const log = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });

interface Fixture {
  fake: FakeJira;
  jira: ItsmAdapter;
}

async function setup(
  t: TestContext,
  o: { fake?: FakeJiraOptions; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<Fixture> {
  const h = await jiraHarness({ ...o, fake: { email: EMAIL, apiToken: TOKEN, ...o.fake }, log });
  t.after(() => h.close());
  return { fake: h.fake, jira: h.itsm };
}

/** Runs `fn`, expecting an ItsmError with `code`; keeps its text for the token check. */
async function rejects(fn: () => Promise<unknown>, code: string, re?: RegExp): Promise<ItsmError> {
  try {
    await fn();
  } catch (err) {
    errorTexts.push(
      String(err),
      JSON.stringify((err as { cause?: HttpFailure }).cause?.details ?? {}),
    );
    assert.ok(err instanceof ItsmError, `expected ItsmError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    if (re) assert.match(err.message, re);
    return err;
  }
  assert.fail(`expected ${code}`);
}

const draft = ticketDraft;
const opts = (key: string, recheck = false) => ({ key, recheck });
const count = (fake: FakeJira, method: string, re: RegExp) => fake.requestsTo(method, re).length;

/** A raw client on the fake, for the error bodies the adapter never provokes on purpose. */
const raw = (fake: FakeJira, token = TOKEN) =>
  createHttpClient({
    vendor: 'Jira',
    baseURL: fake.url,
    log,
    retries: 0,
    headers: { Authorization: `Basic ${Buffer.from(`${EMAIL}:${token}`).toString('base64')}` },
    secrets: [token],
  });

describe('Jira settings', () => {
  const parse = (env: Record<string, string>) =>
    new AdapterRegistry(
      'ITSM',
      'PATCHOPS_ITSM',
      [jiraDefinition],
      (_c, m) => new Error(m),
    ).parseSettings('jira', env);
  const base = {
    JIRA_SITE_URL: 'https://acme.atlassian.net/',
    JIRA_EMAIL: EMAIL,
    JIRA_API_TOKEN: TOKEN,
    JIRA_PROJECT: 'ops',
  };

  it('fills defaults matching Jira’s default workflow', () => {
    const r = parse(base);
    assert.ok(r.ok);
    assert.deepEqual(r.settings, {
      siteUrl: 'https://acme.atlassian.net',
      email: EMAIL,
      apiToken: TOKEN,
      project: 'OPS',
      issueType: 'Task',
      incidentIssueType: 'Bug',
      incidentLinkType: 'Relates',
      transitions: { approved: null, implementing: 'In Progress', done: 'Done', cancelled: null },
    });
  });

  it('names the variable of each problem and wants https except on loopback', () => {
    const r = parse({ JIRA_SITE_URL: 'http://acme.atlassian.net', JIRA_EMAIL: 'nope' });
    assert.equal(r.ok, false);
    const problems = !r.ok ? r.problems.join('\n') : '';
    assert.match(problems, /^JIRA_SITE_URL: must use https/m);
    assert.match(problems, /^JIRA_EMAIL: /m);
    assert.match(problems, /^JIRA_API_TOKEN: /m);
    assert.match(problems, /^JIRA_PROJECT: /m);
    assert.ok(!problems.includes(TOKEN));
    assert.ok(parse({ ...base, JIRA_SITE_URL: 'http://127.0.0.1:8080' }).ok);
    const off = parse({ ...base, JIRA_TRANSITION_IMPLEMENTING: 'none' });
    assert.ok(
      off.ok &&
        (off.settings as { transitions: { implementing: unknown } }).transitions.implementing ===
          null,
    );
  });

  it('marks the API token secret for redaction lists', () => {
    const secret = jiraDefinition.env.filter((v) => v.secret).map((v) => v.name);
    assert.deepEqual(secret, ['JIRA_API_TOKEN']);
  });
});

describe('Jira adapter against the fake site', () => {
  it('opens a change: ADF description, labels, correlation property, browse URL', async (t) => {
    const { fake, jira } = await setup(t);
    const ref = await jira.open(draft(), opts('acme-2026-12-06:open'));
    assert.deepEqual(ref, {
      externalId: 'OPS-1',
      number: 'OPS-1',
      url: `${fake.url}/browse/OPS-1`,
    });
    const [issue] = fake.issues();
    assert.equal(issue!.issueType, 'Task');
    assert.deepEqual(
      issue!.labels.sort(),
      ['managed-services', 'patchops', correlationLabel('acme-2026-12-06:open')].sort(),
    );
    assert.deepEqual(issue!.properties.patchops, {
      key: 'acme-2026-12-06:open',
      rolloutId: 'acme-2026-12-06',
      clientId: 'acme',
      kind: 'change',
    });
    const body = JSON.stringify(issue!.description);
    for (const piece of ['"table"', 'KB5048667', '"bulletList"', 'db-1', 'Approved by the CAB.'])
      assert.ok(body.includes(piece), piece);
    assert.deepEqual(fake.tickets(), [
      {
        id: 'OPS-1',
        number: 'OPS-1',
        kind: 'change',
        title: draft().title,
        state: 'To Do',
        comments: [],
        correlation: 'acme-2026-12-06:open',
      },
    ]);
    assert.equal(fake.requests.length, 1, 'one call: POST /issue');
  });

  it('cuts long device and patch lists so the description stays under Jira’s limit', async (t) => {
    const { fake, jira } = await setup(t);
    const devices = Array.from(
      { length: 900 },
      (_, n) => `workstation-${String(n).padStart(4, '0')}.corp.example`,
    );
    const patches = Array.from({ length: 400 }, (_, n) => ({
      id: `KB50${String(n).padStart(5, '0')}`,
      title: `Security update for component ${n}`,
      severity: 'important',
    }));
    await jira.open(draft({ devices, deviceCount: 1200, patches }), opts('big'));
    const text = JSON.stringify(fake.issues()[0]!.description);
    assert.ok(text.length <= 32_767, `${text.length} characters`);
    assert.match(text, /Devices \(1200\)/);
    assert.match(text, /… and \d+ more/);
  });

  it('opens in the client’s project when its routing names one', async (t) => {
    const { fake, jira } = await setup(t, {
      fake: {
        projects: [
          { key: 'OPS', name: 'Ops' },
          { key: 'ACME', name: 'Acme' },
        ],
      },
    });
    const ref = await jira.open(draft({ routing: { project: 'acme' } }), opts('k1'));
    assert.equal(ref.number, 'ACME-1');
    assert.equal(fake.issues()[0]!.project, 'ACME');
  });

  it('opening twice with the same key makes one issue (recheck finds it by label)', async (t) => {
    const { fake, jira } = await setup(t);
    const a = await jira.open(draft(), opts('same-key'));
    const b = await jira.open(draft(), opts('same-key', true));
    assert.deepEqual(a, b);
    assert.equal(fake.issues().length, 1);
    const [search] = fake.requestsTo('GET', /^\/rest\/api\/3\/search\/jql$/);
    assert.equal(search!.query.jql, `labels = "${correlationLabel('same-key')}"`);
    assert.equal(count(fake, 'GET', /^\/rest\/api\/3\/search$/), 0, 'never the removed /search');
  });

  it('pages through search results and picks the original over a clone', async (t) => {
    const { fake, jira } = await setup(t, { fake: { searchPageSize: 1 } });
    const first = await jira.open(draft(), opts('cloned'));
    // A person clones the change: Jira copies its labels.
    const clone = await raw(fake).request({
      method: 'POST',
      url: '/rest/api/3/issue',
      data: {
        fields: {
          project: { key: 'OPS' },
          issuetype: { name: 'Task' },
          summary: 'CLONE - rollout',
          labels: ['patchops', correlationLabel('cloned')],
        },
      },
      schema: z.looseObject({ key: z.string() }),
    });
    assert.equal(clone.data.key, 'OPS-2');
    const again = await jira.open(draft(), opts('cloned', true));
    assert.equal(again.number, first.number);
    const pages = fake.requestsTo('GET', /^\/rest\/api\/3\/search\/jql$/);
    assert.equal(pages.length, 2);
    assert.equal(pages[0]!.query.nextPageToken, undefined);
    assert.ok(pages[1]!.query.nextPageToken);
    assert.equal(pages[1]!.status, 200);
  });

  it('a create that commits and never answers is found, not repeated', async (t) => {
    const { fake, jira } = await setup(t, { timeoutMs: 300 });
    fake.fault({ method: 'POST', path: /^\/rest\/api\/3\/issue$/, commitThenHang: true });
    const ref = await jira.open(draft(), opts('hang-1'));
    assert.equal(ref.number, 'OPS-1');
    assert.equal(fake.issues().length, 1);
    assert.equal(count(fake, 'POST', /^\/rest\/api\/3\/issue$/), 1, 'never posted twice');
  });

  it('when the search index lags, the unknown create fails retryably and the recheck finds it', async (t) => {
    const { fake, jira } = await setup(t, { timeoutMs: 300, fake: { searchLagMs: 700 } });
    fake.fault({ method: 'POST', path: /^\/rest\/api\/3\/issue$/, commitThenHang: true });
    const err = await rejects(() => jira.open(draft(), opts('hang-2')), 'OUTCOME_UNKNOWN');
    assert.equal(err.retryable, true);
    await new Promise((r) => setTimeout(r, 800));
    const ref = await jira.open(draft(), opts('hang-2', true));
    assert.equal(ref.number, 'OPS-1');
    assert.equal(fake.issues().length, 1);
    assert.equal(count(fake, 'POST', /^\/rest\/api\/3\/issue$/), 1);
  });

  it('comments in ADF with a marker; a recheck finds it and writes nothing', async (t) => {
    const { fake, jira } = await setup(t);
    const ref = await jira.open(draft(), opts('o'));
    await jira.comment(ref, 'Approved by alice in #patching.', opts('o:approved'));
    await jira.comment(ref, 'Approved by alice in #patching.', opts('o:approved', true));
    const [ticket] = fake.tickets();
    assert.deepEqual(ticket!.comments, ['Approved by alice in #patching.\n[patchops:o:approved]']);
    const [post] = fake.requestsTo('POST', /\/comment$/);
    assert.equal((post!.body as { body: { type: string } }).body.type, 'doc');
  });

  it('pages through comments to find an old marker', async (t) => {
    const { fake, jira } = await setup(t, { fake: { commentPageSize: 2 } });
    const ref = await jira.open(draft(), opts('o'));
    for (let n = 0; n < 5; n++) await jira.comment(ref, `note ${n}`, opts(`o:c${n}`));
    const before = fake.requests.length;
    await jira.comment(ref, 'note 0', opts('o:c0', true));
    const reads = fake.requests.slice(before);
    assert.deepEqual(
      reads.map((r) => `${r.method} ${r.query.startAt}`),
      ['GET 0', 'GET 2', 'GET 4'],
      'three pages, no POST',
    );
    assert.equal(fake.tickets()[0]!.comments.length, 5);
  });

  it('a comment that commits and hangs is found by its marker: one comment', async (t) => {
    const { fake, jira } = await setup(t, { timeoutMs: 300 });
    const ref = await jira.open(draft(), opts('o'));
    fake.fault({ method: 'POST', path: /\/comment$/, commitThenHang: true });
    await jira.comment(ref, 'Deploying ring pilot.', opts('o:pilot'));
    await jira.comment(ref, 'Deploying ring pilot.', opts('o:pilot', true));
    assert.equal(fake.tickets()[0]!.comments.length, 1);
    assert.equal(count(fake, 'POST', /\/comment$/), 1);
  });

  it('a comment answered 500 fails retryably and the retry writes it once', async (t) => {
    const { fake, jira } = await setup(t);
    const ref = await jira.open(draft(), opts('o'));
    fake.fault({
      method: 'POST',
      path: /\/comment$/,
      status: 500,
      body: { errorMessages: ['Internal server error'], errors: {} },
    });
    await rejects(
      () => jira.comment(ref, 'x', opts('o:x')),
      'OUTCOME_UNKNOWN',
      /HTTP 500: Internal server error/,
    );
    await jira.comment(ref, 'x', opts('o:x', true));
    assert.equal(fake.tickets()[0]!.comments.length, 1);
  });

  it('advances through the default workflow by transition name, once', async (t) => {
    const { fake, jira } = await setup(t);
    const ref = await jira.open(draft(), opts('o'));
    await jira.advance(ref, 'approved', 'Approved by alice.', opts('o:approved'));
    assert.equal(
      fake.tickets()[0]!.state,
      'To Do',
      'no approved transition configured: comment only',
    );
    assert.deepEqual(fake.tickets()[0]!.comments, [
      'Approved by alice.\nStage: approved.\n[patchops:o:approved]',
    ]);
    const before = fake.requests.length;
    await jira.advance(ref, 'implementing', 'Deploying.', opts('o:implementing'));
    assert.deepEqual(
      fake.requests.slice(before).map((r) => `${r.method} ${r.path}`),
      [
        'GET /rest/api/3/issue/OPS-1',
        'POST /rest/api/3/issue/OPS-1/comment',
        'PUT /rest/api/3/issue/OPS-1/properties/patchops',
        'POST /rest/api/3/issue/OPS-1/transitions',
      ],
    );
    assert.deepEqual(fake.requestsTo('POST', /\/transitions$/)[0]!.body, {
      transition: { id: '21' },
    });
    assert.equal(fake.tickets()[0]!.state, 'In Progress');
    const mid = fake.requests.length;
    await jira.advance(ref, 'implementing', 'Deploying.', opts('o:implementing', true));
    await jira.advance(ref, 'approved', 'late', opts('o:approved2'));
    assert.equal(fake.tickets()[0]!.state, 'In Progress');
    assert.equal(
      fake.requests.length - mid,
      1 + 1,
      'approved is comment-only; implementing read once and stopped',
    );
  });

  it('a GET answered 500 is retried and the advance goes on', async (t) => {
    const { fake, jira } = await setup(t);
    const ref = await jira.open(draft(), opts('o'));
    fake.fault({
      method: 'GET',
      path: /^\/rest\/api\/3\/issue\/OPS-1$/,
      status: 500,
      body: { errorMessages: ['Internal server error'], errors: {} },
    });
    await jira.advance(ref, 'implementing', 'go', opts('o:impl'));
    assert.equal(fake.tickets()[0]!.state, 'In Progress');
    assert.deepEqual(
      fake.requestsTo('GET', /^\/rest\/api\/3\/issue\/OPS-1$/).map((r) => r.status),
      [500, 200],
    );
  });

  it('walks a change workflow whose transition names differ from statuses, then closes', async (t) => {
    const { fake, jira } = await setup(t, {
      fake: { workflow: CHANGE_WORKFLOW },
      env: {
        JIRA_TRANSITION_APPROVED: 'Approve',
        JIRA_TRANSITION_IMPLEMENTING: 'Start implementation',
        JIRA_TRANSITION_DONE: 'Complete',
        JIRA_TRANSITION_CANCELLED: 'Cancel',
      },
    });
    const ref = await jira.open(draft(), opts('o'));
    await jira.advance(ref, 'approved', 'CAB approved', opts('o:approved'));
    assert.equal(fake.tickets()[0]!.state, 'Approved');
    await jira.advance(ref, 'approved', 'CAB approved', opts('o:approved', true));
    await jira.advance(ref, 'implementing', 'pilot ring', opts('o:impl'));
    await jira.advance(ref, 'approved', 'late approval', opts('o:approved-late'));
    assert.equal(fake.tickets()[0]!.state, 'Implementing');
    assert.deepEqual(
      fake
        .requestsTo('POST', /\/transitions$/)
        .map((r) => (r.body as { transition: { id: string } }).transition.id),
      ['101', '111'],
    );
    await jira.close(ref, { code: 'successful', notes: '96 installed, 0 failed' }, opts('o:close'));
    await jira.close(
      ref,
      { code: 'successful', notes: '96 installed, 0 failed' },
      opts('o:close', true),
    );
    const [ticket] = fake.tickets();
    assert.equal(ticket!.state, 'Closed');
    assert.equal(ticket!.closeCode, 'successful');
    assert.equal(ticket!.comments.filter((c) => c.startsWith('Closed: successful.')).length, 1);
    assert.match(ticket!.comments.at(-1)!, /96 installed, 0 failed/);
  });

  it('cancels with the cancel transition, or with Done when the workflow has none', async (t) => {
    const changeFlow = await setup(t, {
      fake: { workflow: CHANGE_WORKFLOW },
      env: { JIRA_TRANSITION_DONE: 'Complete', JIRA_TRANSITION_CANCELLED: 'Cancel' },
    });
    const a = await changeFlow.jira.open(draft(), opts('a'));
    await changeFlow.jira.close(
      a,
      { code: 'cancelled', notes: 'cancelled by bob' },
      opts('a:close'),
    );
    assert.equal(changeFlow.fake.tickets()[0]!.state, 'Cancelled');
    assert.equal(changeFlow.fake.tickets()[0]!.closeCode, 'cancelled');

    const simple = await setup(t);
    const b = await simple.jira.open(draft(), opts('b'));
    await simple.jira.close(b, { code: 'cancelled', notes: 'cancelled by bob' }, opts('b:close'));
    assert.equal(simple.fake.tickets()[0]!.state, 'Done');
    assert.equal(simple.fake.tickets()[0]!.closeCode, 'cancelled');
    const before = simple.fake.requests.length;
    await simple.jira.close(b, { code: 'successful', notes: '' }, opts('b:close2'));
    assert.equal(
      simple.fake.requests.length - before,
      1,
      'already done: one read, nothing written',
    );
  });

  it('a missing transition is INVALID_TRANSITION naming the variable and what Jira offers', async (t) => {
    const { fake, jira } = await setup(t, { env: { JIRA_TRANSITION_IMPLEMENTING: 'Start Work' } });
    const ref = await jira.open(draft(), opts('o'));
    const err = await rejects(
      () => jira.advance(ref, 'implementing', 'go', opts('o:impl')),
      'INVALID_TRANSITION',
      /JIRA_TRANSITION_IMPLEMENTING.*"In Progress", "Done"/,
    );
    assert.equal(err.retryable, false);
    assert.equal(fake.tickets()[0]!.comments.length, 0, 'nothing half-written');
  });

  it('opens an incident linked to the change, found again by its key', async (t) => {
    const { fake, jira } = await setup(t);
    const change = await jira.open(draft(), opts('o'));
    const incident = {
      rolloutId: 'acme-2026-12-06',
      clientId: 'acme',
      title: 'Rollout halted: 30% failures in ring first',
      description: 'Circuit breaker opened.',
      urgency: 1 as const,
      routing: {},
    };
    const a = await jira.openIncident(change, incident, opts('o:incident'));
    const b = await jira.openIncident(change, incident, opts('o:incident', true));
    assert.deepEqual(a, b);
    const inc = fake.tickets().find((x) => x.kind === 'incident')!;
    assert.equal(inc.number, 'OPS-2');
    assert.equal(inc.linkedTo, 'OPS-1');
    assert.equal(count(fake, 'POST', /^\/rest\/api\/3\/issueLink$/), 1);
    assert.deepEqual((fake.requestsTo('POST', /issueLink$/)[0]!.body as { type: unknown }).type, {
      name: 'Relates',
    });
  });

  it('an incident whose link failed gets linked by the retry', async (t) => {
    const { fake, jira } = await setup(t);
    const change = await jira.open(draft(), opts('o'));
    const incident = {
      rolloutId: 'r',
      clientId: 'acme',
      title: 'halted',
      description: 'x',
      urgency: 2 as const,
      routing: {},
    };
    fake.fault({
      method: 'POST',
      path: /issueLink$/,
      status: 503,
      body: { errorMessages: ['Service unavailable'], errors: {} },
    });
    await rejects(() => jira.openIncident(change, incident, opts('o:inc')), 'OUTCOME_UNKNOWN');
    const ref = await jira.openIncident(change, incident, opts('o:inc', true));
    assert.equal(ref.number, 'OPS-2');
    assert.equal(fake.issues().length, 2);
    assert.equal(fake.tickets()[1]!.linkedTo, 'OPS-1');
  });

  it('waits out a 429 with Retry-After, then succeeds', async (t) => {
    const { fake, jira } = await setup(t);
    fake.rateLimit({ method: 'POST', path: /^\/rest\/api\/3\/issue$/, retryAfterSeconds: 1 });
    const started = Date.now();
    await jira.open(draft(), opts('o'));
    assert.ok(Date.now() - started >= 900, 'honoured Retry-After');
    assert.deepEqual(
      fake.requestsTo('POST', /^\/rest\/api\/3\/issue$/).map((r) => r.status),
      [429, 201],
    );
    assert.equal(fake.issues().length, 1);
  });

  it('a Retry-After too long to wait in-process is RATE_LIMITED, retryable', async (t) => {
    const { fake, jira } = await setup(t);
    fake.rateLimit({ method: 'POST', retryAfterSeconds: 600 });
    const err = await rejects(() => jira.open(draft(), opts('o')), 'RATE_LIMITED');
    assert.equal(err.retryable, true);
    assert.equal((err.cause as HttpFailure).details.retryAfterMs, 600_000);
  });

  it('maps Jira’s 401, 403 and 404 bodies to ItsmError codes', async (t) => {
    const { fake, jira } = await setup(t);
    const ref = await jira.open(draft(), opts('o'));
    const missing: TicketRef = { externalId: 'OPS-999', number: 'OPS-999', url: null };
    await rejects(() => jira.comment(missing, 'x', opts('k')), 'NOT_FOUND', /Issue does not exist/);
    fake.deny('ADD_COMMENTS');
    await rejects(() => jira.comment(ref, 'x', opts('k')), 'FORBIDDEN', /permission to comment/);

    const wrong = await setup(t, { env: { JIRA_API_TOKEN: WRONG } });
    const err = await rejects(
      () => wrong.jira.open(draft(), opts('o')),
      'AUTH_FAILED',
      /HTTP 401: Client must be authenticated/,
    );
    assert.equal(wrong.fake.issues().length, 0);
    assert.equal(err.retryable, false);
  });

  it('the fake refuses what Jira refuses: non-ADF text, bad JQL, the removed /search', async (t) => {
    const { fake, jira } = await setup(t);
    await jira.open(draft(), opts('o'));
    const client = raw(fake);
    const fail = async (req: Parameters<typeof client.request>[0], via = client) => {
      try {
        await via.request(req);
      } catch (err) {
        assert.ok(err instanceof HttpFailure);
        errorTexts.push(err.message);
        return err;
      }
      return assert.fail('expected a failure');
    };
    const comment = await fail({
      method: 'POST',
      url: '/rest/api/3/issue/OPS-1/comment',
      data: { body: 'plain text' },
      schema: z.unknown(),
    });
    assert.equal(comment.status, 400);
    assert.deepEqual(comment.details.body, {
      errorMessages: [],
      errors: { comment: 'Comment body is not valid!' },
    });
    assert.equal((toItsmError(comment) as ItsmError).code, 'INVALID_REQUEST');
    const create = await fail({
      method: 'POST',
      url: '/rest/api/3/issue',
      data: {
        fields: {
          project: { key: 'OPS' },
          issuetype: { name: 'Task' },
          summary: 's',
          description: 'plain',
        },
      },
      schema: z.unknown(),
    });
    assert.match(
      create.message,
      /HTTP 400: description: Operation value must be an Atlassian Document/,
    );
    const old = await fail({
      method: 'GET',
      url: '/rest/api/3/search',
      params: { jql: 'project = OPS' },
      schema: z.unknown(),
    });
    assert.equal(old.status, 410);
    assert.match(old.message, /migrate to the \/rest\/api\/3\/search\/jql API/);
    const unbounded = await fail({
      method: 'GET',
      url: '/rest/api/3/search/jql',
      params: { jql: '' },
      schema: z.unknown(),
    });
    assert.match(unbounded.message, /Unbounded JQL/);
    const project = await fail({
      method: 'GET',
      url: '/rest/api/3/project/NOPE',
      schema: z.unknown(),
    });
    assert.match(project.message, /No project could be found with key 'NOPE'/);
    const auth = await fail(
      { method: 'GET', url: '/rest/api/3/myself', schema: z.unknown() },
      raw(fake, WRONG),
    );
    assert.deepEqual(auth.details.body, {
      message: 'Client must be authenticated to access this resource.',
      'status-code': 401,
    });
  });

  it('the fake offers only transitions valid from the current status, ids unlike names', async (t) => {
    const { fake, jira } = await setup(t, { fake: { workflow: CHANGE_WORKFLOW } });
    await jira.open(draft(), opts('o'));
    const client = raw(fake);
    const list = z.looseObject({
      transitions: z.array(
        z.looseObject({
          id: z.string(),
          name: z.string(),
          to: z.looseObject({ name: z.string() }),
        }),
      ),
    });
    const open = await client.request({
      method: 'GET',
      url: '/rest/api/3/issue/OPS-1/transitions',
      schema: list,
    });
    assert.deepEqual(
      open.data.transitions.map((x) => `${x.id}:${x.name}->${x.to.name}`),
      ['101:Approve->Approved', '131:Cancel->Cancelled'],
    );
    const property = await client.request({
      method: 'GET',
      url: '/rest/api/3/issue/OPS-1/properties/patchops',
      schema: z.looseObject({ key: z.string(), value: z.looseObject({ key: z.string() }) }),
    });
    assert.equal(property.data.value.key, 'o');
    const viaPost = await client.request({
      method: 'POST',
      url: '/rest/api/3/search/jql',
      data: { jql: `project = OPS AND labels = ${correlationLabel('o')}`, fields: ['summary'] },
      idempotent: true,
      schema: z.looseObject({
        issues: z.array(z.looseObject({ key: z.string() })),
        isLast: z.boolean(),
      }),
    });
    assert.deepEqual(
      viaPost.data.issues.map((i) => i.key),
      ['OPS-1'],
    );
    assert.equal(viaPost.data.isLast, true);
    assert.ok(!('nextPageToken' in viaPost.data), 'absent on the last page, as Jira answers');
  });

  it('testConnection: ok, 401 naming the credentials, 404 naming the project, a missing issue type', async (t) => {
    const good = await setup(t);
    const ok = await good.jira.testConnection();
    assert.deepEqual(ok, {
      ok: true,
      detail: `signed in to ${good.fake.url} as patchops bot; project OPS (Operations)`,
    });
    assert.equal(good.fake.requests.length, 2);

    const bad = (await setup(t, { env: { JIRA_API_TOKEN: WRONG } })).jira;
    const r401 = await bad.testConnection();
    assert.equal(r401.ok, false);
    assert.match(r401.detail, /JIRA_EMAIL and JIRA_API_TOKEN/);
    errorTexts.push(r401.detail);

    const noProject = await setup(t, { env: { JIRA_PROJECT: 'NOPE' } });
    const r404 = await noProject.jira.testConnection();
    assert.equal(r404.ok, false);
    assert.match(r404.detail, /JIRA_PROJECT/);

    const noType = await setup(t, { env: { JIRA_INCIDENT_ISSUE_TYPE: 'Incident' } });
    const rType = await noType.jira.testConnection();
    assert.equal(rType.ok, false);
    assert.match(rType.detail, /"Incident" \(JIRA_INCIDENT_ISSUE_TYPE\)/);
  });

  it('calls per operation on the happy path', async (t) => {
    const { fake, jira } = await setup(t);
    const calls: Record<string, number> = {};
    const measure = async (name: string, fn: () => Promise<unknown>) => {
      const before = fake.requests.length;
      await fn();
      calls[name] = fake.requests.length - before;
    };
    let ref!: TicketRef;
    await measure('open', async () => (ref = await jira.open(draft(), opts('o'))));
    await measure('open (recheck, found)', () => jira.open(draft(), opts('o', true)));
    await measure('comment', () => jira.comment(ref, 'hi', opts('o:c')));
    await measure('comment (recheck, found)', () => jira.comment(ref, 'hi', opts('o:c', true)));
    await measure('advance approved (no transition set)', () =>
      jira.advance(ref, 'approved', 'ok', opts('o:a')),
    );
    await measure('advance implementing', () =>
      jira.advance(ref, 'implementing', 'go', opts('o:i')),
    );
    await measure('advance (already there)', () =>
      jira.advance(ref, 'implementing', 'go', opts('o:i', true)),
    );
    await measure('openIncident', () =>
      jira.openIncident(
        ref,
        { rolloutId: 'r', clientId: 'c', title: 't', description: 'd', urgency: 1, routing: {} },
        opts('o:inc'),
      ),
    );
    await measure('close', () =>
      jira.close(ref, { code: 'successful', notes: 'n' }, opts('o:close')),
    );
    await measure('close (already done)', () =>
      jira.close(ref, { code: 'successful', notes: 'n' }, opts('o:close', true)),
    );
    await measure('testConnection', () => jira.testConnection());
    t.diagnostic(JSON.stringify(calls));
    assert.deepEqual(calls, {
      open: 1,
      'open (recheck, found)': 1,
      comment: 1,
      'comment (recheck, found)': 1,
      'advance approved (no transition set)': 1,
      'advance implementing': 4,
      'advance (already there)': 1,
      openIncident: 2,
      close: 4,
      'close (already done)': 1,
      testConnection: 2,
    });
  });

  // Runs last: tests inside a describe run in order.
  it('kept the API token out of every log line and error message above', () => {
    const all = [...logLines, ...errorTexts].join('\n');
    assert.ok(logLines.length > 0 && errorTexts.length > 0, 'the check saw nothing');
    for (const secret of [TOKEN, WRONG, BASIC, WRONG_BASIC])
      assert.ok(!all.includes(secret), `a credential leaked: ${secret.slice(0, 6)}…`);
  });
});
