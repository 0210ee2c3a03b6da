import { z } from 'zod';

/** How patchops signs in to the instance: exactly one of the two. */
export type ServiceNowAuth =
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'oauth'; clientId: string; clientSecret: string };

export interface ServiceNowSettings {
  /** e.g. "https://acme.service-now.com", without a trailing slash. */
  instanceUrl: string;
  auth: ServiceNowAuth;
  /** Default assignment group (name or sys_id); a client's TicketRouting overrides it. */
  assignmentGroup?: string;
  /** HTTP tuning; not read from the environment (tests shorten timeouts). */
  http?: { timeoutMs?: number; retries?: number; retryBaseMs?: number; maxRetryAfterMs?: number };
}

export const SERVICENOW_ENV = [
  {
    name: 'SERVICENOW_INSTANCE_URL',
    description: 'The instance, e.g. https://acme.service-now.com',
    required: true,
  },
  {
    name: 'SERVICENOW_USERNAME',
    description: 'Basic auth: an integration user with the itil role',
  },
  { name: 'SERVICENOW_PASSWORD', description: 'Basic auth: its password', secret: true },
  {
    name: 'SERVICENOW_CLIENT_ID',
    description: 'OAuth client credentials: the application registry client id',
  },
  {
    name: 'SERVICENOW_CLIENT_SECRET',
    description: 'OAuth client credentials: the client secret',
    secret: true,
  },
  {
    name: 'SERVICENOW_ASSIGNMENT_GROUP',
    description:
      "Default assignment group of changes and incidents (name or sys_id); a policy's tickets.assignmentGroup overrides it",
  },
] as const;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** The instance URL: https, or http on a loopback host (the test fake); no path, query or hash. */
export function parseInstanceUrl(
  raw: string,
): { ok: true; url: string } | { ok: false; problem: string } {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return { ok: false, problem: 'not a URL; expected e.g. https://acme.service-now.com' };
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && LOOPBACK.has(u.hostname))) {
    return {
      ok: false,
      problem: `must use https (http is accepted only for a loopback test instance), got ${u.protocol}//${u.host}`,
    };
  }
  if (u.username || u.password) {
    return {
      ok: false,
      problem: 'must not hold credentials; use SERVICENOW_USERNAME/SERVICENOW_PASSWORD',
    };
  }
  if (u.search || u.hash || u.pathname.replace(/\/+$/, '') !== '') {
    return { ok: false, problem: `must be the instance root only, e.g. ${u.protocol}//${u.host}` };
  }
  return { ok: true, url: `${u.protocol}//${u.host}` };
}

const optional = z.string().trim().min(1).optional();

/**
 * SERVICENOW_* variables → settings. Every problem names its variable: a missing half of a
 * credential pair, both auth methods at once, or neither.
 */
export const serviceNowSettingsSchema = z
  .object({
    SERVICENOW_INSTANCE_URL: z.string({ error: 'is required, e.g. https://acme.service-now.com' }),
    SERVICENOW_USERNAME: optional,
    SERVICENOW_PASSWORD: optional,
    SERVICENOW_CLIENT_ID: optional,
    SERVICENOW_CLIENT_SECRET: optional,
    SERVICENOW_ASSIGNMENT_GROUP: optional,
  })
  .transform((e, ctx): ServiceNowSettings => {
    const url = parseInstanceUrl(e.SERVICENOW_INSTANCE_URL);
    if (!url.ok)
      ctx.addIssue({ code: 'custom', path: ['SERVICENOW_INSTANCE_URL'], message: url.problem });
    const basic = !!(e.SERVICENOW_USERNAME || e.SERVICENOW_PASSWORD);
    const oauth = !!(e.SERVICENOW_CLIENT_ID || e.SERVICENOW_CLIENT_SECRET);
    const pairs: Array<[string, string | undefined, string]> = basic
      ? [
          ['SERVICENOW_USERNAME', e.SERVICENOW_USERNAME, 'SERVICENOW_PASSWORD'],
          ['SERVICENOW_PASSWORD', e.SERVICENOW_PASSWORD, 'SERVICENOW_USERNAME'],
        ]
      : [
          ['SERVICENOW_CLIENT_ID', e.SERVICENOW_CLIENT_ID, 'SERVICENOW_CLIENT_SECRET'],
          ['SERVICENOW_CLIENT_SECRET', e.SERVICENOW_CLIENT_SECRET, 'SERVICENOW_CLIENT_ID'],
        ];
    if (basic && oauth) {
      ctx.addIssue({
        code: 'custom',
        path: ['SERVICENOW_CLIENT_ID'],
        message:
          'set one auth method: SERVICENOW_USERNAME + SERVICENOW_PASSWORD (basic) or SERVICENOW_CLIENT_ID + SERVICENOW_CLIENT_SECRET (OAuth), not both',
      });
    } else if (!basic && !oauth) {
      ctx.addIssue({
        code: 'custom',
        path: ['SERVICENOW_USERNAME'],
        message:
          'no credentials: set SERVICENOW_USERNAME + SERVICENOW_PASSWORD (basic) or SERVICENOW_CLIENT_ID + SERVICENOW_CLIENT_SECRET (OAuth client credentials)',
      });
    } else {
      for (const [name, value, partner] of pairs) {
        if (!value)
          ctx.addIssue({ code: 'custom', path: [name], message: `is required with ${partner}` });
      }
    }
    if (!url.ok) return z.NEVER;
    const auth: ServiceNowAuth = basic
      ? {
          kind: 'basic',
          username: e.SERVICENOW_USERNAME ?? '',
          password: e.SERVICENOW_PASSWORD ?? '',
        }
      : {
          kind: 'oauth',
          clientId: e.SERVICENOW_CLIENT_ID ?? '',
          clientSecret: e.SERVICENOW_CLIENT_SECRET ?? '',
        };
    return {
      instanceUrl: url.url,
      auth,
      ...(e.SERVICENOW_ASSIGNMENT_GROUP ? { assignmentGroup: e.SERVICENOW_ASSIGNMENT_GROUP } : {}),
    };
  });

/** The variables to fix when the instance refuses the credentials. */
export function credentialVariables(auth: ServiceNowAuth): string {
  return auth.kind === 'basic'
    ? 'SERVICENOW_USERNAME/SERVICENOW_PASSWORD'
    : 'SERVICENOW_CLIENT_ID/SERVICENOW_CLIENT_SECRET';
}
