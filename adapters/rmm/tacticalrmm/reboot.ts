import { RmmError, type RebootPromptResult, type RetryHints } from '../types.js';
import { outcomeUnknown } from './client.js';
import type { TacticalContext } from './context.js';
import { parseSince } from './deploy.js';
import { bootedSince, encodeJob, keyHash, waitsForReboot } from './jobs.js';
import { withKb } from './mapping.js';
import type { WireAgent } from './wire.js';

/**
 * Reboots through POST /agents/{agent_id}/reboot/ ("reboot now": Tactical waits up to 10 s
 * for the agent's "ok", else answers 400 "Unable to contact the agent").
 *
 * With `hints.recheck` the agent's boot time tells whether the earlier request went
 * through. Right after a reboot request the agent still looks online with its old boot
 * time (Tactical marks it offline only after `offline_time`, 4 min by default), so within
 * REBOOT_SETTLE_MS of the first attempt the answer is "not known yet" (UNAVAILABLE, retried
 * later) instead of a second reboot.
 */
export const REBOOT_SETTLE_MS = 10 * 60_000;

async function pendingKbs(
  ctx: TacticalContext,
  deviceId: string,
  agent: WireAgent,
): Promise<string[]> {
  if (!agent.needs_reboot) return [];
  const [rows, tz] = await Promise.all([ctx.api.updates(deviceId), ctx.timeZone()]);
  return [
    ...new Set(
      withKb(rows)
        .filter((u) => waitsForReboot(u, agent, tz))
        .map((u) => u.kb.toUpperCase()),
    ),
  ].sort();
}

async function rebootOnce(
  ctx: TacticalContext,
  deviceId: string,
  key: string,
  hints: RetryHints | undefined,
): Promise<string> {
  const since = parseSince(hints, ctx.now());
  const job = (p: string[]) =>
    encodeJob({ k: 'reboot', a: deviceId, p, s: since, h: keyHash(key) });
  const agent = await ctx.api.agent(deviceId);

  if (hints?.recheck) {
    const booted = bootedSince(agent, since);
    const lastSeen = agent.last_seen ? Date.parse(agent.last_seen) : NaN;
    const wentDown = agent.status !== 'online' && lastSeen >= since;
    // Which updates waited for this reboot can no longer be told once it happened.
    if (booted || wentDown) return job([]);
    if (ctx.now() - since < REBOOT_SETTLE_MS) {
      throw new RmmError(
        'UNAVAILABLE',
        `Whether ${agent.hostname} is already rebooting cannot be told yet; try again in a few minutes`,
      );
    }
  }
  if (agent.status !== 'online') {
    throw new RmmError(
      'DEVICE_OFFLINE',
      `Agent ${agent.hostname} is ${agent.status}; cannot reboot it now`,
    );
  }
  const pending = await pendingKbs(ctx, deviceId, agent);
  try {
    await ctx.api.reboot(deviceId);
  } catch (err) {
    if (outcomeUnknown(err)) {
      throw new RmmError(
        'UNAVAILABLE',
        `The reboot request for ${agent.hostname} may or may not have gone through; retry with hints.recheck`,
        { cause: err },
      );
    }
    throw err;
  }
  return job(pending);
}

export async function reboot(
  ctx: TacticalContext,
  deviceId: string,
  key: string,
  hints?: RetryHints,
): Promise<{ jobId: string }> {
  const prior = ctx.ledger.replay(key, 'reboot', deviceId, '');
  if (prior?.kind === 'reboot') return { jobId: prior.jobId };
  const jobId = await rebootOnce(ctx, deviceId, key, hints);
  ctx.ledger.remember(key, { kind: 'reboot', deviceId, args: '', jobId });
  return { jobId };
}

/**
 * Tactical cannot ask the logged-on user anything, so every prompt is a forced reboot
 * ("rebooting"), also with `allowDefer: true`: the user gets no chance to postpone.
 */
export async function promptReboot(
  ctx: TacticalContext,
  deviceId: string,
  key: string,
  allowDefer: boolean,
): Promise<RebootPromptResult> {
  const prior = ctx.ledger.replay(key, 'prompt', deviceId, String(allowDefer));
  if (prior?.kind === 'prompt') return { ...prior.answer };
  const answer: RebootPromptResult = {
    outcome: 'rebooting',
    jobId: await rebootOnce(ctx, deviceId, key, undefined),
  };
  ctx.ledger.remember(key, { kind: 'prompt', deviceId, args: String(allowDefer), answer });
  return { ...answer };
}
