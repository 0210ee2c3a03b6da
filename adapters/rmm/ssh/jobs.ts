import { createHash } from 'node:crypto';
import { z } from 'zod';
import { RmmError, type JobStatus, type PatchResult } from '../types.js';
import { bareName, parseDpkgQuery } from './apt-parse.js';
import { parseNeedsRestarting, sameRpmVersion } from './dnf-parse.js';

/**
 * Jobs live on the host, in a folder named by the SHA-256 of the idempotency key, so any
 * worker finds them: `record.json` (what was asked, written once, before anything runs),
 * then what the detached runner writes: `pid`, `started`, `output.log`, `after.tsv`
 * (package states afterwards), `reboot.pkgs`, `held`, `exit`, `finished`. A job's id is
 * `<deviceId>#<kind>:<keyHash>`, so readJob knows which host to ask without any local memory.
 */

export type JobKind = 'deploy' | 'reboot' | 'uninstall';

const target = z.object({
  patchId: z.string(),
  /** Package name as the package manager takes it (`openssl`, `bash.x86_64`). */
  name: z.string(),
  /** The version this job moves the package to (the old one, for an uninstall). */
  version: z.string(),
});
export type JobTarget = z.infer<typeof target>;

export const jobRecordSchema = z.object({
  v: z.literal(1),
  kind: z.enum(['deploy', 'reboot', 'uninstall']),
  deviceId: z.string(),
  /** Sorted, distinct: the arguments a replay must match. */
  patchIds: z.array(z.string()),
  packages: z.array(target),
  /** For a reboot: the installs waiting for it, completed when the host is back. */
  pending: z.array(target).default([]),
  /** Set when the reboot came from promptReboot, so a key is never both. */
  prompt: z.object({ allowDefer: z.boolean() }).optional(),
  created: z.string(),
});
export type JobRecord = z.infer<typeof jobRecordSchema>;

export const keyHash = (key: string): string => createHash('sha256').update(key).digest('hex');

export const jobIdOf = (deviceId: string, kind: JobKind, hash: string): string =>
  `${deviceId}#${kind}:${hash}`;

export function parseJobId(jobId: string): { deviceId: string; kind: JobKind; hash: string } {
  const m = /^(.+)#(deploy|reboot|uninstall):([0-9a-f]{64})$/.exec(jobId);
  if (!m?.[1] || !m[2] || !m[3]) {
    throw new RmmError(
      'JOB_NOT_FOUND',
      `"${jobId}" is not an SSH job id (expected <deviceId>#<kind>:<sha256>)`,
    );
  }
  return { deviceId: m[1], kind: m[2] as JobKind, hash: m[3] };
}

export function parseRecord(text: string, where: string): JobRecord {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new RmmError('UNAVAILABLE', `${where}: job record is not JSON (damaged?)`);
  }
  const r = jobRecordSchema.safeParse(data);
  if (!r.success)
    throw new RmmError(
      'UNAVAILABLE',
      `${where}: job record does not match its schema: ${r.error.issues[0]?.message ?? ''}`,
    );
  return r.data;
}

/** What a read of the job folder found (see readJobScript). */
export interface JobFolder {
  record: JobRecord;
  family: 'deb' | 'rpm';
  launched: boolean;
  started: boolean;
  finished: boolean;
  exitCode?: number;
  /** The runner process is alive in this boot. */
  alive: boolean;
  held: string[];
  /** Package states the runner recorded after apt/dnf, or empty. */
  after: string;
  /** reboot-required.pkgs (deb) or needs-restarting -r text (rpm) as the runner saw it. */
  rebootInfo: string;
  /** Package states now, and the reboot flags now (for reboot jobs). */
  now: string;
  nowReboot: string;
  tail: string;
  bootBefore: string;
  bootNow: string;
}

function versions(text: string): Map<string, { version: string; ok: boolean }> {
  const out = new Map<string, { version: string; ok: boolean }>();
  for (const p of parseDpkgQuery(text))
    out.set(bareName(p.name), { version: p.version, ok: p.status.startsWith('ii') });
  return out;
}

function pendingNames(family: 'deb' | 'rpm', info: string): { all: boolean; names: Set<string> } {
  if (family === 'deb')
    return {
      all: false,
      names: new Set(
        info
          .split('\n')
          .map((l) => bareName(l.trim()))
          .filter(Boolean),
      ),
    };
  const nr = parseNeedsRestarting(info);
  // needs-restarting names core packages without arch; any of ours among them waits.
  return { all: false, names: new Set(nr.packages) };
}

const rpmBase = (name: string) => name.replace(/\.[^.]+$/, '');

function lastLines(tail: string): string {
  const lines = tail
    .split('\n')
    .map((l) => l.trimEnd())
    .filter(Boolean);
  return lines.slice(-8).join('\n') || 'no output';
}

/** The RmmAdapter view of a job folder; pure, so it is unit-tested on recorded folders. */
export function jobStatusOf(f: JobFolder): JobStatus {
  const r = f.record;
  if (r.kind === 'reboot') return rebootStatus(f);
  if (!f.launched) return { state: 'queued', results: [] };
  if (!f.finished) {
    if (f.alive || !f.started) return { state: 'running', results: [] };
    const error = `the job's runner stopped before finishing (host rebooted or process killed); last output:\n${lastLines(f.tail)}`;
    return {
      state: 'failed',
      results: r.packages.map((p) => ({ patchId: p.patchId, outcome: 'failed', error })),
    };
  }
  const after = versions(f.after || f.now);
  const held = new Set(f.held.map(bareName));
  const pending = pendingNames(f.family, f.rebootInfo);
  const results: PatchResult[] = r.packages.map((p) => {
    const key = f.family === 'deb' ? bareName(p.name) : p.name;
    if (held.has(key)) {
      return {
        patchId: p.patchId,
        outcome: 'failed',
        error: `${p.name} is held on the host (apt-mark hold); not upgraded`,
      };
    }
    const now = after.get(key);
    const reached =
      now?.ok === true &&
      (f.family === 'deb' ? now.version === p.version : sameRpmVersion(now.version, p.version));
    if (!reached) {
      const at = now ? `${now.version}${now.ok ? '' : ' (not configured)'}` : 'not installed';
      return {
        patchId: p.patchId,
        outcome: 'failed',
        error: `${p.name} is at ${at}, not ${p.version} (exit ${f.exitCode ?? '?'}):\n${lastLines(f.tail)}`,
      };
    }
    if (r.kind === 'uninstall') return { patchId: p.patchId, outcome: 'uninstalled' };
    const waits = pending.names.has(f.family === 'deb' ? key : rpmBase(key));
    return { patchId: p.patchId, outcome: waits ? 'pending_reboot' : 'installed' };
  });
  return { state: results.some((x) => x.outcome === 'failed') ? 'failed' : 'succeeded', results };
}

function rebootStatus(f: JobFolder): JobStatus {
  if (f.bootNow !== '' && f.bootBefore !== '' && f.bootNow !== f.bootBefore) {
    const now = versions(f.now);
    const results: PatchResult[] = f.record.pending.map((p) => {
      const v = now.get(f.family === 'deb' ? bareName(p.name) : p.name);
      const ok =
        v?.ok === true &&
        (f.family === 'deb' ? v.version === p.version : sameRpmVersion(v.version, p.version));
      return ok
        ? { patchId: p.patchId, outcome: 'installed' }
        : {
            patchId: p.patchId,
            outcome: 'failed',
            error: `after the reboot ${p.name} is at ${v?.version ?? 'nothing'}, not ${p.version}`,
          };
    });
    return { state: results.some((x) => x.outcome === 'failed') ? 'failed' : 'succeeded', results };
  }
  if (f.finished) {
    const error = `the reboot command failed (exit ${f.exitCode ?? '?'}):\n${lastLines(f.tail)}`;
    return {
      state: 'failed',
      results: f.record.pending.map((p) => ({ patchId: p.patchId, outcome: 'failed', error })),
    };
  }
  return { state: f.launched ? 'running' : 'queued', results: [] };
}
