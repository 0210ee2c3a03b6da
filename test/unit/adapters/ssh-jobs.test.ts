import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  jobIdOf,
  jobStatusOf,
  keyHash,
  parseJobId,
  parseRecord,
  type JobFolder,
  type JobRecord,
} from '../../../adapters/rmm/ssh/jobs.js';
import {
  launchJob,
  readJobScript,
  sections,
  submitJob,
} from '../../../adapters/rmm/ssh/scripts.js';

/**
 * The job-record scripts run here with the real sh and coreutils (as on a host, minus SSH),
 * racing several "workers" on one key; jobStatusOf is checked on job folders as the
 * runner leaves them (dpkg-query lines in the format the runner writes).
 */

function sh(script: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', script]);
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, stdout }));
  });
}

const record = (over: Partial<JobRecord> = {}): JobRecord => ({
  v: 1,
  kind: 'deploy',
  deviceId: 'ssh:acme:web',
  patchIds: [
    'deb:patchops-demo-kernel:1.1-1',
    'deb:patchops-demo-lib:1.1-1',
    'deb:patchops-demo-pinned:3.1-1',
  ],
  packages: [
    { patchId: 'deb:patchops-demo-kernel:1.1-1', name: 'patchops-demo-kernel', version: '1.1-1' },
    { patchId: 'deb:patchops-demo-lib:1.1-1', name: 'patchops-demo-lib', version: '1.1-1' },
    { patchId: 'deb:patchops-demo-pinned:3.1-1', name: 'patchops-demo-pinned', version: '3.1-1' },
  ],
  pending: [],
  created: '2026-12-06T19:00:00.000Z',
  ...over,
});

const folder = (over: Partial<JobFolder> = {}): JobFolder => ({
  record: record(),
  family: 'deb',
  launched: true,
  started: true,
  finished: true,
  exitCode: 0,
  alive: false,
  held: ['patchops-demo-pinned'],
  after:
    'patchops-demo-kernel\t1.1-1\tpatchops-demo-kernel\t1.1-1\tii \npatchops-demo-lib\t1.1-1\tpatchops-demo-lib\t1.1-1\tii \npatchops-demo-pinned\t3.0-1\tpatchops-demo-pinned\t3.0-1\tii ',
  rebootInfo: 'patchops-demo-kernel',
  now: '',
  nowReboot: '',
  tail: 'Setting up patchops-demo-lib (1.1-1) ...',
  bootBefore: 'b1/100',
  bootNow: 'b1/100',
  ...over,
});

describe('job records on the host (real sh)', () => {
  it('of workers racing with one key, exactly one record wins and all read it back', async () => {
    const state = mkdtempSync(path.join(tmpdir(), 'patchops-jobs-'));
    const hash = keyHash('rollout-7/web/deploy');
    const outs = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        sh(
          submitJob(
            state,
            hash,
            JSON.stringify(record({ created: `worker-${i}` })),
            'echo ran >> ran.count\n',
          ),
        ),
      ),
    );
    const created = new Set(
      outs.map((o) => parseRecord(sections(o.stdout).get('record')?.body ?? '', 'test').created),
    );
    assert.equal(created.size, 1);
    assert.ok(outs.every((o) => o.code === 0));
    assert.deepEqual(readdirSync(path.join(state, 'jobs')), [hash]);
    assert.deepEqual(readdirSync(path.join(state, 'tmp')), []); // losers cleaned up after themselves
    // Launching races too: the runner starts once.
    const launches = await Promise.all(Array.from({ length: 8 }, () => sh(launchJob(state, hash))));
    assert.equal(launches.filter((l) => l.stdout.includes('@@launched')).length, 1);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(readFileSync(path.join(state, 'jobs', hash, 'ran.count'), 'utf8'), 'ran\n');
    const read = sections((await sh(readJobScript(state, hash, 'deb'))).stdout);
    assert.equal(read.get('launched')?.body.trim(), 'yes');
    assert.match(read.get('boot.before')?.body ?? '', /^[0-9a-f-]+\/\d+\n?$/);
    assert.equal(read.get('boot.before')?.body.trim(), read.get('boot')?.body.trim());
    assert.ok(!read.has('missing'));
    assert.ok(
      sections((await sh(readJobScript(state, keyHash('other'), 'deb'))).stdout).has('missing'),
    );
  });
});

describe('job status from a job folder', () => {
  it('installed, pending_reboot (reboot-required.pkgs) and held → failed', () => {
    assert.deepEqual(jobStatusOf(folder()), {
      state: 'failed',
      results: [
        { patchId: 'deb:patchops-demo-kernel:1.1-1', outcome: 'pending_reboot' },
        { patchId: 'deb:patchops-demo-lib:1.1-1', outcome: 'installed' },
        {
          patchId: 'deb:patchops-demo-pinned:3.1-1',
          outcome: 'failed',
          error: 'patchops-demo-pinned is held on the host (apt-mark hold); not upgraded',
        },
      ],
    });
  });

  it('a half-configured package fails with the last lines of apt output', () => {
    const f = folder({
      held: [],
      exitCode: 100,
      record: record({
        patchIds: ['deb:patchops-demo-fail:1.1-1'],
        packages: [
          { patchId: 'deb:patchops-demo-fail:1.1-1', name: 'patchops-demo-fail', version: '1.1-1' },
        ],
      }),
      after: 'patchops-demo-fail\t1.1-1\tpatchops-demo-fail\t1.1-1\tiF ',
      tail: 'dpkg: error processing package patchops-demo-fail (--configure):\n installed patchops-demo-fail package post-installation script subprocess returned error exit status 1\nE: Sub-process /usr/bin/dpkg returned an error code (1)',
    });
    const s = jobStatusOf(f);
    assert.equal(s.state, 'failed');
    assert.match(
      s.results[0]?.error ?? '',
      /1\.1-1 \(not configured\), not 1\.1-1 \(exit 100\):\n.*post-installation script/s,
    );
  });

  it('queued before launch, running while the runner lives, failed when it died', () => {
    assert.deepEqual(jobStatusOf(folder({ launched: false, started: false, finished: false })), {
      state: 'queued',
      results: [],
    });
    assert.deepEqual(jobStatusOf(folder({ finished: false, alive: true })), {
      state: 'running',
      results: [],
    });
    const died = jobStatusOf(folder({ finished: false, alive: false, exitCode: undefined }));
    assert.equal(died.state, 'failed');
    assert.ok(
      died.results.every((r) => r.outcome === 'failed' && /runner stopped/.test(r.error ?? '')),
    );
  });

  it('uninstall reports uninstalled at the old version', () => {
    const f = folder({
      held: [],
      record: record({
        kind: 'uninstall',
        patchIds: ['deb:patchops-demo-lib:1.1-1'],
        packages: [
          { patchId: 'deb:patchops-demo-lib:1.1-1', name: 'patchops-demo-lib', version: '1.0-1' },
        ],
      }),
      after: 'patchops-demo-lib\t1.0-1\tpatchops-demo-lib\t1.0-1\tii ',
    });
    assert.deepEqual(jobStatusOf(f), {
      state: 'succeeded',
      results: [{ patchId: 'deb:patchops-demo-lib:1.1-1', outcome: 'uninstalled' }],
    });
  });

  it('a reboot succeeds only once the boot mark changed, completing the pending installs', () => {
    const reboot = record({
      kind: 'reboot',
      patchIds: [],
      packages: [],
      pending: [
        {
          patchId: 'deb:patchops-demo-kernel:1.1-1',
          name: 'patchops-demo-kernel',
          version: '1.1-1',
        },
      ],
    });
    const now = 'patchops-demo-kernel\t1.1-1\tpatchops-demo-kernel\t1.1-1\tii ';
    assert.deepEqual(jobStatusOf(folder({ record: reboot, finished: false, now })), {
      state: 'running',
      results: [],
    });
    // The same kernel boot_id with a new PID 1 start time is a new boot (as on the test hosts).
    assert.deepEqual(
      jobStatusOf(folder({ record: reboot, finished: false, now, bootNow: 'b1/250' })),
      {
        state: 'succeeded',
        results: [{ patchId: 'deb:patchops-demo-kernel:1.1-1', outcome: 'installed' }],
      },
    );
    const failed = jobStatusOf(
      folder({
        record: reboot,
        finished: true,
        exitCode: 255,
        tail: 'reboot: Operation not permitted',
      }),
    );
    assert.equal(failed.state, 'failed');
  });

  it('job ids carry the device and kind, and refuse anything else', () => {
    const hash = keyHash('k');
    assert.deepEqual(parseJobId(jobIdOf('ssh:acme:web#1', 'reboot', hash)), {
      deviceId: 'ssh:acme:web#1',
      kind: 'reboot',
      hash,
    });
    assert.throws(() => parseJobId('job-1'), { code: 'JOB_NOT_FOUND' });
  });
});
