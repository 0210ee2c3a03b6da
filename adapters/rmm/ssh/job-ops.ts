import { RmmError, type JobStatus } from '../types.js';
import type { Family, SshContext } from './context.js';
import type { InventoryHost } from './inventory.js';
import { pendingReboot, rollbackTargets } from './job-plans.js';
import {
  jobIdOf,
  jobStatusOf,
  keyHash,
  parseJobId,
  parseRecord,
  type JobKind,
  type JobRecord,
  type JobTarget,
} from './jobs.js';
import { parsePatchId } from './patch-id.js';
import {
  debRunner,
  launchJob,
  peekRecord,
  readJobScript,
  REBOOT_RUNNER,
  rpmRunner,
  sections,
  submitJob,
} from './scripts.js';

/** Names and versions that go into shell commands; anything else is refused, never quoted. */
const SAFE = {
  deb: { name: /^[a-z0-9][a-z0-9+.-]*(:[a-z0-9]+)?$/, version: /^[A-Za-z0-9.+~:-]+$/ },
  rpm: { name: /^[A-Za-z0-9._+-]+\.[A-Za-z0-9_]+$/, version: /^[A-Za-z0-9.+~:_^-]+$/ },
};

interface JobRequest {
  kind: JobKind;
  patchIds: string[];
  prompt?: { allowDefer: boolean };
}

const sameArgs = (a: JobRecord, b: JobRequest & { deviceId: string }): boolean =>
  a.kind === b.kind &&
  a.deviceId === b.deviceId &&
  a.patchIds.join('\n') === b.patchIds.join('\n') &&
  JSON.stringify(a.prompt ?? null) === JSON.stringify(b.prompt ?? null);

/**
 * Deploy, reboot and uninstall jobs, exactly once per idempotency key: the record on the
 * host is looked for first (any worker's), written before anything runs, and the runner is
 * started behind a lock, detached from the SSH session so a dropped connection or a dead
 * worker does not stop apt halfway.
 */
export class JobOps {
  constructor(
    private readonly ctx: SshContext,
    private readonly clock: () => Date,
  ) {}

  private targets(host: InventoryHost, family: Family, patchIds: string[]): JobTarget[] {
    return patchIds.map((patchId) => {
      const ref = parsePatchId(patchId);
      if (ref.family !== family) {
        throw new RmmError(
          'PATCH_NOT_FOUND',
          `Patch "${patchId}" is a ${ref.family} package but ${host.name} uses ${family} packages`,
        );
      }
      if (!SAFE[family].name.test(ref.name) || !SAFE[family].version.test(ref.version)) {
        throw new RmmError(
          'PATCH_NOT_FOUND',
          `Patch "${patchId}" does not name a valid ${family} package and version`,
        );
      }
      return { patchId, name: ref.name, version: ref.version };
    });
  }

  /**
   * Returns the key's existing job if its arguments match, or undefined when the key is new;
   * throws IDEMPOTENCY_CONFLICT when the key was used for something else.
   */
  private async existing(
    host: InventoryHost,
    key: string,
    req: JobRequest,
  ): Promise<string | undefined> {
    const text = (
      await this.ctx.runOk(
        host,
        peekRecord(this.ctx.settings.stateDir, keyHash(key)),
        'reading job records',
      )
    ).trim();
    if (text === '') return undefined;
    return this.accept(host, key, req, parseRecord(text, `${host.name} job ${keyHash(key)}`));
  }

  private async accept(
    host: InventoryHost,
    key: string,
    req: JobRequest,
    rec: JobRecord,
  ): Promise<string> {
    if (!sameArgs(rec, { ...req, deviceId: host.deviceId })) {
      const what = rec.prompt ? 'reboot prompt' : rec.kind;
      throw new RmmError(
        'IDEMPOTENCY_CONFLICT',
        `Idempotency key "${key}" was already used for a different ${what} on ${rec.deviceId} (${rec.patchIds.length} patches, created ${rec.created})`,
      );
    }
    const hash = keyHash(key);
    // Starts the runner if an earlier attempt wrote the record but never got to launch it.
    await this.ctx.runOk(host, launchJob(this.ctx.settings.stateDir, hash), 'starting the job');
    return jobIdOf(host.deviceId, rec.kind, hash);
  }

  private async submit(
    host: InventoryHost,
    key: string,
    req: JobRequest,
    parts: { packages: JobTarget[]; pending?: JobTarget[]; runner: string },
  ): Promise<string> {
    const record: JobRecord = {
      v: 1,
      kind: req.kind,
      deviceId: host.deviceId,
      patchIds: req.patchIds,
      packages: parts.packages,
      pending: parts.pending ?? [],
      ...(req.prompt ? { prompt: req.prompt } : {}),
      created: this.clock().toISOString(),
    };
    const hash = keyHash(key);
    const out = await this.ctx.runOk(
      host,
      submitJob(this.ctx.settings.stateDir, hash, JSON.stringify(record), parts.runner),
      'writing the job record',
    );
    const stored = parseRecord(
      sections(out).get('record')?.body.trim() ?? '',
      `${host.name} job ${hash}`,
    );
    return this.accept(host, key, req, stored);
  }

  private request(
    kind: JobKind,
    patchIds: string[],
    key: string,
    prompt?: { allowDefer: boolean },
  ): JobRequest {
    if (!key) throw new RmmError('INVALID_ARGUMENT', 'idempotencyKey must not be empty');
    if (kind !== 'reboot' && patchIds.length === 0)
      throw new RmmError('INVALID_ARGUMENT', `${kind} needs at least one patch id`);
    return { kind, patchIds: [...new Set(patchIds)].sort(), ...(prompt ? { prompt } : {}) };
  }

  async deploy(deviceId: string, patchIds: string[], key: string): Promise<{ jobId: string }> {
    const host = this.ctx.host(deviceId);
    const req = this.request('deploy', patchIds, key);
    const family = await this.ctx.family(host);
    const packages = this.targets(host, family, req.patchIds);
    const found = await this.existing(host, key, req);
    if (found) return { jobId: found };
    const runner =
      family === 'deb'
        ? debRunner(
            'deploy',
            packages.map((p) => `${p.name}=${p.version}`),
            this.ctx.settings.lockTimeoutSeconds,
          )
        : rpmRunner(
            'deploy',
            packages.map((p) => nevra(p.name, p.version)),
          );
    return { jobId: await this.submit(host, key, req, { packages, runner }) };
  }

  async uninstall(deviceId: string, patchIds: string[], key: string): Promise<{ jobId: string }> {
    const host = this.ctx.host(deviceId);
    const req = this.request('uninstall', patchIds, key);
    const family = await this.ctx.family(host);
    const targets = this.targets(host, family, req.patchIds);
    const found = await this.existing(host, key, req);
    if (found) return { jobId: found };
    if (family === 'rpm') {
      throw new RmmError(
        'NOT_UNINSTALLABLE',
        `${host.name}: rolling back dnf updates is not supported by the SSH adapter; nothing was changed`,
      );
    }
    const packages = await rollbackTargets(this.ctx, host, targets);
    const runner = debRunner(
      'uninstall',
      packages.map((p) => `${p.name}=${p.version}`),
      this.ctx.settings.lockTimeoutSeconds,
    );
    return { jobId: await this.submit(host, key, req, { packages, runner }) };
  }

  async reboot(
    deviceId: string,
    key: string,
    prompt?: { allowDefer: boolean },
  ): Promise<{ jobId: string }> {
    const host = this.ctx.host(deviceId);
    const req = this.request('reboot', [], key, prompt);
    const family = await this.ctx.family(host);
    const found = await this.existing(host, key, req);
    if (found) return { jobId: found };
    const pending = await pendingReboot(this.ctx, host, family);
    const jobId = await this.submit(host, key, req, {
      packages: [],
      pending,
      runner: REBOOT_RUNNER,
    });
    this.ctx.pool.drop(host.deviceId);
    return { jobId };
  }

  async readJob(jobId: string): Promise<JobStatus> {
    const { deviceId, kind, hash } = parseJobId(jobId);
    const host = this.ctx.fleet().byDeviceId.get(deviceId);
    if (!host)
      throw new RmmError(
        'JOB_NOT_FOUND',
        `No job "${jobId}": host "${deviceId}" is not in the inventory`,
      );
    let out: string;
    let family: Family;
    try {
      family = await this.ctx.family(host);
      out = await this.ctx.runOk(
        host,
        readJobScript(this.ctx.settings.stateDir, hash, family),
        'reading the job',
      );
    } catch (err) {
      // A rebooting host is expected to be away for a while.
      if (
        kind === 'reboot' &&
        err instanceof RmmError &&
        (err.code === 'DEVICE_OFFLINE' || err.code === 'UNAVAILABLE')
      ) {
        return { state: 'running', results: [] };
      }
      // The job runs on the host whether or not we can see it: losing sight of it is
      // passing, worth polling again, not a reason to give the job up.
      if (err instanceof RmmError && err.code === 'DEVICE_OFFLINE') {
        throw new RmmError('UNAVAILABLE', `${err.message} (job ${jobId} keeps running there)`, {
          cause: err,
        });
      }
      throw err;
    }
    const s = sections(out);
    if (s.has('missing')) throw new RmmError('JOB_NOT_FOUND', `No job "${jobId}" on ${host.name}`);
    const body = (n: string) => s.get(n)?.body.trim() ?? '';
    const exit = body('exit');
    return jobStatusOf({
      record: parseRecord(body('record'), `${host.name} job ${hash}`),
      family,
      launched: body('launched') === 'yes',
      started: body('started') !== '',
      finished: body('finished') !== '' && exit !== '',
      ...(exit !== '' ? { exitCode: Number(exit) } : {}),
      alive: body('alive') === 'yes',
      held: body('held').split('\n').filter(Boolean),
      after: body('after'),
      rebootInfo: body('rebootpkgs'),
      now: body('now'),
      nowReboot: body('nowreboot'),
      tail: body('tail'),
      bootBefore: body('boot.before'),
      bootNow: s.get('boot')?.body.trim() || '',
    });
  }
}

/** `bash.x86_64` + `4.4.20-5.el8` → `bash-4.4.20-5.el8.x86_64`, the form dnf takes. */
function nevra(nameArch: string, version: string): string {
  const dot = nameArch.lastIndexOf('.');
  return `${nameArch.slice(0, dot)}-${version}${nameArch.slice(dot)}`;
}
