import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  createSimulator,
  KNOWN_BAD_ERROR,
  KNOWN_BAD_PATCH_ID,
  readSimulatorStats,
  type Simulator,
} from '../../../adapters/rmm/simulator/index.js';
import { serializeState } from '../../../adapters/rmm/simulator/persist.js';
import type { Device } from '../../../domain/model.js';
import { deviceSchema, patchSchema } from '../../../domain/model.js';

/** No random failures and everyone online, so a test sees only what it sets up. */
const QUIET = { failureRate: { perPatch: 0, perDevice: 0 }, offlineRate: 0 };
const WIN11_CU = 'win:KB5091542'; // reboot required, uninstallable
const code = (c: string) => ({ name: 'RmmError', code: c });

async function allDevices(sim: Simulator, limit = 1000): Promise<Device[]> {
  const out: Device[] = [];
  for (const client of await sim.listClients()) {
    let cursor: string | undefined;
    do {
      const page = await sim.listDevices(client.id, { cursor, limit });
      out.push(...page.devices);
      cursor = page.nextCursor;
    } while (cursor);
  }
  return out;
}

async function missingEverywhere(sim: Simulator, patchId: string): Promise<Device[]> {
  const hits: Device[] = [];
  for (const d of await allDevices(sim)) {
    if ((await sim.missingPatches(d.id)).some((p) => p.id === patchId)) hits.push(d);
  }
  return hits;
}

/** Deploys everything each device lacks; returns "device patch outcome" lines. */
async function deployEverything(sim: Simulator, devices: Device[]): Promise<string[]> {
  const lines: string[] = [];
  for (const d of devices) {
    if (!d.online) continue;
    const missing = (await sim.missingPatches(d.id)).map((p) => p.id);
    if (missing.length === 0) continue;
    const { jobId } = await sim.deploy(d.id, missing, `all:${d.id}`);
    for (const r of (await sim.readJob(jobId)).results) {
      lines.push(`${d.id} ${r.patchId} ${r.outcome} ${r.error ?? ''}`);
    }
  }
  return lines.sort();
}

describe('simulated fleet', () => {
  it('builds ~300 valid devices for the defaults, with a realistic mix', async () => {
    const devices = await allDevices(createSimulator());
    assert.equal(devices.length, 300);
    for (const d of devices) deviceSchema.parse(d);
    assert.equal(new Set(devices.map((d) => d.id)).size, 300);
    assert.equal(new Set(devices.map((d) => d.hostname)).size, 300);
    const share = (pred: (d: Device) => boolean) => devices.filter(pred).length / 300;
    assert.ok(Math.abs(share((d) => d.osFamily === 'windows') - 0.65) < 0.08);
    assert.ok(Math.abs(share((d) => d.osFamily === 'macos') - 0.1) < 0.05);
    assert.ok(Math.abs(share((d) => d.osFamily === 'linux') - 0.25) < 0.07);
    assert.ok(Math.abs(share((d) => d.tags.includes('pilot')) - 0.1) < 0.05);
    assert.ok(devices.some((d) => d.internetExposed && d.tags.includes('server')));
    assert.ok(!devices.some((d) => d.internetExposed && d.tags.includes('workstation')));
  });

  it('gives each client 2–3 sites in real IANA time zones', async () => {
    const sim = createSimulator();
    const clients = await sim.listClients();
    assert.deepEqual(
      clients.map((c) => c.id),
      ['acme', 'globex', 'initech'],
    );
    for (const c of clients) {
      const sites = await sim.listSites(c.id);
      assert.ok(sites.length >= 2 && sites.length <= 3, `${c.id} has ${sites.length} sites`);
      // Throws RangeError for a zone the runtime does not know.
      for (const s of sites) new Intl.DateTimeFormat('en', { timeZone: s.timezone });
    }
    await assert.rejects(sim.listSites('nope'), code('CLIENT_NOT_FOUND'));
  });

  it('is deterministic: same seed, same fleet, catalog and outcomes', async () => {
    const a = createSimulator({ seed: 7, failureRate: { perPatch: 0.2 } });
    const b = createSimulator({ seed: 7, failureRate: { perPatch: 0.2 } });
    const devicesA = await allDevices(a);
    assert.deepEqual(await allDevices(b), devicesA);
    assert.deepEqual(b.catalog(), a.catalog());
    const outcomesA = await deployEverything(a, devicesA);
    // Reverse order on b: failure decisions must not depend on call order.
    assert.deepEqual(await deployEverything(b, [...devicesA].reverse()), outcomesA);
    assert.ok(outcomesA.some((l) => l.includes(' failed ')));
    assert.ok(outcomesA.some((l) => !l.includes(' failed ')));
  });

  it('a different seed gives a different fleet', async () => {
    const a = await allDevices(createSimulator({ seed: 1 }));
    const b = await allDevices(createSimulator({ seed: 2 }));
    assert.notDeepEqual(
      a.map((d) => `${d.hostname} ${d.osVersion}`),
      b.map((d) => `${d.hostname} ${d.osVersion}`),
    );
  });

  it('pages through every device exactly once, in a stable order', async () => {
    const sim = createSimulator({ clients: 1, devicesPerClient: 53 });
    const paged = await allDevices(sim, 7);
    const whole = await allDevices(sim, 1000);
    assert.equal(paged.length, 53);
    assert.deepEqual(
      paged.map((d) => d.id),
      whole.map((d) => d.id),
    );
    await assert.rejects(
      sim.listDevices('acme', { cursor: 'garbage', limit: 5 }),
      code('INVALID_ARGUMENT'),
    );
    await assert.rejects(sim.listDevices('acme', { limit: 0 }), code('INVALID_ARGUMENT'));
  });

  it('has a plausible catalog with exactly one known-bad patch', () => {
    const catalog = createSimulator().catalog();
    assert.ok(catalog.length >= 25 && catalog.length <= 40, `${catalog.length} patches`);
    for (const p of catalog) patchSchema.parse(p);
    assert.equal(new Set(catalog.map((p) => p.id)).size, catalog.length);
    assert.equal(catalog.filter((p) => p.id === KNOWN_BAD_PATCH_ID).length, 1);
    assert.ok(catalog.some((p) => p.kev));
    assert.ok(catalog.some((p) => p.id.startsWith('deb:openssl:3.0.22-1~deb12u2')));
    for (const kind of ['os', 'application', 'driver', 'firmware'] as const) {
      assert.ok(
        catalog.some((p) => p.kind === kind),
        kind,
      );
    }
  });
});

describe('simulated deploys', () => {
  it('deploying twice with one key gives one job and one install', async () => {
    const sim = createSimulator(QUIET);
    const [device] = await missingEverywhere(sim, 'win:KB890830'); // no reboot needed
    assert.ok(device);
    const first = await sim.deploy(device.id, ['win:KB890830'], 'k1');
    const again = await sim.deploy(device.id, ['win:KB890830'], 'k1');
    assert.equal(again.jobId, first.jobId);
    assert.deepEqual((await sim.readJob(first.jobId)).results, [
      { patchId: 'win:KB890830', outcome: 'installed' },
    ]);
    // A fresh key for an installed patch reports it installed without installing again.
    const other = await sim.deploy(device.id, ['win:KB890830'], 'k2');
    assert.equal((await sim.readJob(other.jobId)).state, 'succeeded');
    const stats = sim.stats();
    assert.equal(stats.deployCalls.get('k1'), 2);
    assert.equal(stats.deployJobsPerPatch.get('win:KB890830'), 2, "k1's job (no replay) and k2's");
    assert.equal(stats.installsPerDevicePatch.get(`${device.id}|win:KB890830`), 1);
    assert.ok(!(await sim.missingPatches(device.id)).some((p) => p.id === 'win:KB890830'));
    assert.ok((await sim.installedPatches(device.id)).includes('win:KB890830'));
    await assert.rejects(
      sim.deploy(device.id, ['win:KB2267602:1.441.215.0'], 'k1'),
      code('IDEMPOTENCY_CONFLICT'),
    );
  });

  it('a worker restart on the shared state replays the job instead of reinstalling', async () => {
    const before = createSimulator(QUIET);
    const [device] = await missingEverywhere(before, 'win:KB890830');
    assert.ok(device);
    const { jobId } = await before.deploy(device.id, ['win:KB890830'], 'restart-key');
    const after = createSimulator(QUIET, { state: before.state });
    assert.equal((await after.deploy(device.id, ['win:KB890830'], 'restart-key')).jobId, jobId);
    assert.equal(after.stats().installsPerDevicePatch.get(`${device.id}|win:KB890830`), 1);
    assert.throws(
      () => createSimulator({ seed: 9 }, { state: before.state }),
      code('CONFIG_INVALID'),
    );
  });

  it('the known-bad patch fails on every device, and only while enabled', async () => {
    const sim = createSimulator(QUIET);
    const targets = await missingEverywhere(sim, KNOWN_BAD_PATCH_ID);
    assert.ok(targets.length > 50, `${targets.length} targets`);
    for (const d of targets) {
      const { jobId } = await sim.deploy(d.id, [KNOWN_BAD_PATCH_ID], `bad:${d.id}`);
      const job = await sim.readJob(jobId);
      assert.equal(job.state, 'failed');
      assert.deepEqual(job.results, [
        { patchId: KNOWN_BAD_PATCH_ID, outcome: 'failed', error: KNOWN_BAD_ERROR },
      ]);
    }
    const fine = createSimulator({ ...QUIET, knownBadPatch: false });
    const { jobId } = await fine.deploy(targets[0]?.id ?? '', [KNOWN_BAD_PATCH_ID], 'ok');
    assert.equal((await fine.readJob(jobId)).results[0]?.outcome, 'pending_reboot');
  });

  it('refuses to deploy to an offline device', async () => {
    const sim = createSimulator();
    const offline = (await allDevices(sim)).filter((d) => !d.online);
    assert.ok(offline.length > 0, 'the default seed has offline devices');
    await assert.rejects(sim.deploy(offline[0]?.id ?? '', [WIN11_CU], 'x'), code('DEVICE_OFFLINE'));
    const quiet = createSimulator(QUIET);
    quiet.setOnline('acme-0001', false);
    assert.equal(await quiet.isOnline('acme-0001'), false);
    await assert.rejects(quiet.deploy('acme-0001', [WIN11_CU], 'y'), code('DEVICE_OFFLINE'));
    await assert.rejects(quiet.deploy('nope', [WIN11_CU], 'z'), code('DEVICE_NOT_FOUND'));
  });

  it('reboot-required patches stay pending_reboot until the reboot completes', async () => {
    const sim = createSimulator(QUIET);
    const [device] = await missingEverywhere(sim, WIN11_CU);
    assert.ok(device);
    const deploy = await sim.readJob((await sim.deploy(device.id, [WIN11_CU], 'cu')).jobId);
    assert.deepEqual(deploy.results, [{ patchId: WIN11_CU, outcome: 'pending_reboot' }]);
    assert.deepEqual(sim.pendingReboot(device.id), [WIN11_CU]);
    assert.ok(!(await sim.installedPatches(device.id)).includes(WIN11_CU));
    assert.ok(!(await sim.missingPatches(device.id)).some((p) => p.id === WIN11_CU));

    const reboot = await sim.readJob((await sim.reboot(device.id, 'reboot-1')).jobId);
    assert.deepEqual(reboot, {
      state: 'succeeded',
      results: [{ patchId: WIN11_CU, outcome: 'installed' }],
    });
    assert.deepEqual(sim.pendingReboot(device.id), []);
    assert.ok((await sim.installedPatches(device.id)).includes(WIN11_CU));
  });

  it('uninstalls what can be rolled back and refuses what cannot', async () => {
    const sim = createSimulator(QUIET);
    const [device] = await missingEverywhere(sim, WIN11_CU);
    assert.ok(device);
    await sim.readJob((await sim.deploy(device.id, [WIN11_CU], 'in')).jobId);
    const out = await sim.readJob((await sim.uninstall(device.id, [WIN11_CU], 'out')).jobId);
    assert.deepEqual(out.results, [{ patchId: WIN11_CU, outcome: 'uninstalled' }]);
    assert.ok((await sim.missingPatches(device.id)).some((p) => p.id === WIN11_CU));
    await assert.rejects(
      sim.uninstall(device.id, [KNOWN_BAD_PATCH_ID], 'no'),
      code('NOT_UNINSTALLABLE'),
    );
  });

  it('scans and jobs take their virtual latency on the injected clock', async () => {
    let now = 1_000;
    const sim = createSimulator(
      { ...QUIET, latencyMs: { scan: 500, job: 4_000 } },
      {
        now: () => now,
      },
    );
    const { scanId } = await sim.triggerScan(['acme-0001', 'acme-0002']);
    assert.deepEqual(await sim.readScan(scanId), { done: false });
    now += 500;
    assert.deepEqual(await sim.readScan(scanId), { done: true });

    const [device] = await missingEverywhere(sim, 'win:KB890830');
    assert.ok(device);
    const { jobId } = await sim.deploy(device.id, ['win:KB890830'], 'slow');
    assert.equal((await sim.readJob(jobId)).state, 'queued');
    now += 1_500;
    assert.equal((await sim.readJob(jobId)).state, 'running');
    assert.ok((await sim.missingPatches(device.id)).some((p) => p.id === 'win:KB890830'));
    now += 2_500;
    assert.equal((await sim.readJob(jobId)).state, 'succeeded');
    assert.ok((await sim.installedPatches(device.id)).includes('win:KB890830'));
  });

  it('rejects bad options with a message naming the field', () => {
    assert.throws(
      () => createSimulator({ failureRate: { perPatch: 2 }, latencyMs: { scan: -1 } }),
      (e: unknown) =>
        e instanceof Error &&
        /failureRate\.perPatch: expected a probability/.test(e.message) &&
        /latencyMs\.scan/.test(e.message),
    );
    assert.throws(() => createSimulator({ devices: 5 }), code('CONFIG_INVALID'));
  });
});

describe('simulated reboot prompts', () => {
  const keys = Array.from({ length: 40 }, (_, i) => `prompt-${i}`);

  async function answers(sim: Simulator, deviceIds: string[], order: string[]): Promise<string[]> {
    const lines: string[] = [];
    for (const deviceId of deviceIds) {
      for (const key of order) {
        const answer = await sim.promptReboot(deviceId, `${deviceId}:${key}`, { allowDefer: true });
        lines.push(`${deviceId} ${key} ${answer.outcome}`);
      }
    }
    return lines.sort();
  }

  it('whether the user defers is fixed by seed, device and key, not call order', async () => {
    const devices = ['acme-0001', 'acme-0002', 'globex-0003'];
    const a = await answers(createSimulator(QUIET), devices, keys);
    const b = await answers(createSimulator(QUIET), [...devices].reverse(), [...keys].reverse());
    assert.deepEqual(b, a);
    const deferred = a.filter((l) => l.endsWith(' deferred')).length;
    // userDeferRate defaults to 0.3: 120 prompts should land well inside 10%–50%.
    assert.ok(deferred > 12 && deferred < 60, `${deferred} of ${a.length} deferred`);
    const other = await answers(createSimulator({ ...QUIET, seed: 43 }), devices, keys);
    assert.notDeepEqual(other, a);
    const never = await answers(createSimulator({ ...QUIET, userDeferRate: 0 }), devices, keys);
    assert.ok(never.every((l) => l.endsWith(' rebooting')));
    const always = await answers(createSimulator({ ...QUIET, userDeferRate: 1 }), devices, keys);
    assert.ok(always.every((l) => l.endsWith(' deferred')));
    assert.throws(
      () => createSimulator({ userDeferRate: 1.5 }),
      /userDeferRate: expected a probability/,
    );
  });

  it('allowDefer: false always reboots, even a user who always defers', async () => {
    const sim = createSimulator({ ...QUIET, userDeferRate: 1 });
    sim.setUserDefers('acme-0001', true);
    for (const key of keys) {
      const answer = await sim.promptReboot('acme-0001', key, { allowDefer: false });
      assert.equal(answer.outcome, 'rebooting', key);
    }
    assert.equal(sim.stats().rebootsPerDevice.get('acme-0001'), keys.length);
  });

  it('the same key twice gives the same answer and at most one reboot job', async () => {
    const sim = createSimulator(QUIET);
    const first = await sim.promptReboot('acme-0001', 'once', { allowDefer: false });
    assert.equal(first.outcome, 'rebooting');
    assert.deepEqual(await sim.promptReboot('acme-0001', 'once', { allowDefer: false }), first);
    // A restarted worker over the same state gets the same job back, too.
    const after = createSimulator(QUIET, { state: sim.state });
    assert.deepEqual(await after.promptReboot('acme-0001', 'once', { allowDefer: false }), first);
    assert.equal(after.stats().rebootsPerDevice.get('acme-0001'), 1);

    sim.setUserDefers('acme-0002', true);
    assert.deepEqual(await sim.promptReboot('acme-0002', 'later', { allowDefer: true }), {
      outcome: 'deferred',
    });
    // The answer was given; changing the user's mind afterwards does not rewrite it.
    sim.setUserDefers('acme-0002', false);
    assert.deepEqual(await sim.promptReboot('acme-0002', 'later', { allowDefer: true }), {
      outcome: 'deferred',
    });
    assert.equal(sim.stats().rebootsPerDevice.get('acme-0002'), undefined);

    await assert.rejects(
      sim.promptReboot('acme-0001', 'once', { allowDefer: true }),
      code('IDEMPOTENCY_CONFLICT'),
    );
    await assert.rejects(
      sim.promptReboot('acme-0003', 'later', { allowDefer: true }),
      code('IDEMPOTENCY_CONFLICT'),
    );
    await assert.rejects(sim.reboot('acme-0001', 'once'), code('IDEMPOTENCY_CONFLICT'));
    await assert.rejects(sim.reboot('acme-0002', 'later'), code('IDEMPOTENCY_CONFLICT'));
    await sim.reboot('acme-0003', 'plain');
    await assert.rejects(
      sim.promptReboot('acme-0003', 'plain', { allowDefer: false }),
      code('IDEMPOTENCY_CONFLICT'),
    );
    await assert.rejects(
      sim.promptReboot('acme-0001', '', { allowDefer: false }),
      code('INVALID_ARGUMENT'),
    );
  });

  it('setUserDefers forces deferral and undefined returns to the seed', async () => {
    const sim = createSimulator({ ...QUIET, userDeferRate: 0 });
    sim.setUserDefers('acme-0001', true);
    for (const key of keys) {
      assert.deepEqual(await sim.promptReboot('acme-0001', `forced:${key}`, { allowDefer: true }), {
        outcome: 'deferred',
      });
    }
    // Only that device's user defers.
    assert.equal(
      (await sim.promptReboot('acme-0002', 'other-user', { allowDefer: true })).outcome,
      'rebooting',
    );
    sim.setUserDefers('acme-0001', undefined);
    assert.equal(
      (await sim.promptReboot('acme-0001', 'seeded', { allowDefer: true })).outcome,
      'rebooting',
    );
    const eager = createSimulator({ ...QUIET, userDeferRate: 1 });
    eager.setUserDefers('acme-0001', false);
    assert.equal(
      (await eager.promptReboot('acme-0001', 'accepts', { allowDefer: true })).outcome,
      'rebooting',
    );
    assert.throws(() => sim.setUserDefers('nope', true), code('DEVICE_NOT_FOUND'));
  });

  it('a rebooting answer completes pending_reboot installs; a deferral leaves them', async () => {
    const sim = createSimulator(QUIET);
    const [device] = await missingEverywhere(sim, WIN11_CU);
    assert.ok(device);
    await sim.readJob((await sim.deploy(device.id, [WIN11_CU], 'cu')).jobId);
    assert.deepEqual(sim.pendingReboot(device.id), [WIN11_CU]);

    sim.setUserDefers(device.id, true);
    assert.equal(
      (await sim.promptReboot(device.id, 'ask-1', { allowDefer: true })).outcome,
      'deferred',
    );
    assert.deepEqual(sim.pendingReboot(device.id), [WIN11_CU]);
    assert.ok(!(await sim.installedPatches(device.id)).includes(WIN11_CU));

    const answer = await sim.promptReboot(device.id, 'ask-2', { allowDefer: false });
    assert.ok(answer.outcome === 'rebooting', 'a forced prompt reboots');
    assert.deepEqual(await sim.readJob(answer.jobId), {
      state: 'succeeded',
      results: [{ patchId: WIN11_CU, outcome: 'installed' }],
    });
    assert.deepEqual(sim.pendingReboot(device.id), []);
    assert.ok((await sim.installedPatches(device.id)).includes(WIN11_CU));
  });

  it('stats count reboot jobs per device; replays and refusals add nothing', async () => {
    const sim = createSimulator(QUIET);
    await sim.reboot('acme-0001', 'r1');
    await sim.reboot('acme-0001', 'r1');
    await sim.promptReboot('acme-0001', 'p1', { allowDefer: false });
    await sim.promptReboot('acme-0001', 'p1', { allowDefer: false });
    await sim.promptReboot('acme-0002', 'p2', { allowDefer: false });
    sim.setUserDefers('acme-0003', true);
    await sim.promptReboot('acme-0003', 'p3', { allowDefer: true });
    sim.setOnline('acme-0004', false);
    await assert.rejects(
      sim.promptReboot('acme-0004', 'p4', { allowDefer: false }),
      code('DEVICE_OFFLINE'),
    );
    await assert.rejects(
      sim.promptReboot('nope', 'p5', { allowDefer: false }),
      code('DEVICE_NOT_FOUND'),
    );
    assert.deepEqual(
      sim.stats().rebootsPerDevice,
      new Map([
        ['acme-0001', 2],
        ['acme-0002', 1],
      ]),
    );
    // The refused key was not spent: once the device is back the prompt goes through.
    sim.setOnline('acme-0004', true);
    assert.equal(
      (await sim.promptReboot('acme-0004', 'p4', { allowDefer: false })).outcome,
      'rebooting',
    );
    assert.equal(sim.stats().rebootsPerDevice.get('acme-0004'), 1);
  });
});

describe('simulator state file (statePath)', () => {
  const dir = mkdtempSync(path.join(process.env.PATCHOPS_TEST_TMP ?? tmpdir(), 'sim-state-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let files = 0;
  const freshPath = () => path.join(dir, `state-${++files}.json`);
  const PATCH = 'win:KB890830'; // no reboot needed
  /** A new inode means the file was replaced, i.e. saved. */
  const inode = (file: string) => statSync(file).ino;
  const invalidPath = (file: string, pattern: RegExp) => (e: unknown) =>
    e instanceof Error &&
    (e as { code?: string }).code === 'CONFIG_INVALID' &&
    e.message.includes(file) &&
    pattern.test(e.message);

  it('is created from the seed, rewritten by every change and never by a read', async () => {
    const file = freshPath();
    const sim = createSimulator(QUIET, { statePath: file });
    assert.deepEqual(readSimulatorStats(file).deployCalls, new Map());
    const [device] = await missingEverywhere(sim, PATCH);
    assert.ok(device);
    const seedInode = inode(file);
    await sim.listClients();
    await sim.listDevices('acme', { limit: 5 });
    await sim.isOnline(device.id);
    assert.equal(inode(file), seedInode, 'reads left the file alone');

    const { jobId } = await sim.deploy(device.id, [PATCH], 'file-k1');
    assert.notEqual(inode(file), seedInode, 'deploy saved');
    assert.equal(readSimulatorStats(file).deployCalls.get('file-k1'), 1);
    // The job settles on the next look, which changes the device, so that look saves.
    const afterDeploy = inode(file);
    assert.deepEqual((await sim.readJob(jobId)).results, [
      { patchId: PATCH, outcome: 'installed' },
    ]);
    assert.notEqual(inode(file), afterDeploy, 'settling the job saved');
    assert.equal(readSimulatorStats(file).installsPerDevicePatch.get(`${device.id}|${PATCH}`), 1);
    const settled = inode(file);
    await sim.readJob(jobId);
    await sim.installedPatches(device.id);
    sim.pendingReboot(device.id);
    sim.stats();
    assert.equal(inode(file), settled, 'reads after settling left the file alone');

    const changes: Record<string, () => unknown> = {
      setOnline: () => sim.setOnline('acme-0002', false),
      setUserDefers: () => sim.setUserDefers('acme-0003', true),
      triggerScan: () => sim.triggerScan(['acme-0001']),
      reboot: () => sim.reboot('acme-0001', 'file-r1'),
      promptReboot: () => sim.promptReboot('acme-0004', 'file-p1', { allowDefer: false }),
      uninstall: () => sim.uninstall('acme-0001', [WIN11_CU], 'file-u1'),
    };
    for (const [name, change] of Object.entries(changes)) {
      const before = inode(file);
      await Promise.resolve(change());
      assert.notEqual(inode(file), before, `${name} saved`);
    }
    // A refused deploy still counts as a call, so it is saved too.
    await assert.rejects(sim.deploy('acme-0002', [PATCH], 'file-refused'), code('DEVICE_OFFLINE'));
    assert.equal(readSimulatorStats(file).deployCalls.get('file-refused'), 1);
  });

  it('a simulator restarted on the file replays keys instead of reinstalling', async () => {
    const file = freshPath();
    const first = createSimulator(QUIET, { statePath: file });
    const [device] = await missingEverywhere(first, PATCH);
    assert.ok(device);
    const { jobId } = await first.deploy(device.id, [PATCH], 'restart-file');
    await first.readJob(jobId);
    first.setOnline('acme-0005', false);
    first.setUserDefers('acme-0006', true);
    const prompt = await first.promptReboot('acme-0007', 'restart-prompt', { allowDefer: false });

    const second = createSimulator(QUIET, { statePath: file });
    assert.equal((await second.deploy(device.id, [PATCH], 'restart-file')).jobId, jobId);
    assert.deepEqual(await second.readJob(jobId), {
      state: 'succeeded',
      results: [{ patchId: PATCH, outcome: 'installed' }],
    });
    assert.ok((await second.installedPatches(device.id)).includes(PATCH));
    assert.ok(!(await second.missingPatches(device.id)).some((p) => p.id === PATCH));
    assert.equal(await second.isOnline('acme-0005'), false);
    assert.deepEqual(
      await second.promptReboot('acme-0006', 'restart-defer', { allowDefer: true }),
      { outcome: 'deferred' },
    );
    assert.deepEqual(
      await second.promptReboot('acme-0007', 'restart-prompt', { allowDefer: false }),
      prompt,
    );
    const stats = second.stats();
    assert.equal(stats.deployCalls.get('restart-file'), 2);
    assert.equal(stats.installsPerDevicePatch.get(`${device.id}|${PATCH}`), 1);
    assert.equal(stats.rebootsPerDevice.get('acme-0007'), 1);
    // New work continues the id sequence instead of reusing job ids.
    assert.ok(prompt.outcome === 'rebooting');
    const next = await second.reboot('acme-0008', 'restart-next');
    assert.ok(next.jobId > prompt.jobId && prompt.jobId > jobId, next.jobId);
    assert.deepEqual(readSimulatorStats(file), second.stats());
  });

  it('a job accepted before a crash runs exactly once after the restart', async () => {
    const file = freshPath();
    const config = { ...QUIET, latencyMs: { job: 1_000 } };
    let now = 5_000;
    const clock = { now: () => now, statePath: file };
    const first = createSimulator(config, clock);
    const [device] = await missingEverywhere(first, WIN11_CU);
    assert.ok(device);
    const { jobId } = await first.deploy(device.id, [WIN11_CU], 'crash-cu');
    assert.equal((await first.readJob(jobId)).state, 'queued');

    now += 1_000;
    const second = createSimulator(config, clock);
    assert.deepEqual((await second.readJob(jobId)).results, [
      { patchId: WIN11_CU, outcome: 'pending_reboot' },
    ]);
    const third = createSimulator(config, clock);
    assert.deepEqual(third.pendingReboot(device.id), [WIN11_CU]);
    assert.equal((await third.deploy(device.id, [WIN11_CU], 'crash-cu')).jobId, jobId);
    assert.equal(third.stats().installsPerDevicePatch.get(`${device.id}|${WIN11_CU}`), 1);
  });

  it('survives kill -9 of the process that owns it', async () => {
    const file = freshPath();
    const [device] = await missingEverywhere(createSimulator(QUIET), PATCH);
    assert.ok(device);
    const index = fileURLToPath(
      new URL('../../../adapters/rmm/simulator/index.ts', import.meta.url),
    );
    const child = `
      const { createSimulator } = await import(${JSON.stringify(index)});
      const sim = createSimulator(${JSON.stringify(QUIET)}, { statePath: ${JSON.stringify(file)} });
      const { jobId } = await sim.deploy(${JSON.stringify(device.id)}, [${JSON.stringify(PATCH)}], 'killed');
      await sim.readJob(jobId);
      process.kill(process.pid, 'SIGKILL');
    `;
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', child],
      { encoding: 'utf8' },
    );
    assert.equal(run.signal, 'SIGKILL', run.stderr);
    const stats = readSimulatorStats(file);
    assert.deepEqual(stats.deployCalls, new Map([['killed', 1]]));
    assert.deepEqual(stats.installsPerDevicePatch, new Map([[`${device.id}|${PATCH}`, 1]]));
    const restarted = createSimulator(QUIET, { statePath: file });
    const { jobId } = await restarted.deploy(device.id, [PATCH], 'killed');
    assert.equal((await restarted.readJob(jobId)).state, 'succeeded');
    assert.equal(readSimulatorStats(file).installsPerDevicePatch.get(`${device.id}|${PATCH}`), 1);
  });

  it('saves exactly what a fresh serialization of the state gives, and loads it back', async () => {
    const file = freshPath();
    const sim = createSimulator({ ...QUIET, failureRate: { perPatch: 0.1 } }, { statePath: file });
    const devices = await allDevices(sim);
    // Over 256 jobs and devices, so cached blocks are both reused and rebuilt.
    await deployEverything(sim, devices);
    for (const d of devices.slice(0, 40)) {
      await sim.promptReboot(d.id, `all-prompt:${d.id}`, { allowDefer: true });
    }
    sim.setOnline(devices[5]?.id ?? '', false);
    const pending = devices.find((d) => sim.pendingReboot(d.id).includes(WIN11_CU));
    assert.ok(pending);
    await sim.uninstall(pending.id, [WIN11_CU], 'all-out');
    assert.ok((await sim.missingPatches(pending.id)).some((p) => p.id === WIN11_CU));
    const saved = readFileSync(file, 'utf8');
    assert.equal(saved, serializeState(sim.state));
    const loaded = createSimulator(
      { ...QUIET, failureRate: { perPatch: 0.1 } },
      { statePath: file },
    );
    assert.equal(serializeState(loaded.state), saved);
    assert.deepEqual(loaded.stats(), sim.stats());
    assert.deepEqual(await allDevices(loaded), await allDevices(sim));
  });

  it('refuses a torn or foreign file with an error naming it', () => {
    const file = freshPath();
    const sim = createSimulator(QUIET, { statePath: file });
    sim.setOnline('acme-0001', false);
    const whole = readFileSync(file, 'utf8');
    writeFileSync(file, whole.slice(0, Math.floor(whole.length / 2)));
    assert.throws(() => createSimulator(QUIET, { statePath: file }), invalidPath(file, /JSON/));
    assert.throws(() => readSimulatorStats(file), invalidPath(file, /JSON/));
    writeFileSync(file, '');
    assert.throws(() => createSimulator(QUIET, { statePath: file }), invalidPath(file, /JSON/));
    writeFileSync(file, '{"hello":"world"}');
    assert.throws(
      () => createSimulator(QUIET, { statePath: file }),
      invalidPath(file, /not a patchops simulator state file/),
    );
    const damaged = JSON.parse(whole) as { jobs: unknown; version: number };
    damaged.jobs = [{ id: 'sim-job-000001' }];
    writeFileSync(file, JSON.stringify(damaged));
    assert.throws(
      () => createSimulator(QUIET, { statePath: file }),
      invalidPath(file, /damaged \(jobs\.0\./),
    );
    damaged.version = 99;
    writeFileSync(file, JSON.stringify(damaged));
    assert.throws(
      () => createSimulator(QUIET, { statePath: file }),
      invalidPath(file, /version 99/),
    );
    assert.throws(
      () => readSimulatorStats(path.join(dir, 'absent.json')),
      invalidPath(path.join(dir, 'absent.json'), /cannot be read/),
    );
  });

  it('refuses a file written with other options, naming the file and the fields', () => {
    const file = freshPath();
    createSimulator(QUIET, { statePath: file });
    assert.throws(
      () => createSimulator({ ...QUIET, seed: 9 }, { statePath: file }),
      invalidPath(file, /seed: file has 42, config has 9/),
    );
    assert.throws(
      () => createSimulator({}, { statePath: file }),
      invalidPath(file, /failureRate\.perPatch: file has 0, config has 0\.02/),
    );
    assert.throws(
      () => createSimulator(QUIET, { statePath: file, state: createSimulator(QUIET).state }),
      invalidPath(file, /not both/),
    );
  });
});
