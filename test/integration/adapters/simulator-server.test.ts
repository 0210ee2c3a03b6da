import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { createHttpClient } from '../../../adapters/http/client.js';
import { adapterDeps } from '../../../adapters/kit.js';
import { createRmm, rmmRegistry } from '../../../adapters/rmm/registry.js';
import { createRemoteSimulator } from '../../../adapters/rmm/simulator/remote.js';
import { serveSimulator, type ServedSimulator } from '../../../adapters/rmm/simulator/server.js';

const FLEET = { clients: 2, devicesPerClient: 12, offlineRate: 0, failureRate: { perPatch: 0.1 } };
const WIN11_CU = 'win:KB5091542';
const code = (c: string) => ({ name: 'RmmError', code: c });
const silent = pino({ level: 'silent' });

async function post(url: string, body: string, method = 'POST') {
  const res = await fetch(url, { method, body: method === 'GET' ? undefined : body });
  return { status: res.status, body: (await res.json()) as { code: string; message: string } };
}

describe('the served simulator', () => {
  let served: ServedSimulator;
  before(async () => {
    served = await serveSimulator({ config: FLEET, maxBodyBytes: 64 * 1024 });
  });
  after(() => served.close());

  it('answers every adapter call over HTTP as the simulator in process does', async () => {
    const remote = createRemoteSimulator(served.url);
    const local = served.simulator;
    assert.equal(remote.kind, 'simulator');
    assert.deepEqual(await remote.listClients(), await local.listClients());
    assert.deepEqual(await remote.listSites('acme'), await local.listSites('acme'));
    const page = await remote.listDevices('acme', { limit: 5 });
    assert.deepEqual(page, await local.listDevices('acme', { limit: 5 }));
    const next = await remote.listDevices('acme', { limit: 50, cursor: page.nextCursor });
    assert.equal(next.devices.length, 7);
    const device = page.devices[0]!.id;
    assert.deepEqual(await remote.missingPatches(device), await local.missingPatches(device));
    assert.deepEqual(await remote.installedPatches(device), await local.installedPatches(device));
    const { scanId } = await remote.triggerScan([device]);
    assert.deepEqual(await remote.readScan(scanId), { done: true });

    const { jobId } = await remote.deploy(device, [WIN11_CU], 'k1', { recheck: false, since: '' });
    assert.deepEqual(await remote.deploy(device, [WIN11_CU], 'k1'), { jobId });
    const job = await remote.readJob(jobId);
    assert.deepEqual(job, await local.readJob(jobId));
    const prompt = await remote.promptReboot(device, 'p1', { allowDefer: false });
    assert.equal(prompt.outcome, 'rebooting');
    const reboot = await remote.reboot(device, 'r1');
    assert.ok((await remote.readJob(reboot.jobId)).state);
    await assert.rejects(
      remote.uninstall(device, ['win:KB5091777'], 'u1'),
      code('NOT_UNINSTALLABLE'),
    );
    assert.equal(await remote.isOnline(device), true);
    const check = await remote.testConnection();
    assert.ok(check.ok && check.detail.includes(served.url), check.detail);
  });

  it('turns the simulator refusals back into RmmErrors with the same code', async () => {
    const remote = createRemoteSimulator(served.url);
    await assert.rejects(remote.listSites('nope'), code('CLIENT_NOT_FOUND'));
    await assert.rejects(remote.missingPatches('acme-9999'), code('DEVICE_NOT_FOUND'));
    await assert.rejects(remote.readJob('sim-job-nope'), code('JOB_NOT_FOUND'));
    await assert.rejects(remote.readScan('nope'), code('SCAN_NOT_FOUND'));
    await assert.rejects(remote.deploy('acme-0002', ['nope'], 'x'), code('PATCH_NOT_FOUND'));
    await assert.rejects(remote.listDevices('acme', { limit: 0 }), code('INVALID_ARGUMENT'));
    await remote.deploy('acme-0002', [WIN11_CU], 'conflict');
    await assert.rejects(
      remote.deploy('acme-0003', [WIN11_CU], 'conflict'),
      code('IDEMPOTENCY_CONFLICT'),
    );
    await remote.hooks.setOnline('acme-0004', false);
    await assert.rejects(remote.deploy('acme-0004', [WIN11_CU], 'off'), code('DEVICE_OFFLINE'));
    assert.equal(await remote.isOnline('acme-0004'), false);
    await remote.hooks.setOnline('acme-0004', true);
  });

  it('serves the bulk calls, one entry per request, failures as entries', async () => {
    const remote = createRemoteSimulator(served.url);
    const ids = ['acme-0005', 'acme-nope', 'globex-0001'];
    const states = await remote.bulk.patchStates(ids);
    assert.deepEqual(states, await served.simulator.bulk.patchStates(ids));
    assert.deepEqual(
      states.map((s) => (s.ok ? 'ok' : s.code)),
      ['ok', 'DEVICE_NOT_FOUND', 'ok'],
    );
    const requests = ids.map((deviceId) => ({
      deviceId,
      patchIds: [WIN11_CU],
      idempotencyKey: `bulk:${deviceId}`,
      // Extra fields a caller's objects may carry never reach the server.
      ring: 'pilot',
    }));
    const jobs = await remote.bulk.deploy(requests);
    assert.deepEqual(await remote.bulk.deploy(requests), jobs, 'a replay gives the same jobs');
    assert.equal(jobs[1]!.ok, false);
    const read = await remote.bulk.readJob(jobs.map((j) => (j.ok ? j.value.jobId : 'none')));
    assert.deepEqual(
      read.map((r) => (r.ok ? 'ok' : r.code)),
      ['ok', 'JOB_NOT_FOUND', 'ok'],
    );
    const online = await remote.bulk.isOnline(ids);
    assert.deepEqual(online[0], { ok: true, value: true });
    const prompts = await remote.bulk.promptReboot(
      ids.map((deviceId) => ({ deviceId, idempotencyKey: `bp:${deviceId}`, allowDefer: false })),
    );
    assert.deepEqual(
      prompts[0],
      await served.simulator.bulk
        .promptReboot([{ deviceId: ids[0]!, idempotencyKey: `bp:${ids[0]}`, allowDefer: false }])
        .then((r) => r[0]),
    );
    assert.equal(prompts[0]?.ok && prompts[0].value.outcome, 'rebooting');
  });

  it('serves the test hooks; stats come back as Maps', async () => {
    const remote = createRemoteSimulator(served.url);
    await remote.hooks.setUserDefers('globex-0002', true);
    assert.deepEqual(await remote.promptReboot('globex-0002', 'defer', { allowDefer: true }), {
      outcome: 'deferred',
    });
    await remote.hooks.setUserDefers('globex-0002', undefined);
    assert.deepEqual(await remote.hooks.pendingReboot('globex-0003'), []);
    assert.deepEqual(await remote.hooks.catalog(), served.simulator.catalog());
    const stats = await remote.hooks.stats();
    assert.ok(stats.deployCalls instanceof Map);
    assert.deepEqual(stats, served.simulator.stats());
    assert.ok((stats.deployCalls.get('k1') ?? 0) >= 2);
  });

  it('refuses bad requests: 400 naming the field, 404, 405, 413', async () => {
    const bad = await post(`${served.url}/v1/deploy`, JSON.stringify({ deviceId: 5 }));
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'INVALID_ARGUMENT');
    assert.match(bad.body.message, /deviceId/);
    assert.match(bad.body.message, /patchIds/);
    const extra = await post(`${served.url}/v1/isOnline`, '{"deviceId":"a","devcieId":"b"}');
    assert.equal(extra.status, 400);
    assert.match(extra.body.message, /devcieId/);
    const deep = await post(
      `${served.url}/v1/bulk/deploy`,
      JSON.stringify({ requests: [{ deviceId: 'a', patchIds: [1], idempotencyKey: 'k' }] }),
    );
    assert.match(deep.body.message, /requests\.0\.patchIds\.0/);
    assert.equal((await post(`${served.url}/v1/deploy`, '{not json')).status, 400);
    const unknown = await post(`${served.url}/v1/formatDisk`, '{}');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'NOT_FOUND');
    assert.equal((await post(`${served.url}/v1/listClients`, '', 'GET')).status, 405);
    const big = await post(
      `${served.url}/v1/triggerScan`,
      JSON.stringify({ deviceIds: ['x'.repeat(70_000)] }),
    );
    assert.equal(big.status, 413);
    assert.equal(
      (await post(`${served.url}/v1/missingPatches`, '{"deviceId":"nope"}')).status,
      404,
    );
    assert.equal((await post(`${served.url}/v1/listClients`, '')).status, 200);
  });
});

describe('the remote simulator adapter', () => {
  it('maps 429 and 503 to RATE_LIMITED and UNAVAILABLE, retryable', async () => {
    const statuses = [429, 503];
    const server = http.createServer((_req, res) => {
      const status = statuses.shift() ?? 500;
      const c = status === 429 ? 'RATE_LIMITED' : 'UNAVAILABLE';
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ code: c, message: `simulated ${c}` }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const remote = createRemoteSimulator(url, {
        http: (o) => createHttpClient({ ...o, retries: 0, log: silent }),
      });
      await assert.rejects(remote.isOnline('a'), { code: 'RATE_LIMITED', retryable: true });
      await assert.rejects(remote.isOnline('a'), { code: 'UNAVAILABLE', retryable: true });
    } finally {
      server.close();
    }
  });

  it('says where it looked when nothing serves the url', async () => {
    const remote = createRemoteSimulator('http://127.0.0.1:1', {
      http: (o) => createHttpClient({ ...o, retries: 0, log: silent }),
    });
    const check = await remote.testConnection();
    assert.equal(check.ok, false);
    assert.match(check.detail, /127\.0\.0\.1:1/);
    await assert.rejects(remote.listClients(), code('UNAVAILABLE'));
  });
});

describe('PATCHOPS_RMM_CONFIG={"url":…}', () => {
  it('builds the remote adapter from the registry, for doctor and workers', async () => {
    const served = await serveSimulator({ config: { clients: 1, devicesPerClient: 3 } });
    try {
      const parsed = rmmRegistry.parseSettings('simulator', {
        PATCHOPS_RMM_CONFIG: JSON.stringify({ url: served.url }),
      });
      assert.ok(parsed.ok);
      const rmm = createRmm('simulator', parsed.settings, adapterDeps(silent, '/tmp'));
      assert.equal(rmm.kind, 'simulator');
      assert.ok(rmm.bulk);
      const check = await rmm.testConnection();
      assert.ok(check.ok && /1 clients, 3 devices/.test(check.detail), check.detail);
    } finally {
      await served.close();
    }
  });

  it('refuses anything beside url, naming the field', () => {
    const parsed = rmmRegistry.parseSettings('simulator', {
      PATCHOPS_RMM_CONFIG: '{"url":"http://127.0.0.1:7410","seed":7}',
    });
    assert.ok(!parsed.ok);
    assert.match(
      parsed.problems.join('\n'),
      /^PATCHOPS_RMM_CONFIG: "seed" cannot stand beside "url"/,
    );
    const notUrl = rmmRegistry.parseSettings('simulator', { PATCHOPS_RMM_CONFIG: '{"url":7}' });
    assert.ok(!notUrl.ok);
    assert.match(notUrl.problems.join('\n'), /PATCHOPS_RMM_CONFIG: "url" must be/);
    assert.throws(
      () =>
        createRmm(
          'simulator',
          { url: 'http://127.0.0.1:1', clients: 2 },
          adapterDeps(silent, '/tmp'),
        ),
      code('CONFIG_INVALID'),
    );
  });
});
