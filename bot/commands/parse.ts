import { cveIdSchema } from '../../domain/emergency.js';
import { parseDuration } from '../../domain/duration.js';

/**
 * The chat command language, shared by Slack's `/patch` and Teams messages:
 *   help | status [client|rollout] | scan CLIENT | rollout CLIENT
 *   approve ROLLOUT [reason…] | reject ROLLOUT reason… | defer ROLLOUT [1d|3d|7d] [reason…]
 *   pause|resume|cancel ROLLOUT [reason…] | report [CLIENT] | emergency CVE [CLIENT]
 */
export type ChatCommand =
  | { name: 'help' }
  | { name: 'status'; target?: string }
  | { name: 'scan'; clientId: string }
  | { name: 'rollout'; clientId: string }
  | { name: 'approve' | 'reject'; rolloutId: string; reason?: string }
  | { name: 'defer'; rolloutId: string; deferMs: number; reason?: string }
  | { name: 'pause' | 'resume' | 'cancel'; rolloutId: string; reason?: string }
  | { name: 'report'; clientId?: string }
  | { name: 'emergency'; cve: string; clientId?: string };

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
    name: 'emergency',
    usage: 'emergency CVE [client]',
    what: 'roll out only the fix for one CVE, on every client (or one) that misses it',
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

/**
 * The longest value chat may hand patchops, per field. Anything longer is refused with a reply
 * naming the field and its limit before it reaches Temporal, PostgreSQL or a log line.
 */
export const CHAT_LIMITS = {
  /** The whole command text after `/patch` or the @mention. */
  text: 2_000,
  clientId: 100,
  rolloutId: 200,
  ring: 64,
  reason: 500,
  /** Slack channel ids, Teams conversation ids (`19:…@thread.tacv2;messageid=…`, `a:…`). */
  conversationId: 300,
  /** Teams activity ids, Slack trigger ids and action timestamps (they key the audit). */
  activityId: 300,
} as const;
export type LimitedField = keyof typeof CHAT_LIMITS;

/** The refusal for a value over its limit, or undefined when every given value fits. */
export function overLimit(
  values: Partial<Record<LimitedField, string | null | undefined>>,
): string | undefined {
  for (const [field, value] of Object.entries(values) as [LimitedField, unknown][]) {
    const max = CHAT_LIMITS[field];
    if (typeof value === 'string' && value.length > max)
      return `${field} is too long: at most ${max} characters (got ${value.length}). Nothing was changed.`;
  }
  return undefined;
}

/**
 * The same check on a button or card payload before it is decoded (a decoder drops what does
 * not fit, and the clicker would not learn why). Only strings we read are checked.
 */
export function payloadOverLimit(raw: unknown): string | undefined {
  let v: unknown = raw;
  if (typeof raw === 'string') {
    if (raw.length > 4_000) return 'the button value is too long: at most 4000 characters.';
    try {
      v = JSON.parse(raw);
    } catch {
      return undefined; // not ours; the decoder says so
    }
  }
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const str = (x: unknown) => (typeof x === 'string' ? x : undefined);
  return overLimit({
    rolloutId: str(o.rolloutId),
    ring: str(o.ring),
    reason: str(o.reason),
  });
}

const ID = /^[\w.:-]+$/;

/** Parses command text (after the slash command or the bot mention). Never throws. */
export function parseCommand(text: string): ParseResult {
  const long = overLimit({ text });
  if (long) return { ok: false, error: long.replace(/^text/, 'the command') };
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [verb = 'help', first, ...rest] = words;
  const name = verb.toLowerCase();
  const reason = rest.length ? rest.join(' ') : undefined;
  const tooLong = (field: LimitedField, value: string | undefined): ParseResult | undefined => {
    const error = overLimit({ [field]: value });
    return error ? { ok: false, error } : undefined;
  };
  const needId = (what: string, field: LimitedField): ParseResult | undefined =>
    !first
      ? { ok: false, error: `\`${name}\` needs a ${what}: ${usageOf(name)}` }
      : (tooLong(field, first) ??
        (ID.test(first) ? undefined : { ok: false, error: `"${first}" is not a valid ${what}` }));
  const optionalId = (what: string, field: LimitedField): ParseResult | undefined =>
    first ? needId(what, field) : undefined;
  switch (name) {
    case 'help':
      return { ok: true, command: { name: 'help' } };
    case 'status':
      return (
        optionalId('client or rollout id', 'rolloutId') ?? {
          ok: true,
          command: first ? { name: 'status', target: first } : { name: 'status' },
        }
      );
    case 'report':
      return (
        optionalId('client', 'clientId') ?? {
          ok: true,
          command: first ? { name: 'report', clientId: first } : { name: 'report' },
        }
      );
    case 'scan':
    case 'rollout':
      return needId('client', 'clientId') ?? { ok: true, command: { name, clientId: first! } };
    case 'emergency': {
      const cve = cveIdSchema.safeParse(first ?? '');
      if (!cve.success)
        return {
          ok: false,
          error: `${first ? `"${first.slice(0, 40)}" is not a CVE id` : '`emergency` needs a CVE id'}: ${usageOf('emergency')} (e.g. emergency CVE-2026-12345)`,
        };
      const [client] = rest;
      if (client && (!ID.test(client) || overLimit({ clientId: client })))
        return {
          ok: false,
          error: overLimit({ clientId: client }) ?? `"${client}" is not a valid client`,
        };
      return {
        ok: true,
        command: { name: 'emergency', cve: cve.data, ...(client ? { clientId: client } : {}) },
      };
    }
    case 'approve':
    case 'pause':
    case 'resume':
    case 'cancel':
      return (
        needId('rollout id', 'rolloutId') ??
        tooLong('reason', reason) ?? {
          ok: true,
          command: { name, rolloutId: first!, ...(reason ? { reason } : {}) },
        }
      );
    case 'reject':
      return (
        needId('rollout id', 'rolloutId') ??
        tooLong('reason', reason) ??
        (reason
          ? { ok: true, command: { name, rolloutId: first!, reason } }
          : { ok: false, error: `\`reject\` needs a reason: ${usageOf('reject')}` })
      );
    case 'defer': {
      const bad = needId('rollout id', 'rolloutId');
      if (bad) return bad;
      const [maybe, ...more] = rest;
      const ms = maybe ? parseDuration(maybe) : undefined;
      const deferMs = ms ?? 86_400_000;
      const why = (ms ? more : rest).join(' ');
      const long = tooLong('reason', why);
      if (long) return long;
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
