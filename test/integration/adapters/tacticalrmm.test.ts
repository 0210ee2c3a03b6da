import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { createHttpClient } from '../../../adapters/http/client.js';
import type { AdapterDeps } from '../../../adapters/kit.js';
import {
  createTacticalRmm,
  tacticalrmmDefinition,
  type TacticalRmm,
  type TacticalSettings,
} from '../../../adapters/rmm/tacticalrmm/index.js';
import { RmmError, type RmmErrorCode } from '../../../adapters/rmm/types.js';
import { deviceSchema, patchSchema } from '../../../domain/model.js';
import { parseDateInstalled } from '../../../adapters/rmm/tacticalrmm/time.js';
import {
  agentIdOf,
  startFakeTacticalRmm,
  type FakeTacticalRmm,
} from '../../fakes/tacticalrmm/index.js';

/** Contract tests of the Tactical RMM adapter against the fake built from Tactical's source. */

const WS1 = agentIdOf('ws-berlin-01');
const WS2 = agentIdOf('ws-berlin-02'); // its effective patch policy auto-approves Critical/Important
const SRV = agentIdOf('srv-berlin-01');
const MUC = agentIdOf('ws-munich-01');
const LNX = agentIdOf('lnx-berlin-01');

let fake: FakeTacticalRmm;
const logLines: string[] = [];
const log = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });

function deps(): AdapterDeps {
  return {
    log,
    http: (o) => createHttpClient({ ...o, log }),
    clock: () => new Date(),
    dataDir: '/tmp',
  };
}

function adapter(over: Partial<TacticalSettings> = {}): TacticalRmm {
  return createTacticalRmm(
    { apiUrl: fake.url, apiKey: fake.apiKey, retries: 2, retryBaseMs: 10, scanWaitMs: 0, ...over },
    deps(),
  );
}

const rejectsWith = (p: Promise<unknown>, code: RmmErrorCode, re?: RegExp) =>
  assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof RmmError, String(e));
    assert.equal(e.code, code, e.message);
    if (re) assert.match(e.message, re);
    return true;
  });

const installPosts = (agentId: string) =>
  fake.requestsTo('POST', new RegExp(`^/winupdate/${agentId}/install/$`));

beforeEach(async () => {
  await fake?.close();
  fake = await startFakeTacticalRmm();
});
after(() => fake?.close());

describe('Tactical RMM settings', () => {
  const parse = (env: Record<string, string>) => tacticalrmmDefinition.settings.safeParse(env);

  it('accepts https, and http only on loopback, and names the variable at fault', () => {
    assert.equal(
      parse({ TACTICAL_API_URL: 'https://api.example.com/', TACTICAL_API_KEY: 'K'.repeat(32) })
        .success,
      true,
    );
    assert.equal(
      parse({ TACTICAL_API_URL: 'http://127.0.0.1:8000', TACTICAL_API_KEY: 'K'.repeat(32) })
        .success,
      true,
    );
    const plain = parse({
      TACTICAL_API_URL: 'http://api.example.com',
      TACTICAL_API_KEY: 'K'.repeat(32),
    });
    assert.equal(plain.success, false);
    assert.equal(plain.error?.issues[0]?.path[0], 'TACTICAL_API_URL');
    const noKey = parse({ TACTICAL_API_URL: 'https://api.example.com' });
    assert.equal(noKey.error?.issues[0]?.path[0], 'TACTICAL_API_KEY');
    const tz = parse({
      TACTICAL_API_URL: 'https://a.example.com',
      TACTICAL_API_KEY: 'K'.repeat(32),
      TACTICAL_TIME_ZONE: 'Mars/Base',
    });
    assert.equal(tz.error?.issues[0]?.path[0], 'TACTICAL_TIME_ZONE');
    assert.ok(tacticalrmmDefinition.env.find((v) => v.name === 'TACTICAL_API_KEY')?.secret);
  });
});

describe('Tactical RMM connection and auth', () => {
  it('testConnection succeeds with one GET and sends X-API-KEY', async () => {
    const check = await adapter().testConnection();
    assert.equal(check.ok, true, check.detail);
    assert.equal(fake.requests.length, 1);
    assert.equal(fake.requests[0]!.path, '/clients/');
    assert.equal(fake.requests[0]!.headers['x-api-key'], fake.apiKey);
  });

  it('a wrong key or a user without permissions is ok:false naming TACTICAL_API_KEY, never the key', async () => {
    const wrongKey = 'WRONGKEY-0123456789-SECRETVALUE';
    const bad = await adapter({ apiKey: wrongKey }).testConnection();
    assert.equal(bad.ok, false);
    assert.match(bad.detail, /401.*Invalid token.*TACTICAL_API_KEY/);
    assert.ok(!bad.detail.includes(wrongKey));
    const limited = await adapter({ apiKey: fake.limitedKey }).testConnection();
    assert.equal(limited.ok, false);
    assert.match(limited.detail, /403.*TACTICAL_API_KEY.*permission/);
    await rejectsWith(adapter({ apiKey: wrongKey }).listClients(), 'AUTH_FAILED');
    assert.ok(!logLines.join('\n').includes(wrongKey), 'the key leaked into the log');
  });

  it('the fake answers like Django: 301 without the slash, 404 HTML for unknown paths, 401 without a key', async () => {
    const noSlash = await fetch(`${fake.url}/winupdate/${WS1}/install`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'X-API-KEY': fake.apiKey },
    });
    assert.equal(noSlash.status, 301);
    assert.equal(noSlash.headers.get('location'), `/winupdate/${WS1}/install/`);
    assert.equal(fake.installCount(WS1), 0);
    const unknown = await fetch(`${fake.url}/nope/`, { headers: { 'X-API-KEY': fake.apiKey } });
    assert.equal(unknown.status, 404);
    const pk = fake.update(WS1, 'KB890830').id;
    const badAction = await fetch(`${fake.url}/winupdate/${pk}/`, {
      method: 'PUT',
      headers: { 'X-API-KEY': fake.apiKey, 'Content-Type': 'application/json' },
      body: JSON.stringify({ action: 'install' }),
    });
    assert.equal(badAction.status, 400);
    assert.deepEqual(await badAction.json(), { action: ['"install" is not a valid choice.'] });
    const anon = await fetch(`${fake.url}/clients/`);
    assert.equal(anon.status, 401);
    assert.equal(anon.headers.get('www-authenticate'), 'Token');
    assert.deepEqual(await anon.json(), {
      detail: 'Authentication credentials were not provided.',
    });
  });
});

describe('Tactical RMM inventory', () => {
  it('lists clients and sites, the sites in the default time zone', async () => {
    const rmm = adapter();
    assert.deepEqual(await rmm.listClients(), [
      { id: '1', name: 'Acme' },
      { id: '2', name: 'Globex' },
    ]);
    const sites = await rmm.listSites('1');
    assert.deepEqual(
      sites.map((s) => [s.id, s.name, s.timezone]),
      [
        ['11', 'Berlin HQ', 'Europe/Berlin'],
        ['12', 'Munich', 'Europe/Berlin'],
      ],
    );
    await rejectsWith(rmm.listSites('99'), 'CLIENT_NOT_FOUND');
  });

  it('needs TACTICAL_TIME_ZONE when the key may not read core settings', async () => {
    await fake.close();
    fake = await startFakeTacticalRmm({ canViewCoreSettings: false });
    await rejectsWith(adapter().listSites('1'), 'CONFIG_INVALID', /TACTICAL_TIME_ZONE/);
    const sites = await adapter({ timeZone: 'America/New_York' }).listSites('1');
    assert.equal(sites[0]!.timezone, 'America/New_York');
  });

  it('pages Windows agents in agent_id order with a stable cursor, two requests per walk', async () => {
    const rmm = adapter();
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await rmm.listDevices('1', { limit: 3, ...(cursor ? { cursor } : {}) });
      seen.push(...page.devices.map((d) => d.id));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor);
    assert.equal(pages, 2);
    assert.deepEqual(seen, [WS1, WS2, SRV, MUC].sort());
    assert.ok(!seen.includes(LNX), 'a Linux agent has no Windows updates to manage');
    assert.equal(fake.requestsTo('GET', /^\/agents\/$/).length, 1);
    assert.equal(fake.requestsTo('GET', /^\/agents\/$/)[0]!.query.client, '1');
    const first = await rmm.listDevices('1', { limit: 10 });
    for (const d of first.devices) deviceSchema.parse(d);
    const srv = first.devices.find((d) => d.id === SRV)!;
    assert.deepEqual(
      [srv.siteId, srv.clientId, srv.osFamily, srv.online, srv.rmmKind, srv.criticality],
      ['11', '1', 'windows', true, 'tacticalrmm', 'high'],
    );
    await rejectsWith(rmm.listDevices('1', { limit: 0 }), 'INVALID_ARGUMENT');
    await rejectsWith(rmm.listDevices('1', { limit: 2, cursor: 'garbage' }), 'INVALID_ARGUMENT');
    await rejectsWith(rmm.listDevices('42', { limit: 2 }), 'CLIENT_NOT_FOUND');
  });

  it('reports missing and installed patches from the update list', async () => {
    const rmm = adapter();
    const missing = await rmm.missingPatches(WS1);
    assert.deepEqual(
      missing.map((p) => p.id),
      ['win:KB2267602', 'win:KB5043080', 'win:KB5044284', 'win:KB890830'],
    );
    for (const p of missing) patchSchema.parse(p);
    const cu = missing.find((p) => p.id === 'win:KB5044284')!;
    assert.deepEqual(
      [cu.vendorSeverity, cu.category, cu.product, cu.uninstallable],
      ['critical', 'security', 'Windows 11', false],
    );
    assert.equal(missing.find((p) => p.id === 'win:KB2267602')!.category, 'definition');
    assert.deepEqual(await rmm.installedPatches(WS1), ['win:KB5045935']);
    await rejectsWith(rmm.missingPatches('no-such-agent-000000000000'), 'DEVICE_NOT_FOUND');
    assert.equal(await rmm.isOnline(WS1), true);
    fake.setOnline(WS1, false);
    assert.equal(await rmm.isOnline(WS1), false);
  });

  it('triggers scans with POST …/scan/ and reads them back', async () => {
    const rmm = adapter({ scanWaitMs: 60_000 });
    const { scanId } = await rmm.triggerScan([WS1, MUC]);
    assert.equal(fake.scanCount(WS1), 1);
    assert.equal(fake.scanCount(MUC), 1);
    assert.deepEqual(await rmm.readScan(scanId), { done: false });
    assert.deepEqual(await adapter({ scanWaitMs: 0 }).readScan(scanId), { done: true });
    await rejectsWith(rmm.readScan('scan-1'), 'SCAN_NOT_FOUND');
    await rejectsWith(rmm.triggerScan(['unknown-agent-0000000000000']), 'DEVICE_NOT_FOUND');
    await rejectsWith(rmm.triggerScan([]), 'INVALID_ARGUMENT');
    // notify_error: a 400 whose body is a bare JSON string, passed on in the message.
    await rejectsWith(rmm.triggerScan([LNX]), 'INVALID_ARGUMENT', /400: Not available for linux/);
  });
});

describe('Tactical RMM deploy', () => {
  it('installs exactly the approved patches and reports per-patch outcomes, then a reboot completes them', async () => {
    const rmm = adapter();
    fake.failInstall(WS1, 'KB890830');
    fake.update(WS1, 'KB5043080').action = 'approve'; // a technician's approval patchops did not give
    const { jobId } = await rmm.deploy(WS1, ['win:KB5044284', 'win:KB890830'], 'deploy-1');
    assert.equal(installPosts(WS1).length, 1);
    assert.deepEqual(fake.installedKbs(WS1), ['KB5044284', 'KB5045935']);
    assert.equal(fake.update(WS1, 'KB5043080').action, 'nothing', 'its approval was withdrawn');
    assert.equal(fake.update(WS1, 'KB5043080').installed, false);
    assert.equal(fake.update(WS1, 'KB2267602').action, 'nothing');
    for (const r of fake.requestsTo('PUT', /^\/winupdate\/\d+\/$/))
      assert.match(JSON.stringify(r.body), /"action":"(approve|nothing)"/);

    const job = await rmm.readJob(jobId);
    assert.equal(job.state, 'failed');
    assert.deepEqual(
      job.results.map((r) => [r.patchId, r.outcome]),
      [
        ['win:KB5044284', 'pending_reboot'],
        ['win:KB890830', 'failed'],
      ],
    );
    assert.match(job.results[1]!.error!, /failed/);
    assert.deepEqual(
      await rmm.installedPatches(WS1),
      ['win:KB5045935'],
      'waiting for a reboot is not installed',
    );
    assert.ok(
      !(await rmm.missingPatches(WS1)).some((p) => p.id === 'win:KB5044284'),
      'nor missing',
    );

    const reboot = await rmm.reboot(WS1, 'reboot-1');
    assert.equal(fake.requestsTo('POST', /\/reboot\/$/).length, 1);
    assert.deepEqual(await rmm.readJob(reboot.jobId), {
      state: 'succeeded',
      results: [{ patchId: 'win:KB5044284', outcome: 'installed' }],
    });
    assert.deepEqual(await rmm.installedPatches(WS1), ['win:KB5044284', 'win:KB5045935']);
  });

  it('shows a running job while the agent installs', async () => {
    await fake.close();
    fake = await startFakeTacticalRmm({ installDelayMs: 300 });
    const rmm = adapter();
    const { jobId } = await rmm.deploy(MUC, ['win:KB890830'], 'slow-1');
    assert.deepEqual(await rmm.readJob(jobId), { state: 'running', results: [] });
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual(await rmm.readJob(jobId), {
      state: 'succeeded',
      results: [{ patchId: 'win:KB890830', outcome: 'installed' }],
    });
  });

  it('never lets the agent policy install what patchops did not approve: it refuses and touches nothing', async () => {
    // Control: Tactical's own install/ on this agent does auto-approve and install more.
    await fetch(`${fake.url}/winupdate/${WS2}/install/`, {
      method: 'POST',
      headers: { 'X-API-KEY': fake.apiKey },
    });
    assert.deepEqual(fake.installedKbs(WS2), ['KB5043080', 'KB5044284', 'KB5045935']);
    fake.server.requests.length = 0;

    const rmm = adapter();
    fake.update(WS2, 'KB5043080').installed = false; // pretend it is pending again
    fake.update(WS2, 'KB5043080').action = 'ignore'; // "ignore" does not protect: approve_updates flips it
    const before = fake.installCount(WS2);
    await rejectsWith(
      rmm.deploy(WS2, ['win:KB890830'], 'deploy-ws2'),
      'CONFIG_INVALID',
      /auto-approves critical, important.*Manual/,
    );
    assert.equal(fake.installCount(WS2), before);
    assert.equal(
      fake.requests.filter((r) => r.method !== 'GET').length,
      0,
      'no write reached Tactical',
    );

    const [finding] = await rmm.checkPatchPolicy({ agentId: WS2 });
    assert.deepEqual(finding!.review.autoApproves, ['critical', 'important']);
    assert.equal(finding!.review.problems.length, 3);
    const site = await rmm.checkPatchPolicy({ siteId: '11' });
    assert.match(site[0]!.source, /Workstations \(auto\)/);
    assert.deepEqual(site[0]!.review.autoApproves, ['critical', 'important']);
    assert.deepEqual(site[1]!.review.problems, [], "servers inherit the client's manual policy");
    assert.deepEqual(
      (await rmm.checkPatchPolicy({ clientId: '2' })).flatMap((f) => f.review.problems),
      [],
    );
  });

  it('is idempotent per key within a process and refuses a key reused for other arguments', async () => {
    const rmm = adapter();
    const a = await rmm.deploy(SRV, ['win:KB5044284'], 'key-1');
    const b = await rmm.deploy(SRV, ['win:KB5044284'], 'key-1');
    assert.equal(a.jobId, b.jobId);
    assert.equal(installPosts(SRV).length, 1);
    await rejectsWith(rmm.deploy(SRV, ['win:KB890830'], 'key-1'), 'IDEMPOTENCY_CONFLICT');
    await rejectsWith(rmm.reboot(SRV, 'key-1'), 'IDEMPOTENCY_CONFLICT');
    await rejectsWith(rmm.deploy(SRV, ['win:KB9999999'], 'key-2'), 'PATCH_NOT_FOUND');
    await rejectsWith(rmm.deploy(SRV, ['deb:openssl:3'], 'key-3'), 'PATCH_NOT_FOUND');
    await rejectsWith(rmm.readJob('job-1'), 'JOB_NOT_FOUND');
  });

  it('an offline agent is DEVICE_OFFLINE before anything is written', async () => {
    fake.setOnline(MUC, false);
    const rmm = adapter();
    await rejectsWith(rmm.deploy(MUC, ['win:KB5044284'], 'off-1'), 'DEVICE_OFFLINE');
    await rejectsWith(rmm.reboot(MUC, 'off-2'), 'DEVICE_OFFLINE');
    await rejectsWith(rmm.promptReboot(MUC, 'off-3', { allowDefer: true }), 'DEVICE_OFFLINE');
    assert.equal(fake.requests.filter((r) => r.method !== 'GET').length, 0);
    // Tactical's own 400 when the agent vanished between the check and the reboot.
    fake.fault({
      method: 'POST',
      path: /\/reboot\/$/,
      status: 400,
      body: 'Unable to contact the agent',
    });
    await rejectsWith(rmm.reboot(WS1, 'off-4'), 'DEVICE_OFFLINE', /Unable to contact the agent/);
  });

  it('an install that committed and then hung is found by the recheck and not sent again', async () => {
    const since = new Date().toISOString();
    fake.fault({ method: 'POST', path: /\/install\/$/, commitThenHang: true });
    const first = adapter({ timeoutMs: 300 });
    await assert.rejects(
      first.deploy(SRV, ['win:KB5044284', 'win:KB890830'], 'hang-1'),
      (e: unknown) => {
        assert.ok(
          e instanceof RmmError &&
            e.code === 'UNAVAILABLE' &&
            e.retryable &&
            /recheck/.test(e.message),
        );
        return true;
      },
    );
    assert.equal(fake.installCount(SRV), 1);
    // A retry (another worker: empty ledger) with the hints looks first.
    const retry = adapter();
    const { jobId } = await retry.deploy(SRV, ['win:KB5044284', 'win:KB890830'], 'hang-1', {
      recheck: true,
      since,
    });
    assert.equal(installPosts(SRV).length, 1, 'install/ was sent once');
    assert.equal(fake.installCount(SRV), 1);
    assert.equal(fake.kbInstallCount(SRV, 'KB5044284'), 1);
    const job = await retry.readJob(jobId);
    // needs_reboot is per agent in Tactical: every update of the run waits for the reboot.
    assert.deepEqual(
      job.results.map((r) => r.outcome),
      ['pending_reboot', 'pending_reboot'],
    );
  });

  it('a recheck without traces installs (the first attempt never reached the agent)', async () => {
    const since = new Date().toISOString();
    await adapter().deploy(MUC, ['win:KB890830'], 'crash-1', { recheck: true, since });
    assert.equal(fake.installCount(MUC), 1);
  });

  it('a reboot that committed and then hung is not repeated on recheck', async () => {
    const since = new Date().toISOString();
    fake.fault({ method: 'POST', path: /\/reboot\/$/, commitThenHang: true });
    await rejectsWith(adapter({ timeoutMs: 300 }).reboot(WS1, 'rb-1'), 'UNAVAILABLE', /recheck/);
    const { jobId } = await adapter().reboot(WS1, 'rb-1', { recheck: true, since });
    assert.equal(fake.requestsTo('POST', /\/reboot\/$/).length, 1);
    assert.equal((await adapter().readJob(jobId)).state, 'succeeded');
  });

  it('promptReboot is a forced reboot (Tactical cannot ask the user), once per key', async () => {
    const rmm = adapter();
    const a = await rmm.promptReboot(SRV, 'prompt-1', { allowDefer: true });
    const b = await rmm.promptReboot(SRV, 'prompt-1', { allowDefer: true });
    assert.equal(a.outcome, 'rebooting');
    assert.deepEqual(a, b);
    assert.equal(fake.requestsTo('POST', /\/reboot\/$/).length, 1);
    await rejectsWith(
      rmm.promptReboot(SRV, 'prompt-1', { allowDefer: false }),
      'IDEMPOTENCY_CONFLICT',
    );
  });

  it('uninstall is NOT_UNINSTALLABLE without a request', async () => {
    await rejectsWith(adapter().uninstall(WS1, ['win:KB5045935'], 'u-1'), 'NOT_UNINSTALLABLE');
    assert.equal(fake.requests.length, 0);
  });
});

describe('Tactical RMM transient failures', () => {
  it('retries a 500 on a GET and succeeds', async () => {
    fake.fault({ method: 'GET', path: /^\/clients\/$/, status: 500, body: 'Server Error (500)' });
    assert.equal((await adapter().listClients()).length, 2);
    assert.equal(fake.requestsTo('GET', /^\/clients\/$/).length, 2);
  });

  it('honours 429 + Retry-After, also on install/ (Tactical did nothing yet)', async () => {
    fake.fault({ method: 'GET', path: /^\/winupdate\//, status: 429, retryAfterSeconds: 1 });
    const t0 = Date.now();
    await adapter().missingPatches(WS1);
    assert.ok(Date.now() - t0 >= 900, 'waited for Retry-After');
    fake.fault({ method: 'POST', path: /\/install\/$/, status: 429, retryAfterSeconds: 0 });
    await adapter().deploy(WS1, ['win:KB890830'], 'rl-1');
    assert.equal(installPosts(WS1).length, 2);
    assert.equal(fake.installCount(WS1), 1);
  });

  it('a 500 on install/ is an unknown outcome: no blind retry', async () => {
    fake.fault({
      method: 'POST',
      path: /\/install\/$/,
      status: 502,
      body: '<html>502 Bad Gateway</html>',
    });
    await rejectsWith(adapter().deploy(WS1, ['win:KB890830'], 'u-502'), 'UNAVAILABLE', /recheck/);
    assert.equal(installPosts(WS1).length, 1);
  });

  it('keeps the API key out of every log line and error', () => {
    assert.ok(logLines.length > 0);
    assert.ok(!logLines.join('\n').includes(fake.apiKey), 'the API key leaked into the log');
  });
});

describe('Tactical RMM date_installed', () => {
  it('reads "%m %d %Y %H:%M" in the default time zone, DST included', () => {
    assert.equal(
      new Date(parseDateInstalled('07 01 2024 12:00', 'Europe/Berlin')!).toISOString(),
      '2024-07-01T10:00:00.000Z',
    );
    assert.equal(
      new Date(parseDateInstalled('01 15 2024 12:00', 'Europe/Berlin')!).toISOString(),
      '2024-01-15T11:00:00.000Z',
    );
    assert.equal(
      new Date(parseDateInstalled('03 10 2024 03:30', 'America/New_York')!).toISOString(),
      '2024-03-10T07:30:00.000Z',
    );
    assert.equal(parseDateInstalled('2024-07-01T12:00', 'Europe/Berlin'), undefined);
    assert.equal(parseDateInstalled(null, 'Europe/Berlin'), undefined);
  });
});
