import { RmmError, type RetryHints } from '../types.js';
import { outcomeUnknown } from './client.js';
import type { TacticalContext } from './context.js';
import { encodeJob, keyHash } from './jobs.js';
import { isWindows, kbOf, withKb } from './mapping.js';
import { reviewPatchPolicy } from './policy.js';
import type { WireWinUpdate } from './wire.js';

/**
 * Installing exactly the approved patches on one agent.
 *
 * Tactical installs "every approved update", after approving more by policy. So deploy
 * (1) refuses when the agent's effective patch policy auto-approves any severity,
 * (2) takes the approval away from every other approved, not-installed update (sets
 * "nothing": undecided, not a technician's "ignore"), (3) approves the wanted ones, and
 * (4) sends install/. With `hints.recheck` it first looks for traces of the earlier
 * attempt (an installed update, or a failure on an approved one) and sends nothing when
 * there are any. Resending when there are none is safe: the agent runs one install at a
 * time and drops a second request while one runs, and Tactical only sends approved,
 * not-installed updates.
 */

export function parseSince(hints: RetryHints | undefined, now: number): number {
  if (!hints) return now;
  const t = Date.parse(hints.since);
  if (Number.isNaN(t)) {
    throw new RmmError('INVALID_ARGUMENT', `hints.since "${hints.since}" is not an ISO 8601 time`);
  }
  return t;
}

export function requireKbs(patchIds: string[]): string[] {
  if (patchIds.length === 0)
    throw new RmmError('INVALID_ARGUMENT', 'deploy needs at least one patch id');
  const kbs = patchIds.map((id) => {
    const kb = kbOf(id);
    if (!kb) throw new RmmError('PATCH_NOT_FOUND', `"${id}" is not a Windows update id (win:KB…)`);
    return kb;
  });
  return [...new Set(kbs)].sort();
}

export async function deploy(
  ctx: TacticalContext,
  deviceId: string,
  patchIds: string[],
  key: string,
  hints?: RetryHints,
): Promise<{ jobId: string }> {
  const kbs = requireKbs(patchIds);
  const prior = ctx.ledger.replay(key, 'deploy', deviceId, kbs.join(','));
  if (prior?.kind === 'deploy') return { jobId: prior.jobId };
  const since = parseSince(hints, ctx.now());
  const jobId = encodeJob({ k: 'deploy', a: deviceId, p: kbs, s: since, h: keyHash(key) });
  const done = () => {
    ctx.ledger.remember(key, { kind: 'deploy', deviceId, args: kbs.join(','), jobId });
    return { jobId };
  };

  const agent = await ctx.api.agent(deviceId);
  if (!isWindows(agent)) {
    throw new RmmError('DEVICE_NOT_FOUND', `Agent "${deviceId}" is not a Windows agent`);
  }
  const rows = withKb(await ctx.api.updates(deviceId));
  const wanted = (u: WireWinUpdate & { kb: string }) => kbs.includes(u.kb.toUpperCase());
  for (const kb of kbs) {
    if (!rows.some((u) => u.kb.toUpperCase() === kb)) {
      throw new RmmError(
        'PATCH_NOT_FOUND',
        `Tactical RMM lists no ${kb} for ${agent.hostname}; rescan the device first`,
      );
    }
  }

  if (hints?.recheck) {
    const traces = rows.filter(
      (u) => wanted(u) && (u.installed || (u.result === 'failed' && u.action === 'approve')),
    );
    if (traces.length) {
      ctx.log.info(
        { deviceId, kbs, traces: traces.map((u) => u.kb) },
        'Tactical RMM: the earlier install attempt reached the agent; not sending it again',
      );
      return done();
    }
  }

  if (agent.status !== 'online') {
    throw new RmmError(
      'DEVICE_OFFLINE',
      `Agent ${agent.hostname} is ${agent.status}; Tactical would drop the install request`,
    );
  }
  const review = reviewPatchPolicy(agent.effective_patch_policy);
  if (review.autoApproves.length) {
    throw new RmmError(
      'CONFIG_INVALID',
      `The patch policy of ${agent.hostname} ${review.problems[0]!}; patchops installed nothing`,
    );
  }
  if (review.rebootsAfterInstall) {
    ctx.log.warn({ deviceId }, `Tactical RMM policy of ${agent.hostname} ${review.problems[0]!}`);
  }

  const toInstall = rows.filter((u) => wanted(u) && !u.installed);
  if (toInstall.length === 0) return done(); // every KB is already installed

  const others = rows.filter((u) => !wanted(u) && !u.installed && u.action === 'approve');
  if (others.length) {
    ctx.log.warn(
      { deviceId, kbs: others.map((u) => u.kb) },
      'Tactical RMM: withdrawing approvals patchops did not give, so install/ sends only this deploy',
    );
  }
  for (const u of others) await ctx.api.setAction(u.id, 'nothing', false);
  // A stale "failed" result would end the new job before the agent even tried: reset it.
  for (const u of toInstall) {
    if (u.action !== 'approve' || u.result === 'failed') {
      await ctx.api.setAction(u.id, 'approve', u.result === 'failed');
    }
  }

  try {
    await ctx.api.install(deviceId);
  } catch (err) {
    if (outcomeUnknown(err)) {
      throw new RmmError(
        'UNAVAILABLE',
        `The install request for ${agent.hostname} may or may not have reached Tactical RMM; retry with hints.recheck so patchops looks before sending it again`,
        { cause: err },
      );
    }
    throw err;
  }
  return done();
}
