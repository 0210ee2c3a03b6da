import assert from 'node:assert/strict';
import fs, { mkdtempSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createSimulator, type Simulator } from '../../../adapters/rmm/simulator/index.js';
import { serializeState } from '../../../adapters/rmm/simulator/persist.js';
import { RmmError, type BulkResult } from '../../../adapters/rmm/types.js';

/** A small fleet with failures, so refusals and failed jobs show up too. */
const FLEET = { clients: 1, devicesPerClient: 30, failureRate: { perPatch: 0.2, perDevice: 0.05 } };
const WIN11_CU = 'win:KB5091542';

/** What a single call gives, as a bulk entry. */
async function single<T>(fn: () => Promise<T>): Promise<BulkResult<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    if (!(err instanceof RmmError)) throw err;
    return { ok: false, code: err.code, message: err.message };
  }
}

async function ids(sim: Simulator): Promise<string[]> {
  return (await sim.listDevices('acme', { limit: 1000 })).devices.map((d) => d.id);
}

const dir = mkdtempSync(path.join(tmpdir(), 'sim-bulk-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('simulator bulk calls', () => {
  it('give, entry by entry, what the single calls give, and leave the same state', async () => {
    // One clock for both, so job times in the state files match too.
    const now = () => 1_000_000;
    const one = createSimulator(FLEET, { now });
    const many = createSimulator(FLEET, { now });
    const devices = [...(await ids(one)), 'acme-nope'];
    one.setOnline(devices[3]!, false);
    many.setOnline(devices[3]!, false);

    const states = await many.bulk.patchStates(devices);
    const singleStates = await Promise.all(
      devices.map((d) =>
        single(async () => ({
          installed: await one.installedPatches(d),
          missing: (await one.missingPatches(d)).map((p) => p.id),
        })),
      ),
    );
    assert.deepEqual(states, singleStates);
    assert.deepEqual(
      await many.bulk.isOnline(devices),
      await Promise.all(devices.map((d) => single(() => one.isOnline(d)))),
    );

    const deploys = devices.map((deviceId, i) => ({
      deviceId,
      patchIds: i === 5 ? ['no:such-patch'] : states[i]?.ok ? states[i].value.missing : [],
      idempotencyKey: `deploy:${deviceId}`,
    }));
    // The first device twice: a replay in the same call, and a conflicting key.
    deploys.push({ ...deploys[0]! });
    deploys.push({ ...deploys[1]!, patchIds: [WIN11_CU, 'win:KB5091777'] });
    const bulkJobs = await many.bulk.deploy(deploys);
    const singleJobs = [];
    for (const r of deploys)
      singleJobs.push(await single(() => one.deploy(r.deviceId, r.patchIds, r.idempotencyKey)));
    assert.deepEqual(bulkJobs, singleJobs);
    const codes = bulkJobs.map((r) => (r.ok ? 'ok' : r.code));
    assert.equal(codes[3], 'DEVICE_OFFLINE');
    assert.equal(codes[5], 'PATCH_NOT_FOUND');
    assert.equal(codes[devices.length - 1], 'DEVICE_NOT_FOUND');
    assert.equal(codes.at(-2), 'ok');
    assert.deepEqual(bulkJobs.at(-2), bulkJobs[0], 'a replayed key gives the first job');
    assert.equal(codes.at(-1), 'IDEMPOTENCY_CONFLICT');
    assert.ok(codes.filter((c) => c === 'ok').length > 20);

    const jobIds = [...bulkJobs.map((r) => (r.ok ? r.value.jobId : 'sim-job-none'))];
    const jobs = await many.bulk.readJob(jobIds);
    assert.deepEqual(jobs, await Promise.all(jobIds.map((j) => single(() => one.readJob(j)))));
    assert.ok(jobs.some((j) => j.ok && j.value.state === 'failed'));
    assert.ok(jobs.some((j) => !j.ok && j.code === 'JOB_NOT_FOUND'));

    const prompts = devices.map((deviceId, i) => ({
      deviceId,
      idempotencyKey: `prompt:${deviceId}`,
      allowDefer: i % 2 === 0,
    }));
    prompts.push({ ...prompts[0]! }, { ...prompts[1]!, allowDefer: true });
    prompts.push({
      deviceId: devices[0]!,
      idempotencyKey: `deploy:${devices[0]}`,
      allowDefer: false,
    });
    const bulkPrompts = await many.bulk.promptReboot(prompts);
    const singlePrompts = [];
    for (const r of prompts)
      singlePrompts.push(await single(() => one.promptReboot(r.deviceId, r.idempotencyKey, r)));
    assert.deepEqual(bulkPrompts, singlePrompts);
    assert.ok(bulkPrompts.some((p) => p.ok && p.value.outcome === 'deferred'));
    assert.ok(bulkPrompts.some((p) => p.ok && p.value.outcome === 'rebooting'));
    assert.deepEqual(
      bulkPrompts.slice(-3).map((p) => (p.ok ? p.value.outcome : p.code)),
      [
        bulkPrompts[0]?.ok ? bulkPrompts[0].value.outcome : '',
        'IDEMPOTENCY_CONFLICT',
        'IDEMPOTENCY_CONFLICT',
      ],
    );

    await many.bulk.readJob([]);
    await one.readJob(jobIds[0]!);
    assert.deepEqual(many.stats(), one.stats());
    assert.ok(serializeState(many.state) === serializeState(one.state), 'the same state');
  });

  it('an empty call is an empty answer', async () => {
    const sim = createSimulator(FLEET);
    assert.deepEqual(await sim.bulk.deploy([]), []);
    assert.deepEqual(await sim.bulk.patchStates([]), []);
  });

  it('saves the state file once per call, whatever the number of entries', async () => {
    const file = path.join(dir, 'once.json');
    const sim = createSimulator(
      { ...FLEET, offlineRate: 0, latencyMs: { job: 0 } },
      { statePath: file },
    );
    const devices = await ids(sim);
    const states = await sim.bulk.patchStates(devices);
    let saves = 0;
    const rename = fs.renameSync;
    fs.renameSync = (from, to) => {
      if (to === file) saves += 1;
      rename(from, to);
    };
    syncBuiltinESMExports();
    try {
      const jobs = await sim.bulk.deploy(
        devices.map((deviceId, i) => ({
          deviceId,
          patchIds:
            states[i]?.ok && states[i].value.missing.length ? states[i].value.missing : [WIN11_CU],
          idempotencyKey: `k:${deviceId}`,
        })),
      );
      assert.equal(saves, 1, 'one save for the deploys');
      await sim.bulk.readJob(jobs.map((j) => (j.ok ? j.value.jobId : '')));
      assert.equal(saves, 2, 'one save for the jobs that settled on read');
      await sim.bulk.readJob(jobs.map((j) => (j.ok ? j.value.jobId : '')));
      await sim.bulk.patchStates(devices);
      await sim.bulk.isOnline(devices);
      assert.equal(saves, 2, 'reads that change nothing save nothing');
      await sim.bulk.promptReboot(
        devices.map((deviceId) => ({
          deviceId,
          idempotencyKey: `p:${deviceId}`,
          allowDefer: true,
        })),
      );
      assert.equal(saves, 3);
    } finally {
      fs.renameSync = rename;
      syncBuiltinESMExports();
    }
    const reopened = createSimulator(
      { ...FLEET, offlineRate: 0, latencyMs: { job: 0 } },
      { statePath: file },
    );
    assert.ok(serializeState(reopened.state) === serializeState(sim.state), 'the file has it all');
  });

  it('settles due jobs once per call, on the virtual clock', async () => {
    let now = 0;
    const sim = createSimulator(
      { ...FLEET, offlineRate: 0, latencyMs: { job: 1000 } },
      { now: () => now },
    );
    const [a, b] = await ids(sim);
    const [ja, jb] = await sim.bulk.deploy([
      { deviceId: a!, patchIds: [WIN11_CU], idempotencyKey: 'a' },
      { deviceId: b!, patchIds: [WIN11_CU], idempotencyKey: 'b' },
    ]);
    const jobIds = [ja, jb].map((j) => (j?.ok ? j.value.jobId : ''));
    now = 500;
    assert.deepEqual(
      (await sim.bulk.readJob(jobIds)).map((j) => j.ok && j.value.state),
      ['running', 'running'],
    );
    now = 1000;
    const done = await sim.bulk.readJob(jobIds);
    assert.ok(done.every((j) => j.ok && j.value.state !== 'running' && j.value.state !== 'queued'));
  });

  it('answers 500 entries on a 100,000-device fleet in well under 50 ms', async () => {
    const sim = createSimulator({ clients: 1, devicesPerClient: 100_000, offlineRate: 0 });
    const batch = [...sim.state.fleet.byId.keys()].slice(40_000, 40_500);
    const timed = async <T>(fn: () => Promise<T>): Promise<[T, number]> => {
      const start = performance.now();
      const value = await fn();
      return [value, performance.now() - start];
    };
    const [states, tStates] = await timed(() => sim.bulk.patchStates(batch));
    const [jobs, tDeploy] = await timed(() =>
      sim.bulk.deploy(
        batch.map((deviceId, i) => ({
          deviceId,
          patchIds:
            states[i]?.ok && states[i].value.missing.length ? states[i].value.missing : [WIN11_CU],
          idempotencyKey: `big:${deviceId}`,
        })),
      ),
    );
    const [, tRead] = await timed(() =>
      sim.bulk.readJob(jobs.map((j) => (j.ok ? j.value.jobId : ''))),
    );
    const [, tOnline] = await timed(() => sim.bulk.isOnline(batch));
    const [, tPrompt] = await timed(() =>
      sim.bulk.promptReboot(
        batch.map((deviceId) => ({
          deviceId,
          idempotencyKey: `pr:${deviceId}`,
          allowDefer: false,
        })),
      ),
    );
    // Generous for a shared 2-core machine; measured at 1–9 ms each.
    for (const [name, ms] of Object.entries({ tStates, tDeploy, tRead, tOnline, tPrompt }))
      assert.ok(ms < 50, `${name} took ${ms.toFixed(1)} ms`);
  });
});
