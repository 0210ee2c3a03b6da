/**
 * Contract tests of the NinjaOne RMM adapter against the fake NinjaOne (test/fakes/ninjaone):
 * every endpoint the adapter uses, its paging, errors and retries, and the deploy/reboot
 * idempotency that rests on NinjaOne's activity log instead of an idempotency key.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  checkPatchPolicy,
  ninjaoneDefinition,
  ninjaoneSettingsSchema,
} from '../../../adapters/rmm/ninjaone/index.js';
import {
  CHROME,
  closeFakes,
  errorTexts,
  finished,
  JAVA,
  KB,
  logLines,
  outcomes,
  poll,
  rejects,
  secrets,
  setup,
} from '../../fakes/ninjaone/harness.js';

after(closeFakes);

describe('NinjaOne settings', () => {
  it('needs a region or base URL, names the variable and maps regions to hosts', () => {
    const bad = ninjaoneSettingsSchema.safeParse({
      NINJAONE_CLIENT_ID: 'a',
      NINJAONE_CLIENT_SECRET: 'b',
    });
    assert.equal(bad.success, false);
    assert.equal(bad.error?.issues[0]?.path[0], 'NINJAONE_REGION');
    const eu = ninjaoneSettingsSchema.parse({
      NINJAONE_REGION: 'eu',
      NINJAONE_CLIENT_ID: 'a',
      NINJAONE_CLIENT_SECRET: 'b',
    });
    assert.equal(eu.baseUrl, 'https://eu.ninjarmm.com');
    const http = ninjaoneSettingsSchema.safeParse({
      NINJAONE_BASE_URL: 'http://ninja.example.com',
      NINJAONE_CLIENT_ID: 'a',
      NINJAONE_CLIENT_SECRET: 'b',
    });
    assert.equal(http.error?.issues[0]?.path[0], 'NINJAONE_BASE_URL');
    const tz = ninjaoneSettingsSchema.safeParse({
      NINJAONE_REGION: 'fed',
      NINJAONE_CLIENT_ID: 'a',
      NINJAONE_CLIENT_SECRET: 'b',
      NINJAONE_TIMEZONE: 'Mars/Base',
    });
    assert.equal(tz.error?.issues[0]?.path[0], 'NINJAONE_TIMEZONE');
    assert.deepEqual(
      ninjaoneDefinition.env.filter((v) => v.secret).map((v) => v.name),
      ['NINJAONE_CLIENT_SECRET'],
    );
  });
});

describe('NinjaOne connection and token', () => {
  it('testConnection signs in and makes one cheap call', async () => {
    const { fake, rmm } = await setup();
    const check = await rmm.testConnection();
    assert.equal(check.ok, true, check.detail);
    assert.equal(fake.server.requestsTo('POST', /^\/ws\/oauth\/token$/).length, 1);
    const token = fake.server.requestsTo('POST', /token$/)[0]!.body as Record<string, string>;
    assert.equal(token.grant_type, 'client_credentials');
    assert.equal(token.scope, 'monitoring management');
  });

  it('bad credentials: ok false naming both variables, secret never shown', async () => {
    const { rmm } = await setup({}, { NINJAONE_CLIENT_SECRET: 'wrong-secret-0c4e7d' });
    secrets.add('wrong-secret-0c4e7d');
    const check = await rmm.testConnection();
    assert.equal(check.ok, false);
    assert.match(check.detail, /AUTH_FAILED/);
    assert.match(check.detail, /NINJAONE_CLIENT_ID/);
    assert.match(check.detail, /NINJAONE_CLIENT_SECRET/);
    assert.match(check.detail, /invalid_client/);
    errorTexts.push(check.detail);
  });

  it('caches the token until expiry and fetches a new one once on a 401', async () => {
    const { fake, rmm, shiftClock } = await setup();
    await rmm.listClients();
    await rmm.isOnline('101');
    assert.equal(fake.tokensIssued(), 1);
    fake.revokeTokens();
    assert.equal(await rmm.isOnline('101'), true);
    assert.equal(fake.tokensIssued(), 2);
    shiftClock(2 * 3600_000); // past expires_in: a new token before any 401
    const before401s = fake.server.requests.filter((r) => r.status === 401).length;
    await rmm.isOnline('101');
    assert.equal(fake.tokensIssued(), 3);
    assert.equal(fake.server.requests.filter((r) => r.status === 401).length, before401s);
  });

  it('a second 401 in a row is AUTH_FAILED', async () => {
    const { fake, rmm } = await setup();
    await rmm.listClients();
    fake.server.fault({
      path: /^\/v2\/organizations$/,
      status: 401,
      times: 2,
      body: { error: 'invalid_token' },
    });
    await rejects(rmm.listClients(), 'AUTH_FAILED');
  });
});

describe('NinjaOne inventory', () => {
  it('lists organisations, locations (sites) and devices page by page', async () => {
    const { fake, rmm } = await setup();
    assert.deepEqual(await rmm.listClients(), [
      { id: '1', name: 'Acme Dental' },
      { id: '2', name: 'Globex Logistics' },
    ]);
    const sites = await rmm.listSites('1');
    assert.deepEqual(
      sites.map((s) => [s.id, s.name, s.timezone]),
      [
        ['10', 'Main Office', 'UTC'],
        ['11', 'Branch', 'UTC'],
      ],
    );
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await rmm.listDevices('1', { limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.devices.map((d) => d.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    assert.deepEqual(seen, ['101', '102', '103', '104']); // the switch (105) is no patch target
    assert.equal(pages, 3);
    assert.deepEqual(
      fake.server.requestsTo('GET', /devices-detailed$/).map((r) => r.query.after ?? ''),
      ['', '102', '104'],
    );
    const [first] = (await rmm.listDevices('1', { limit: 3 })).devices;
    assert.equal(first?.osFamily, 'windows');
    assert.equal(first?.hostname, 'ACME-WS-01');
    assert.equal(first?.osVersion, 'Windows 11 Professional Edition');
    const mac = (await rmm.listDevices('2', { limit: 5 })).devices.find((d) => d.id === '202');
    assert.equal(mac?.osFamily, 'macos');
    assert.equal(mac?.rmmKind, 'ninjaone');
  });

  it('unknown organisation, bad cursor and limit fail with their codes', async () => {
    const { rmm } = await setup();
    await rejects(rmm.listSites('999'), 'CLIENT_NOT_FOUND');
    await rejects(rmm.listSites('acme'), 'CLIENT_NOT_FOUND');
    await rejects(rmm.listDevices('999', { limit: 10 }), 'CLIENT_NOT_FOUND');
    await rejects(rmm.listDevices('1', { limit: 2, cursor: 'not-a-cursor' }), 'INVALID_ARGUMENT');
    await rejects(rmm.listDevices('1', { limit: 0 }), 'INVALID_ARGUMENT');
  });

  it('isOnline follows the offline flag; unknown devices are DEVICE_NOT_FOUND', async () => {
    const { fake, rmm } = await setup();
    assert.equal(await rmm.isOnline('104'), true);
    fake.setOnline(104, false);
    assert.equal(await rmm.isOnline('104'), false);
    await rejects(rmm.isOnline('999'), 'DEVICE_NOT_FOUND');
    await rejects(rmm.missingPatches('999'), 'DEVICE_NOT_FOUND');
    await rejects(rmm.isOnline('ws-01'), 'DEVICE_NOT_FOUND');
  });
});

describe('NinjaOne patches and scans', () => {
  it('missing patches come from both reports over several cursor pages, mapped to domain patches', async () => {
    const { fake, rmm } = await setup();
    const missing = await rmm.missingPatches('101');
    const ids = missing.map((p) => p.id);
    assert.deepEqual(
      ids.filter((id) => id.startsWith('ninjaone:os:')),
      [KB('KB5043050'), KB('KB5044284'), KB('KB890830')],
    );
    assert.ok(ids.includes(CHROME));
    assert.equal(ids.length, 6);
    const cu = missing.find((p) => p.id === KB('KB5044284'))!;
    assert.equal(cu.vendorSeverity, 'critical');
    assert.equal(cu.category, 'security');
    assert.equal(cu.vendorRef, 'KB5044284');
    const chrome = missing.find((p) => p.id === CHROME)!;
    assert.equal(chrome.product, 'Google Chrome');
    assert.equal(chrome.category, 'third_party');
    // page size 2: three OS rows take two pages, the second one by the cursor's name
    const os = fake.server.requestsTo('GET', /queries\/os-patches$/);
    assert.equal(os.length, 2);
    assert.equal(os[0]!.query.df, 'id = 101');
    assert.ok(os[1]!.query.cursor);
    const mac = await rmm.missingPatches('103');
    assert.ok(
      mac.some((p) => p.id === 'ninjaone:os:name:macos-sequoia-15.1' && p.product === 'macOS'),
    );
  });

  it('a scan runs on every applicable family, finishes by the activity log and reveals new patches', async () => {
    const { fake, rmm } = await setup({ scanDelayMs: 150 });
    assert.ok(!(await rmm.missingPatches('101')).some((p) => p.id === KB('KB5046617')));
    const { scanId } = await rmm.triggerScan(['101', '105']);
    assert.equal(fake.server.requestsTo('POST', /\/patch\/(os|software)\/scan$/).length, 4);
    assert.deepEqual(await rmm.readScan(scanId), { done: false });
    await poll('scan', async () => ((await rmm.readScan(scanId)).done ? true : undefined));
    assert.ok((await rmm.missingPatches('101')).some((p) => p.id === KB('KB5046617')));
    await rejects(rmm.triggerScan(['999']), 'DEVICE_NOT_FOUND');
    await rejects(rmm.readScan('ns1.bogus'), 'SCAN_NOT_FOUND');
  });
});

describe('NinjaOne deploy, jobs and reboots', () => {
  it('deploy → readJob until done, with per-patch outcomes and a failure in NinjaOne words', async () => {
    const { fake, rmm } = await setup();
    const { jobId } = await rmm.deploy('102', [KB('KB5043050'), JAVA], 'cycle-1:ring-0:102');
    assert.deepEqual(
      fake
        .applies()
        .map((a) => a.family)
        .sort(),
      ['os', 'sw'],
    );
    const done = await finished(rmm, jobId);
    assert.equal(done.state, 'failed');
    assert.deepEqual(outcomes(done), { [KB('KB5043050')]: 'failed', [JAVA]: 'installed' });
    assert.match(done.results.find((r) => r.outcome === 'failed')!.error!, /0x80070643/);
    assert.ok(
      (await rmm.missingPatches('102')).some((p) => p.id === KB('KB5043050')),
      'a failed patch is still missing',
    );
    assert.deepEqual(await rmm.installedPatches('102'), [JAVA]);
  });

  it('installs needing a reboot are pending_reboot until a reboot job completes them', async () => {
    const { fake, rmm } = await setup();
    const wanted = [KB('KB5044284'), KB('KB890830'), CHROME];
    const done = await finished(rmm, (await rmm.deploy('101', wanted, 'k-101')).jobId);
    assert.deepEqual(outcomes(done), {
      [KB('KB5044284')]: 'pending_reboot',
      [KB('KB890830')]: 'failed', // MANUAL in NinjaOne: apply installs approved patches only
      [CHROME]: 'installed',
    });
    const pending = [KB('KB5043050'), KB('KB5044284')]; // NinjaOne flags reboots per device
    assert.ok(!(await rmm.installedPatches('101')).includes(KB('KB5044284')));
    assert.ok(!(await rmm.missingPatches('101')).some((p) => p.id === KB('KB5044284')));
    const { jobId } = await rmm.reboot('101', 'reboot-101');
    const again = await rmm.reboot('101', 'reboot-101');
    assert.equal(
      fake.server.requestsTo('POST', /\/reboot\/NORMAL$/).length,
      1,
      'one reboot per key',
    );
    const rebooted = await finished(rmm, jobId);
    assert.deepEqual(
      rebooted.results.map((r) => [r.patchId, r.outcome]),
      pending.map((p) => [p, 'installed']),
    );
    assert.equal((await finished(rmm, again.jobId)).state, 'succeeded');
    const installed = await rmm.installedPatches('101');
    for (const p of pending) assert.ok(installed.includes(p), p);
  });

  it('promptReboot cannot ask the user in NinjaOne: it reboots, once per key', async () => {
    const { fake, rmm } = await setup();
    const a = await rmm.promptReboot('103', 'prompt-1', { allowDefer: true });
    const b = await rmm.promptReboot('103', 'prompt-1', { allowDefer: true });
    assert.equal(a.outcome, 'rebooting');
    assert.equal(b.outcome, 'rebooting');
    assert.equal(fake.server.requestsTo('POST', /\/reboot\//).length, 1);
    assert.equal(
      (await finished(rmm, a.outcome === 'rebooting' ? a.jobId : '')).state,
      'succeeded',
    );
  });

  it('an apply that commits then hangs is found by deploy with hints.recheck and not repeated', async () => {
    const { fake, rmm } = await setup({}, { NINJAONE_TIMEOUT_MS: '400' });
    const since = new Date().toISOString();
    fake.server.fault({ method: 'POST', path: /\/patch\/software\/apply$/, commitThenHang: true });
    const lost = await rejects(rmm.deploy('201', [CHROME], 'k-201'), 'UNAVAILABLE');
    assert.equal(lost.retryable, true);
    assert.match(lost.message, /recheck/);
    assert.equal(fake.applyCount(201), 1);
    const { jobId } = await rmm.deploy('201', [CHROME], 'k-201', { recheck: true, since });
    assert.equal(fake.applyCount(201), 1, 'applied once');
    assert.deepEqual(outcomes(await finished(rmm, jobId)), { [CHROME]: 'installed' });
  });

  it('a 500 on apply is not repeated in-process; the recheck then applies exactly once', async () => {
    const { fake, rmm } = await setup();
    const since = new Date().toISOString();
    fake.server.fault({
      method: 'POST',
      path: /\/patch\/os\/apply$/,
      status: 500,
      body: { resultCode: 'FAILURE', errorMessage: 'Internal error' },
    });
    await rejects(rmm.deploy('104', [KB('KB5044284')], 'k-104'), 'UNAVAILABLE');
    assert.equal(fake.server.requestsTo('POST', /\/patch\/os\/apply$/).length, 1);
    assert.equal(fake.applyCount(104), 0);
    const { jobId } = await rmm.deploy('104', [KB('KB5044284')], 'k-104', { recheck: true, since });
    assert.equal(fake.applyCount(104), 1);
    assert.equal((await finished(rmm, jobId)).results[0]?.outcome, 'pending_reboot');
  });

  it('an offline device is DEVICE_OFFLINE and nothing is applied', async () => {
    const { fake, rmm } = await setup({ offline: [104] });
    await rejects(rmm.deploy('104', [KB('KB5044284')], 'k-off'), 'DEVICE_OFFLINE');
    await rejects(rmm.reboot('104', 'r-off'), 'DEVICE_OFFLINE');
    assert.equal(fake.applyCount(104), 0);
  });

  it('bad ids, uninstall and unknown jobs fail with their codes', async () => {
    const { rmm } = await setup();
    await rejects(rmm.deploy('101', ['win:KB5044284'], 'k'), 'PATCH_NOT_FOUND');
    await rejects(rmm.deploy('101', [], 'k'), 'INVALID_ARGUMENT');
    await rejects(rmm.deploy('101', [CHROME], ''), 'INVALID_ARGUMENT');
    await rejects(rmm.deploy('999', [CHROME], 'k'), 'DEVICE_NOT_FOUND');
    await rejects(rmm.uninstall('101', [CHROME], 'u'), 'NOT_UNINSTALLABLE');
    await rejects(rmm.readJob('job-1'), 'JOB_NOT_FOUND');
    await rejects(
      rmm.deploy('101', [CHROME], 'k', { recheck: true, since: 'yesterday' }),
      'INVALID_ARGUMENT',
    );
  });
});

describe('NinjaOne failures and limits', () => {
  it('a 500 on a read is retried and then succeeds', async () => {
    const { fake, rmm } = await setup();
    fake.server.fault({
      method: 'GET',
      path: /^\/v2\/device\/101$/,
      status: 500,
      body: { resultCode: 'FAILURE', errorMessage: 'Internal error' },
    });
    assert.equal(await rmm.isOnline('101'), true);
    assert.deepEqual(
      fake.server.requestsTo('GET', /^\/v2\/device\/101$/).map((r) => r.status),
      [500, 200],
    );
  });

  it('429 with Retry-After is waited out; one too long is RATE_LIMITED', async () => {
    const { fake, rmm } = await setup();
    const body = { resultCode: 'FAILURE', errorMessage: 'Too many requests' };
    fake.server.fault({ path: /^\/v2\/organizations$/, status: 429, retryAfterSeconds: 1, body });
    const started = Date.now();
    assert.equal((await rmm.listClients()).length, 2);
    assert.ok(Date.now() - started >= 900, 'Retry-After honoured');
    fake.server.fault({ path: /^\/v2\/organizations$/, status: 429, retryAfterSeconds: 600, body });
    const e = await rejects(rmm.listClients(), 'RATE_LIMITED');
    assert.equal(e.retryable, true);
  });

  it('403 (missing scope) is AUTH_FAILED naming the scopes', async () => {
    const { fake, rmm } = await setup();
    fake.server.fault({
      method: 'POST',
      path: /\/apply$/,
      status: 403,
      body: { error: 'insufficient_scope', error_description: 'Scope "management" required' },
    });
    const e = await rejects(rmm.deploy('201', [CHROME], 'k-403'), 'AUTH_FAILED');
    assert.match(e.message, /management/);
    assert.equal(fake.applyCount(201), 0);
  });

  it('maintenance mode silences alerts (not patching) and ends again', async () => {
    const { fake, rmm } = await setup();
    const end = new Date(Date.now() + 3600_000);
    await rmm.startMaintenance('101', end);
    assert.equal(fake.device(101).maintenance?.status, 'IN_MAINTENANCE');
    assert.deepEqual(fake.device(101).disabledFeatures, ['ALERTS']);
    assert.equal(fake.device(101).maintenance?.end, Math.floor(end.getTime() / 1000));
    await rmm.endMaintenance('101');
    assert.equal(fake.device(101).maintenance, undefined);
    await rejects(rmm.startMaintenance('101', new Date(Date.now() - 1000)), 'INVALID_ARGUMENT');
    await rejects(rmm.startMaintenance('999', end), 'DEVICE_NOT_FOUND');
  });

  it('checkPatchPolicy says what it can and cannot see', async () => {
    const { rmm } = await setup();
    const check = await checkPatchPolicy(rmm.api);
    assert.equal(check.status, 'unknown');
    assert.match(check.detail, /approved in NinjaOne/);
    assert.match(check.detail, /schedule/);
  });

  it('no secret or token in any log line or error message', () => {
    const text = [...logLines, ...errorTexts].join('\n');
    assert.ok(logLines.length > 0, 'the retries above were logged');
    for (const s of secrets) assert.ok(!text.includes(s), 'a client secret leaked');
    assert.ok(!/fake-at-[0-9a-f-]{36}/.test(text), 'an access token leaked');
  });
});
