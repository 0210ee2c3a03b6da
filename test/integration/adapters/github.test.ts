/**
 * Contract of the GitHub issues ITSM adapter against the fake GitHub REST API: every
 * endpoint it uses, GitHub's errors and rate limits, paging, and the retry cases — a create
 * that committed but never answered, a create that failed — never making two of anything.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { AdapterRegistry } from '../../../adapters/kit.js';
import { githubDefinition } from '../../../adapters/itsm/github/index.js';
import { ItsmError, type TicketDraft, type TicketRef } from '../../../adapters/itsm/types.js';
import { FAKE_GITHUB_TOKEN } from '../../fakes/github/index.js';
import { githubHarness, type GitHubHarness } from '../../fakes/github/harness.js';

const draft = (over: Partial<TicketDraft> = {}): TicketDraft => ({
  rolloutId: 'acme-2026-12-06',
  clientId: 'acme',
  title: 'Patch rollout acme-2026-12-06: 2 patches on 3 devices',
  description: 'Monthly patches for acme.',
  devices: ['web-01', 'web-02', 'db|01'],
  deviceCount: 3,
  patches: [
    { id: 'KB5044284', title: '2024-10 Cumulative Update', severity: 'critical', tier: 'critical' },
    { id: 'openssl-3.0.15', title: 'OpenSSL', severity: 'important' },
  ],
  emergency: false,
  risk: 'high',
  impact: 1,
  plannedStart: '2026-12-08T22:00:00Z',
  plannedEnd: '2026-12-09T04:00:00Z',
  routing: {},
  ...over,
});

const incident = {
  rolloutId: 'acme-2026-12-06',
  clientId: 'acme',
  title: 'Rollout halted',
  description: '4 of 10 failed',
  urgency: 1 as const,
  routing: {},
};

/** Every harness, so the last test can check no secret reached any log line. */
const harnesses: GitHubHarness[] = [];
const errors: unknown[] = [];
async function harness(o: Parameters<typeof githubHarness>[0] = {}) {
  const h = await githubHarness(o);
  harnesses.push(h);
  return h;
}
async function failure(p: Promise<unknown>): Promise<ItsmError> {
  const err = await p.then(
    () => assert.fail('expected a failure'),
    (e: unknown) => e,
  );
  errors.push(err);
  assert.ok(err instanceof ItsmError, `expected ItsmError, got ${String(err)}`);
  return err;
}
const calls = (h: GitHubHarness) =>
  h.fake.requests.map((r) => `${r.method} ${r.path}${r.query.page ? `?page=${r.query.page}` : ''}`);

after(async () => {
  for (const h of harnesses) await h.close();
});

describe('GitHub ITSM: settings', () => {
  const registry = new AdapterRegistry(
    'ITSM',
    'PATCHOPS_ITSM',
    [githubDefinition],
    (c, m) => new ItsmError(c, m),
  );
  const problems = (env: Record<string, string>) => {
    const r = registry.parseSettings('github', env);
    return r.ok ? [] : r.problems;
  };

  it('names the variables to fix', () => {
    assert.match(problems({})[0] ?? '', /^GITHUB_REPOSITORY: required/);
    assert.match(
      problems({ GITHUB_REPOSITORY: 'acme/patching' }).join('\n'),
      /GITHUB_TOKEN: required: a token \(GITHUB_TOKEN\), or a GitHub App \(GITHUB_APP_ID/,
    );
    assert.match(
      problems({ GITHUB_REPOSITORY: 'acme', GITHUB_TOKEN: 'x' }).join(),
      /GITHUB_REPOSITORY: expected "owner\/name"/,
    );
    assert.match(
      problems({ GITHUB_REPOSITORY: 'a/b', GITHUB_TOKEN: 'x', GITHUB_APP_ID: '1' }).join(),
      /GITHUB_TOKEN: set either GITHUB_TOKEN or the GitHub App variables/,
    );
    assert.deepEqual(problems({ GITHUB_REPOSITORY: 'a/b', GITHUB_APP_ID: '1' }).sort(), [
      'GITHUB_APP_INSTALLATION_ID: required with the other GITHUB_APP_* variables',
      'GITHUB_APP_PRIVATE_KEY: required with the other GITHUB_APP_* variables',
    ]);
    assert.match(
      problems({
        GITHUB_REPOSITORY: 'a/b',
        GITHUB_APP_ID: '1',
        GITHUB_APP_INSTALLATION_ID: '2',
        GITHUB_APP_PRIVATE_KEY: '/nonexistent/key.pem',
      }).join(),
      /GITHUB_APP_PRIVATE_KEY: neither PEM text nor a readable file \(ENOENT\)/,
    );
    assert.match(
      problems({
        GITHUB_REPOSITORY: 'a/b',
        GITHUB_TOKEN: 'x',
        GITHUB_API_URL: 'http://ghe.example.com/api/v3',
      }).join(),
      /GITHUB_API_URL: must be https/,
    );
    assert.deepEqual(
      problems({
        GITHUB_REPOSITORY: 'a/b',
        GITHUB_TOKEN: 'x',
        GITHUB_API_URL: 'http://127.0.0.1:9/api/v3',
      }),
      [],
    );
  });

  it('keeps the token out of the parsed problems', () => {
    assert.ok(
      !problems({ GITHUB_REPOSITORY: 'a', GITHUB_TOKEN: FAKE_GITHUB_TOKEN })
        .join()
        .includes(FAKE_GITHUB_TOKEN),
    );
  });
});

describe('GitHub ITSM: change tickets', () => {
  it('opens an issue with labels, tables and the correlation marker (1 call)', async () => {
    const h = await harness({ env: { GITHUB_LABELS: 'ops, patching' } });
    const ref = await h.itsm.open(draft({ emergency: true, routing: { labels: ['acme'] } }), {
      key: 'acme-2026-12-06/open',
      recheck: false,
    });
    assert.deepEqual(ref, {
      externalId: 'acme/patching#1',
      number: 'acme/patching#1',
      url: 'https://github.com/acme/patching/issues/1',
    });
    assert.deepEqual(calls(h), ['POST /repos/acme/patching/issues']);
    const [issue] = h.fake.issues();
    assert.deepEqual(
      issue!.labels.map((l) => l.name),
      ['patchops', 'patchops:change', 'patchops:emergency', 'ops', 'patching', 'acme'],
    );
    assert.match(
      issue!.body!,
      /\| KB5044284 \| 2024-10 Cumulative Update \| critical \| critical \|/,
    );
    assert.match(issue!.body!, /\| db\\\|01 \|/);
    assert.match(issue!.body!, /<!-- patchops:correlation=acme-2026-12-06%2Fopen -->/);
    assert.equal(h.fake.tickets()[0]!.correlation, 'acme-2026-12-06/open');
    assert.match(h.fake.requests[0]!.headers.authorization!, /^token /);
  });

  it('opening twice with the same key makes one issue; the recheck pages through the list', async () => {
    const h = await harness({ settings: { pageSize: 2 } });
    const first = await h.itsm.open(draft(), { key: 'k-old', recheck: false });
    for (let i = 0; i < 4; i++)
      await h.itsm.open(draft({ title: `other ${i}` }), { key: `k-${i}`, recheck: false });
    h.fake.requests.length = 0;
    const again = await h.itsm.open(draft(), { key: 'k-old', recheck: true });
    assert.deepEqual(again, first);
    assert.equal(h.fake.issues().length, 5);
    // Newest first, 2 a page: the oldest issue is on page 3, reached through the Link header.
    assert.deepEqual(calls(h), [
      'GET /repos/acme/patching/issues',
      'GET /repositories/1000/issues?page=2',
      'GET /repositories/1000/issues?page=3',
    ]);
    assert.deepEqual(h.fake.requests[0]!.query, {
      labels: 'patchops,patchops:change',
      state: 'all',
      sort: 'created',
      direction: 'desc',
      per_page: '2',
    });
  });

  it('a create that committed and never answered is found, not repeated', async () => {
    const h = await harness({ settings: { timeoutMs: 300 } });
    h.fake.fault({ method: 'POST', path: /\/issues$/, commitThenHang: true });
    const ref = await h.itsm.open(draft(), { key: 'hang', recheck: false });
    assert.equal(ref.externalId, 'acme/patching#1');
    assert.equal(h.fake.issues().length, 1);
    assert.deepEqual(calls(h), [
      'POST /repos/acme/patching/issues',
      'GET /repos/acme/patching/issues',
    ]);
  });

  it('a create that failed with a 500 is looked up, then left to the retry with recheck', async () => {
    const h = await harness();
    h.fake.fault({
      method: 'POST',
      path: /\/issues$/,
      status: 502,
      body: { message: 'Server Error' },
    });
    const err = await failure(h.itsm.open(draft(), { key: 'five', recheck: false }));
    assert.equal(err.code, 'OUTCOME_UNKNOWN');
    assert.equal(err.retryable, true);
    assert.match(
      err.message,
      /^GitHub POST \/repos\/\{owner\}\/\{repo\}\/issues: HTTP 502: Server Error/,
    );
    assert.deepEqual(calls(h), [
      'POST /repos/acme/patching/issues',
      'GET /repos/acme/patching/issues',
    ]);
    await h.itsm.open(draft(), { key: 'five', recheck: true });
    await h.itsm.open(draft(), { key: 'five', recheck: true });
    assert.equal(h.fake.issues().length, 1);
  });

  it("without GITHUB_WRITE_INTERVAL_MS, octokit's own write pacing applies", async () => {
    const h = await harness({ env: { GITHUB_WRITE_INTERVAL_MS: '' } });
    assert.equal(h.settings.writeIntervalMs, undefined);
    const ref = await h.itsm.open(draft(), { key: 'paced', recheck: false });
    assert.equal(ref.externalId, 'acme/patching#1');
  });

  it('routes to the client repository', async () => {
    const h = await harness({ fake: { repos: ['acme/patching', 'acme/client-b'] } });
    const ref = await h.itsm.open(draft({ routing: { repo: 'acme/client-b' } }), {
      key: 'b',
      recheck: false,
    });
    assert.equal(ref.externalId, 'acme/client-b#1');
    await assert.rejects(
      h.itsm.open(draft({ routing: { repo: 'nope' } }), { key: 'c', recheck: false }),
      /tickets\.repo "nope"/,
    );
  });
});

describe('GitHub ITSM: comments, stages, closing', () => {
  const opened = async (h: GitHubHarness): Promise<TicketRef> => {
    const ref = await h.itsm.open(draft(), { key: 'open', recheck: false });
    h.fake.requests.length = 0;
    return ref;
  };

  it('comments once per key; the recheck pages through the comments', async () => {
    const h = await harness({ settings: { pageSize: 2 } });
    const ref = await opened(h);
    for (let i = 0; i < 3; i++)
      await h.itsm.comment(ref, `note ${i}`, { key: `c${i}`, recheck: false });
    await h.itsm.comment(ref, 'note 0', { key: 'c0', recheck: true });
    await h.itsm.comment(ref, 'note 3', { key: 'c3', recheck: true });
    assert.deepEqual(h.fake.tickets()[0]!.comments, ['note 0', 'note 1', 'note 2', 'note 3']);
    assert.deepEqual(calls(h).slice(3), [
      'GET /repos/acme/patching/issues/1/comments',
      'GET /repos/acme/patching/issues/1/comments',
      'GET /repositories/1000/issues/1/comments?page=2',
      'POST /repos/acme/patching/issues/1/comments',
    ]);
  });

  it('a comment that committed and never answered is found', async () => {
    const h = await harness({ settings: { timeoutMs: 300 } });
    const ref = await opened(h);
    h.fake.fault({ method: 'POST', path: /\/comments$/, commitThenHang: true });
    await h.itsm.comment(ref, 'deploying ring pilot', { key: 'ring-pilot', recheck: false });
    assert.deepEqual(h.fake.tickets()[0]!.comments, ['deploying ring pilot']);
  });

  it('advances by adding labels, keeping labels people added, once', async () => {
    const h = await harness();
    const ref = await opened(h);
    // Someone triages the issue by hand between our calls.
    h.fake.state
      .repo('acme', 'patching')!
      .issues[0]!.labels.push(
        h.fake.state.label(h.fake.state.repo('acme', 'patching')!, 'needs-cab'),
      );
    await h.itsm.advance(ref, 'approved', 'Approved by alice', { key: 'approve', recheck: false });
    assert.deepEqual(calls(h), [
      'GET /repos/acme/patching/issues/1',
      'POST /repos/acme/patching/issues/1/comments',
      'POST /repos/acme/patching/issues/1/labels',
    ]);
    assert.deepEqual(h.fake.requests[2]!.body, { labels: ['patchops:approved'] });
    h.fake.requests.length = 0;
    await h.itsm.advance(ref, 'approved', 'Approved by alice', { key: 'approve', recheck: true });
    assert.deepEqual(
      calls(h),
      ['GET /repos/acme/patching/issues/1'],
      'already there: one read, no write',
    );
    await h.itsm.advance(ref, 'implementing', 'Ring pilot started', {
      key: 'impl',
      recheck: false,
    });
    h.fake.requests.length = 0;
    await h.itsm.advance(ref, 'approved', 'late', { key: 'late', recheck: false });
    assert.deepEqual(calls(h), ['GET /repos/acme/patching/issues/1'], 'further already: nothing');
    const issue = h.fake.issues()[0]!;
    assert.deepEqual(
      issue.labels.map((l) => l.name),
      ['patchops', 'patchops:change', 'needs-cab', 'patchops:approved', 'patchops:implementing'],
    );
    assert.deepEqual(h.fake.tickets()[0]!.comments, ['Approved by alice', 'Ring pilot started']);
  });

  it('closes with a comment, state_reason and the close-code label; a closed one is left alone', async () => {
    const h = await harness();
    const ref = await opened(h);
    await h.itsm.advance(ref, 'approved', 'ok', { key: 'a', recheck: false });
    h.fake.requests.length = 0;
    await h.itsm.close(
      ref,
      { code: 'successful_issues', notes: '95 installed, 1 failed' },
      { key: 'close', recheck: false },
    );
    assert.deepEqual(calls(h), [
      'GET /repos/acme/patching/issues/1',
      'POST /repos/acme/patching/issues/1/comments',
      'PATCH /repos/acme/patching/issues/1',
    ]);
    const [t] = h.fake.tickets();
    assert.equal(t!.state, 'closed');
    assert.equal(t!.closeCode, 'successful_issues');
    assert.equal(h.fake.issues()[0]!.state_reason, 'completed');
    assert.deepEqual(
      h.fake.issues()[0]!.labels.map((l) => l.name),
      ['patchops', 'patchops:change', 'patchops:approved', 'patchops:successful_issues'],
    );
    assert.equal(t!.comments.at(-1), 'Closed: successful_issues\n\n95 installed, 1 failed');
    h.fake.requests.length = 0;
    await h.itsm.close(
      ref,
      { code: 'successful_issues', notes: 'again' },
      { key: 'close', recheck: true },
    );
    assert.deepEqual(calls(h), ['GET /repos/acme/patching/issues/1']);
  });

  it('cancels as not planned; unsuccessful closes as completed', async () => {
    const h = await harness();
    const a = await h.itsm.open(draft(), { key: 'a', recheck: false });
    const b = await h.itsm.open(draft(), { key: 'b', recheck: false });
    await h.itsm.close(
      a,
      { code: 'cancelled', notes: 'Cancelled by bob' },
      { key: 'a/close', recheck: false },
    );
    await h.itsm.close(
      b,
      { code: 'unsuccessful', notes: '0 installed' },
      { key: 'b/close', recheck: false },
    );
    const [ia, ib] = h.fake.issues();
    assert.deepEqual(
      [ia!.state, ia!.state_reason, h.fake.tickets()[0]!.closeCode],
      ['closed', 'not_planned', 'cancelled'],
    );
    assert.deepEqual(
      [ib!.state, ib!.state_reason, h.fake.tickets()[1]!.closeCode],
      ['closed', 'completed', 'unsuccessful'],
    );
  });
});

describe('GitHub ITSM: incidents', () => {
  it('opens an incident linked both ways, found again by its key', async () => {
    const h = await harness();
    const change = await h.itsm.open(draft(), { key: 'open', recheck: false });
    const inc = await h.itsm.openIncident(change, incident, { key: 'halt', recheck: false });
    assert.equal(inc.externalId, 'acme/patching#2');
    const again = await h.itsm.openIncident(change, incident, { key: 'halt', recheck: true });
    assert.deepEqual(again, inc);
    const [c, i] = h.fake.tickets();
    assert.deepEqual(
      [i!.kind, i!.linkedTo, i!.correlation],
      ['incident', 'acme/patching#1', 'halt'],
    );
    assert.deepEqual(c!.comments, ['Incident #2 opened: Rollout halted']);
    assert.equal(h.fake.issues().length, 2);
  });
});

describe('GitHub ITSM: errors and rate limits', () => {
  it('401: AUTH_FAILED naming GitHub, endpoint and status, never the token', async () => {
    const h = await harness({ env: { GITHUB_TOKEN: 'ghp_wrongWrongWrongWrongWrong000000000000' } });
    const err = await failure(h.itsm.open(draft(), { key: 'x', recheck: false }));
    assert.equal(err.code, 'AUTH_FAILED');
    assert.equal(
      err.message,
      'GitHub POST /repos/{owner}/{repo}/issues: HTTP 401: Bad credentials',
    );
    assert.ok(!JSON.stringify(err.cause).includes('ghp_wrong'));
  });

  it('404 for an unknown issue: NOT_FOUND', async () => {
    const h = await harness();
    const err = await failure(
      h.itsm.advance(
        { externalId: 'acme/patching#9', number: 'acme/patching#9', url: null },
        'approved',
        'n',
        { key: 'k', recheck: false },
      ),
    );
    assert.equal(err.code, 'NOT_FOUND');
    assert.match(
      err.message,
      /GET \/repos\/\{owner\}\/\{repo\}\/issues\/\{issue_number\}: HTTP 404: Not Found/,
    );
  });

  it('secondary rate limit (403 + retry-after): waits and succeeds without a second issue', async () => {
    const h = await harness();
    h.fake.secondaryRateLimit({ method: 'POST', retryAfterSeconds: 1 });
    const t0 = Date.now();
    await h.itsm.open(draft(), { key: 'rl', recheck: false });
    assert.ok(Date.now() - t0 >= 900, 'honoured retry-after');
    assert.deepEqual(
      h.fake.requestsTo('POST', /issues$/).map((r) => r.status),
      [403, 201],
    );
    assert.equal(h.fake.issues().length, 1);
    assert.ok(
      h.lines.some((l) => l.includes('GitHub secondary rate limit hit; retrying after 1 s')),
    );
  });

  it('a rate limit longer than worth waiting fails RATE_LIMITED with the wait', async () => {
    const h = await harness();
    h.fake.secondaryRateLimit({ status: 429, retryAfterSeconds: 120 });
    const err = await failure(
      h.itsm
        .testConnection()
        .then((r) => (r.ok ? r : Promise.reject(new ItsmError('RATE_LIMITED', r.detail)))),
    );
    assert.equal(err.code, 'RATE_LIMITED');
    assert.match(
      err.message,
      /HTTP 429: You have exceeded a secondary rate limit.*retry after 120 s/,
    );
  });

  it('primary rate limit (x-ratelimit-remaining 0): waits for the reset', async () => {
    const h = await harness();
    h.fake.primaryRateLimit({ method: 'GET', resetInSeconds: 1 });
    assert.deepEqual(await h.itsm.testConnection(), {
      ok: true,
      detail: 'GitHub repository acme/patching reachable, issues enabled',
    });
    assert.deepEqual(
      h.fake.requests.map((r) => r.status),
      [403, 200],
    );
  });

  it('500 on a read is retried', async () => {
    const h = await harness();
    const ref = await h.itsm.open(draft(), { key: 'o', recheck: false });
    h.fake.fault({ method: 'GET', status: 500, body: { message: 'Server Error' } });
    await h.itsm.advance(ref, 'approved', 'ok', { key: 'a', recheck: false });
    assert.deepEqual(
      h.fake.requestsTo('GET', /.*/).map((r) => r.status),
      [500, 200],
    );
  });

  it('an answer without a documented field fails WIRE_FORMAT naming it', async () => {
    const h = await harness();
    h.fake.fault({
      method: 'POST',
      status: 201,
      body: { number: 1, title: 't', state: 'open', labels: [] },
    });
    const err = await failure(h.itsm.open(draft(), { key: 'w', recheck: false }));
    assert.equal(err.code, 'WIRE_FORMAT');
    assert.match(
      err.message,
      /GitHub POST \/repos\/\{owner\}\/\{repo\}\/issues: unexpected answer \(html_url: /,
    );
  });
});

describe('GitHub ITSM: testConnection', () => {
  it('ok, 401 naming GITHUB_TOKEN, 404 naming GITHUB_REPOSITORY', async () => {
    const ok = await harness();
    assert.deepEqual(await ok.itsm.testConnection(), {
      ok: true,
      detail: 'GitHub repository acme/patching reachable, issues enabled',
    });
    assert.deepEqual(
      ok.fake.requests.map((r) => `${r.method} ${r.path}`),
      ['GET /repos/acme/patching'],
    );

    const bad = await harness({
      env: { GITHUB_TOKEN: 'ghp_badBadBadBadBadBadBad0000000000000000' },
    });
    const r401 = await bad.itsm.testConnection();
    assert.equal(r401.ok, false);
    assert.match(r401.detail, /Bad credentials.*check GITHUB_TOKEN/);
    assert.ok(!r401.detail.includes('ghp_bad'));

    const narrow = 'ghp_narrowNarrowNarrow000000000000000000';
    const hidden = await harness({
      env: { GITHUB_TOKEN: narrow, GITHUB_REPOSITORY: 'acme/secret' },
      fake: {
        repos: ['acme/patching', 'acme/secret'],
        tokens: { [narrow]: { repos: ['acme/patching'], permission: 'write' } },
      },
    });
    const r404 = await hidden.itsm.testConnection();
    assert.equal(r404.ok, false);
    assert.match(
      r404.detail,
      /no repository acme\/secret.*check GITHUB_REPOSITORY.*answers 404 when the token cannot see a private repository/,
    );
  });

  it('read-only credentials and disabled issues are reported', async () => {
    const ro = 'ghp_readOnlyReadOnly00000000000000000000';
    const h = await harness({
      env: { GITHUB_TOKEN: ro },
      fake: { tokens: { [ro]: { repos: '*', permission: 'read' } } },
    });
    assert.match(
      (await h.itsm.testConnection()).detail,
      /may only read acme\/patching.*triage or write/,
    );
    await h.itsm.open(draft(), { key: 'ro', recheck: false });
    assert.ok(h.lines.some((l) => l.includes('GitHub dropped the labels of a new issue')));
    h.fake.state.repo('acme', 'patching')!.has_issues = false;
    assert.match((await h.itsm.testConnection()).detail, /issues are disabled on acme\/patching/);
  });
});

describe('GitHub ITSM: GitHub App', () => {
  it('trades a signed JWT for an installation token and works with it', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const h = await harness({
      env: {
        GITHUB_TOKEN: '',
        GITHUB_APP_ID: '4242',
        GITHUB_APP_INSTALLATION_ID: '77',
        GITHUB_APP_PRIVATE_KEY: pem.replace(/\n/g, '\\n'),
      },
      fake: {
        app: {
          appId: 4242,
          installationId: 77,
          publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          repos: ['acme/patching'],
        },
      },
    });
    assert.equal(h.settings.auth.kind, 'app');
    assert.deepEqual(await h.itsm.testConnection(), {
      ok: true,
      detail: 'GitHub repository acme/patching reachable, issues enabled',
    });
    await h.itsm.open(draft(), { key: 'app', recheck: false });
    assert.deepEqual(calls(h), [
      'POST /app/installations/77/access_tokens',
      'GET /repos/acme/patching',
      'POST /repos/acme/patching/issues',
    ]);
    assert.match(h.fake.requests[0]!.headers.authorization!, /^bearer ey/i);
    const body = pem.split('\n')[1]!;
    assert.ok(!h.lines.some((l) => l.includes(body)));
  });

  it('a wrong installation fails AUTH-side with the App variables named', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const h = await harness({
      env: {
        GITHUB_TOKEN: '',
        GITHUB_APP_ID: '4242',
        GITHUB_APP_INSTALLATION_ID: '78',
        GITHUB_APP_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
      fake: {
        app: {
          appId: 4242,
          installationId: 77,
          publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          repos: '*',
        },
      },
    });
    const r = await h.itsm.testConnection();
    assert.equal(r.ok, false);
    assert.match(
      r.detail,
      /POST \/app\/installations\/\{installation_id\}\/access_tokens: HTTP 404/,
    );
  });
});

describe('GitHub ITSM: secrets', () => {
  it('no token in any error or log line of this file', () => {
    const secrets = [
      FAKE_GITHUB_TOKEN,
      'ghp_wrong',
      'ghp_bad',
      'ghp_narrow',
      'ghp_readOnly',
      'ghs_',
    ];
    const texts = [
      ...harnesses.flatMap((h) => h.lines),
      ...errors.map(
        (e) => `${String(e)} ${JSON.stringify(e)} ${JSON.stringify((e as Error).cause ?? null)}`,
      ),
    ];
    assert.ok(
      errors.length >= 5 && texts.length > 30,
      `only ${errors.length} errors, ${texts.length} texts`,
    );
    for (const s of secrets)
      for (const t of texts) assert.ok(!t.includes(s), `${s} leaked: ${t.slice(0, 200)}`);
  });
});
