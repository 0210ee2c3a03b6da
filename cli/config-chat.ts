import { z } from 'zod';
import { parseDuration } from '../domain/duration.js';

/** Environment variables of the chat front doors (Slack, Teams); cli/config.ts merges them. */

const secret = z.string().min(1, 'must not be empty when set');
const list = z.string().transform((v) =>
  v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);
const jsonMap = (example: string) =>
  z.string().transform((text, ctx) => {
    try {
      const v = JSON.parse(text) as unknown;
      if (
        v &&
        typeof v === 'object' &&
        !Array.isArray(v) &&
        Object.values(v).every((x) => typeof x === 'string')
      )
        return v as Record<string, string>;
    } catch {
      // reported below
    }
    ctx.addIssue({ code: 'custom', message: `expected a JSON object of strings, e.g. ${example}` });
    return z.NEVER;
  });
const duration = (example: string) =>
  z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `expected a duration like "${example}"` });
      return z.NEVER;
    }
    return ms;
  });
const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const guid = z.string().regex(guidPattern, "expected a GUID (the Azure Bot's Microsoft App ID)");

export const chatEnv = {
  PATCHOPS_BOT_HOST: z.string().min(1).default('0.0.0.0'),
  PATCHOPS_BOT_PORT: z.coerce
    .number({ message: 'expected a port number' })
    .int()
    .min(0)
    .max(65535)
    .default(3000),
  PATCHOPS_CHAT_UPDATE_INTERVAL: duration('3s').optional(),
  SLACK_BOT_TOKEN: z
    .string()
    .regex(/^xoxb-/, 'expected a bot token starting with xoxb-')
    .optional(),
  SLACK_SIGNING_SECRET: secret.optional(),
  SLACK_APP_TOKEN: z
    .string()
    .regex(/^xapp-/, 'expected an app-level token starting with xapp-')
    .optional(),
  PATCHOPS_SLACK_MODE: z.enum(['http', 'socket']).default('http'),
  PATCHOPS_SLACK_API_URL: z
    .url({ message: 'expected a URL like https://slack.com/api/' })
    .optional(),
  PATCHOPS_SLACK_CHANNELS: jsonMap('{"acme":"C0123ABCD","*":"C0999ZZZZ"}').optional(),
  PATCHOPS_SLACK_ALLOWED_CHANNELS: list.optional(),
  PATCHOPS_SLACK_ALLOWED_TEAMS: list
    .refine((ids) => ids.every((id) => id === '*' || /^[TE][A-Z0-9]{2,}$/.test(id)), {
      message:
        'expected workspace ids (T…) or Enterprise Grid ids (E…) separated by commas, or "*" for any workspace',
    })
    .optional(),
  MICROSOFT_APP_ID: guid.optional(),
  MICROSOFT_APP_PASSWORD: secret.optional(),
  MICROSOFT_APP_TENANT_ID: guid.optional(),
  MICROSOFT_APP_TYPE: z
    .enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI'])
    .default('MultiTenant'),
  PATCHOPS_TEAMS_ALLOWED_TENANTS: list
    .refine((ids) => ids.every((id) => id === '*' || guidPattern.test(id)), {
      message:
        'expected Microsoft Entra tenant ids (GUIDs) separated by commas, or "*" for any tenant',
    })
    .optional(),
  PATCHOPS_TEAMS: z.enum(['on', 'off']).optional(),
  PATCHOPS_TEAMS_AUTH: z.enum(['on', 'disabled']).default('on'),
};

// eslint-disable-next-line @typescript-eslint/no-unused-vars -- only its type is needed
const chatEnvSchema = z.object(chatEnv);
type ChatEnv = z.output<typeof chatEnvSchema>;

export interface SlackConfig {
  botToken: string;
  /** Absent only in Socket Mode, where Slack does not sign requests. */
  signingSecret: string | undefined;
  appToken: string | undefined;
  mode: 'http' | 'socket';
  /** Web API base URL (tests point it at a local fake). */
  apiUrl: string | undefined;
  /** Client id → channel id for cards; "*" is the fallback. */
  channels: Record<string, string>;
  /** Channels the bot answers in; empty = the channels above. DMs with the bot always count. */
  allowedChannels: string[];
  /**
   * Workspace (T…) or Enterprise Grid organisation (E…) ids the bot answers; "*" = any; empty =
   * the bot token's own workspace (its organisation for an org-wide install), from auth.test.
   */
  allowedTeams: string[];
}

export interface TeamsConfig {
  appId: string | undefined;
  appPassword: string | undefined;
  tenantId: string | undefined;
  appType: 'MultiTenant' | 'SingleTenant' | 'UserAssignedMSI';
  /** Only for local use: no JWT validation of incoming activities. */
  authDisabled: boolean;
  /**
   * Microsoft Entra tenants whose activities are let in; "*" = any; [] = none. Unset (a config
   * built by hand): tenantId when set, else any. The config module always sets it.
   */
  allowedTenants?: string[] | undefined;
}

export interface ChatConfig {
  bot: { host: string; port: number };
  /** Least time between two updates of one rollout's cards. */
  updateIntervalMs: number;
  slack: SlackConfig | undefined;
  teams: TeamsConfig | undefined;
}

/**
 * PATCHOPS_TEAMS_ALLOWED_TENANTS when set; else the app registration's own tenant
 * (MICROSOFT_APP_TENANT_ID); else, with authentication disabled (local testing), any tenant;
 * else none: a multi-tenant bot must say which tenants it serves (the front door reports
 * itself not ready, naming the variable).
 */
function defaultTenants(e: ChatEnv, authDisabled: boolean): string[] {
  if (e.PATCHOPS_TEAMS_ALLOWED_TENANTS) return e.PATCHOPS_TEAMS_ALLOWED_TENANTS;
  if (e.MICROSOFT_APP_TENANT_ID) return [e.MICROSOFT_APP_TENANT_ID];
  return authDisabled ? ['*'] : [];
}

/** Resolves the chat settings and every cross-field problem (e.g. a token without its secret). */
export function chatConfig(e: ChatEnv): { config: ChatConfig; problems: string[] } {
  const problems: string[] = [];
  let slack: SlackConfig | undefined;
  if (e.SLACK_BOT_TOKEN) {
    if (e.PATCHOPS_SLACK_MODE === 'http' && !e.SLACK_SIGNING_SECRET)
      problems.push(
        'SLACK_SIGNING_SECRET: required with SLACK_BOT_TOKEN (Basic Information → App Credentials → Signing Secret); patchops will not accept unsigned requests',
      );
    if (e.PATCHOPS_SLACK_MODE === 'socket' && !e.SLACK_APP_TOKEN)
      problems.push(
        'SLACK_APP_TOKEN: Socket Mode needs an app-level token (xapp-…) with connections:write',
      );
    slack = {
      botToken: e.SLACK_BOT_TOKEN,
      signingSecret: e.SLACK_SIGNING_SECRET,
      appToken: e.SLACK_APP_TOKEN,
      mode: e.PATCHOPS_SLACK_MODE,
      apiUrl: e.PATCHOPS_SLACK_API_URL,
      channels: e.PATCHOPS_SLACK_CHANNELS ?? {},
      allowedChannels: e.PATCHOPS_SLACK_ALLOWED_CHANNELS ?? [],
      allowedTeams: e.PATCHOPS_SLACK_ALLOWED_TEAMS ?? [],
    };
  } else if (e.SLACK_SIGNING_SECRET || e.SLACK_APP_TOKEN) {
    problems.push(
      'SLACK_BOT_TOKEN: set it (xoxb-…) to turn Slack on, or unset the other SLACK_ variables',
    );
  }
  let teams: TeamsConfig | undefined;
  const teamsOn =
    e.PATCHOPS_TEAMS === 'on' || (e.PATCHOPS_TEAMS !== 'off' && Boolean(e.MICROSOFT_APP_ID));
  if (teamsOn) {
    const authDisabled = e.PATCHOPS_TEAMS_AUTH === 'disabled';
    // An app id means a real Azure Bot: its endpoint must never take unauthenticated activities.
    if (authDisabled && e.MICROSOFT_APP_ID)
      problems.push(
        'PATCHOPS_TEAMS_AUTH: "disabled" is for local testing without an Azure Bot and cannot be combined with MICROSOFT_APP_ID; unset PATCHOPS_TEAMS_AUTH to validate tokens, or unset MICROSOFT_APP_ID for a local test',
      );
    if (!authDisabled && !e.MICROSOFT_APP_ID)
      problems.push(
        "MICROSOFT_APP_ID: Teams needs the Azure Bot registration's app id (or PATCHOPS_TEAMS_AUTH=disabled for local testing only)",
      );
    if (!authDisabled && e.MICROSOFT_APP_TYPE !== 'UserAssignedMSI' && !e.MICROSOFT_APP_PASSWORD)
      problems.push('MICROSOFT_APP_PASSWORD: the client secret of the Azure Bot registration');
    if (e.MICROSOFT_APP_TYPE === 'SingleTenant' && !e.MICROSOFT_APP_TENANT_ID)
      problems.push('MICROSOFT_APP_TENANT_ID: required when MICROSOFT_APP_TYPE=SingleTenant');
    teams = {
      appId: e.MICROSOFT_APP_ID,
      appPassword: e.MICROSOFT_APP_PASSWORD,
      tenantId: e.MICROSOFT_APP_TENANT_ID,
      appType: e.MICROSOFT_APP_TYPE,
      authDisabled,
      allowedTenants: defaultTenants(e, authDisabled),
    };
  }
  return {
    config: {
      bot: { host: e.PATCHOPS_BOT_HOST, port: e.PATCHOPS_BOT_PORT },
      updateIntervalMs: e.PATCHOPS_CHAT_UPDATE_INTERVAL ?? 3_000,
      slack,
      teams,
    },
    problems,
  };
}
