import { parseDuration } from '../../domain/duration.js';

/**
 * The chat command language, shared by Slack's `/patch` and Teams messages:
 *   help | status [client|rollout] | scan CLIENT | rollout CLIENT
 *   approve ROLLOUT [reason…] | reject ROLLOUT reason… | defer ROLLOUT [1d|3d|7d] [reason…]
 *   pause|resume|cancel ROLLOUT [reason…] | report [CLIENT]
 */
export type ChatCommand =
  | { name: 'help' }
  | { name: 'status'; target?: string }
  | { name: 'scan'; clientId: string }
  | { name: 'rollout'; clientId: string }
  | { name: 'approve' | 'reject'; rolloutId: string; reason?: string }
  | { name: 'defer'; rolloutId: string; deferMs: number; reason?: string }
  | { name: 'pause' | 'resume' | 'cancel'; rolloutId: string; reason?: string }
  | { name: 'report'; clientId?: string };

export type CommandName = ChatCommand['name'];

export interface CommandHelp {
  name: CommandName;
  usage: string;
  what: string;
  /** Read-only commands anyone in an allowed channel may run; the rest need an approver. */
  readOnly: boolean;
}

export const COMMANDS: readonly CommandHelp[] = [
  { name: 'help', usage: 'help', what: 'what you can run here', readOnly: true },
  {
    name: 'status',
    usage: 'status [client|rollout]',
    what: 'running rollouts, or one client or rollout',
    readOnly: true,
  },
  {
    name: 'report',
    usage: 'report [client]',
    what: 'compliance per client and site',
    readOnly: true,
  },
  {
    name: 'scan',
    usage: 'scan CLIENT',
    what: 'scan a client for missing patches now',
    readOnly: false,
  },
  {
    name: 'rollout',
    usage: 'rollout CLIENT',
    what: 'plan a rollout and ask for approval',
    readOnly: false,
  },
  {
    name: 'approve',
    usage: 'approve ROLLOUT [reason]',
    what: 'approve a rollout',
    readOnly: false,
  },
  {
    name: 'reject',
    usage: 'reject ROLLOUT reason',
    what: 'reject a rollout (a reason is required)',
    readOnly: false,
  },
  {
    name: 'defer',
    usage: 'defer ROLLOUT [1d|3d|7d] [reason]',
    what: 'ask again later (default 1d)',
    readOnly: false,
  },
  { name: 'pause', usage: 'pause ROLLOUT', what: 'stop starting new devices', readOnly: false },
  { name: 'resume', usage: 'resume ROLLOUT', what: 'continue a paused rollout', readOnly: false },
  { name: 'cancel', usage: 'cancel ROLLOUT [reason]', what: 'cancel a rollout', readOnly: false },
];

export type ParseResult = { ok: true; command: ChatCommand } | { ok: false; error: string };

const ID = /^[\w.:-]{1,200}$/;

/** Parses command text (after the slash command or the bot mention). Never throws. */
export function parseCommand(text: string): ParseResult {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [verb = 'help', first, ...rest] = words;
  const name = verb.toLowerCase();
  const reason = rest.length ? rest.join(' ') : undefined;
  const needId = (what: string): ParseResult | undefined =>
    !first
      ? { ok: false, error: `\`${name}\` needs a ${what}: ${usageOf(name)}` }
      : ID.test(first)
        ? undefined
        : { ok: false, error: `"${first}" is not a valid ${what}` };
  switch (name) {
    case 'help':
      return { ok: true, command: { name: 'help' } };
    case 'status':
      return { ok: true, command: first ? { name: 'status', target: first } : { name: 'status' } };
    case 'report':
      return {
        ok: true,
        command: first ? { name: 'report', clientId: first } : { name: 'report' },
      };
    case 'scan':
    case 'rollout':
      return needId('client') ?? { ok: true, command: { name, clientId: first! } };
    case 'approve':
    case 'pause':
    case 'resume':
    case 'cancel':
      return (
        needId('rollout id') ?? {
          ok: true,
          command: { name, rolloutId: first!, ...(reason ? { reason } : {}) },
        }
      );
    case 'reject':
      return (
        needId('rollout id') ??
        (reason
          ? { ok: true, command: { name, rolloutId: first!, reason } }
          : { ok: false, error: `\`reject\` needs a reason: ${usageOf('reject')}` })
      );
    case 'defer': {
      const bad = needId('rollout id');
      if (bad) return bad;
      const [maybe, ...more] = rest;
      const ms = maybe ? parseDuration(maybe) : undefined;
      const deferMs = ms ?? 86_400_000;
      const why = (ms ? more : rest).join(' ');
      if (deferMs > 30 * 86_400_000)
        return { ok: false, error: 'defer: at most 30d; use reject for longer' };
      return {
        ok: true,
        command: { name, rolloutId: first!, deferMs, ...(why ? { reason: why } : {}) },
      };
    }
    default:
      return { ok: false, error: `unknown command "${verb}"` };
  }
}

function usageOf(name: string): string {
  return COMMANDS.find((c) => c.name === name)?.usage ?? name;
}

/** Usage lines for the commands this user may run. */
export function usage(prefix: string, mayChange: boolean): string {
  return COMMANDS.filter((c) => c.readOnly || mayChange)
    .map((c) => `${prefix}${c.usage} — ${c.what}`)
    .join('\n');
}
