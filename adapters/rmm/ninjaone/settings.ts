import { z } from 'zod';

/**
 * NinjaOne's regional instances. The region is the host the tenant signs in to; the API
 * and the OAuth token endpoint live on the same host. Checked against NinjaOne's OAuth
 * set-up docs as quoted by the homotechsual/NinjaOne PowerShell module (instances eu, oc,
 * us/app, ca, us2, fed) and several public clients that list the same six hosts.
 */
export const REGION_HOSTS = {
  app: 'https://app.ninjarmm.com',
  eu: 'https://eu.ninjarmm.com',
  oc: 'https://oc.ninjarmm.com',
  ca: 'https://ca.ninjarmm.com',
  us2: 'https://us2.ninjarmm.com',
  fed: 'https://fed.ninjarmm.com',
} as const;

export type NinjaOneRegion = keyof typeof REGION_HOSTS;
const REGIONS = Object.keys(REGION_HOSTS) as [NinjaOneRegion, ...NinjaOneRegion[]];

/** What `createNinjaOne` needs; built from the NINJAONE_* variables by `ninjaoneSettingsSchema`. */
export interface NinjaOneSettings {
  /** e.g. https://eu.ninjarmm.com (no trailing slash). */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /**
   * NinjaOne keeps no time zone for locations or devices, so every site gets this one
   * (IANA name). Maintenance windows are computed in it.
   */
  timezone: string;
  /** Per-request timeout. */
  timeoutMs: number;
  /** Rows per page for NinjaOne's report queries (/v2/queries/*). */
  queryPageSize: number;
  /** First in-process retry delay (tests shorten it). */
  retryBaseMs?: number;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

function baseUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be a URL such as https://eu.ninjarmm.com';
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && LOOPBACK.has(url.hostname)) return undefined;
  return 'must use https:// (plain http is only accepted for a loopback test server)';
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const positiveInt = (name: string, fallback: number) =>
  z
    .string()
    .regex(/^\d+$/, `${name} must be a whole number`)
    .transform(Number)
    .pipe(z.number().int().min(1))
    .optional()
    .transform((v) => v ?? fallback);

/** Parses `{ NINJAONE_*: value }` (unset variables absent); issues name the variable. */
export const ninjaoneSettingsSchema = z
  .object({
    NINJAONE_REGION: z
      .enum(REGIONS, { message: `must be one of ${REGIONS.join(', ')}` })
      .optional(),
    NINJAONE_BASE_URL: z
      .string()
      .superRefine((v, ctx) => {
        const problem = baseUrlProblem(v);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
    NINJAONE_CLIENT_ID: z
      .string({ message: "is required (the API client app's Client ID)" })
      .min(1),
    NINJAONE_CLIENT_SECRET: z
      .string({ message: "is required (the API client app's Client Secret)" })
      .min(1),
    NINJAONE_TIMEZONE: z
      .string()
      .refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin')
      .optional(),
    NINJAONE_TIMEOUT_MS: positiveInt('NINJAONE_TIMEOUT_MS', 30_000),
    NINJAONE_PAGE_SIZE: positiveInt('NINJAONE_PAGE_SIZE', 500),
  })
  .superRefine((e, ctx) => {
    if (!e.NINJAONE_REGION && !e.NINJAONE_BASE_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['NINJAONE_REGION'],
        message: `set NINJAONE_REGION (${REGIONS.join(', ')}) or NINJAONE_BASE_URL`,
      });
    }
  })
  .transform((e): NinjaOneSettings => ({
    baseUrl: (e.NINJAONE_BASE_URL ?? REGION_HOSTS[e.NINJAONE_REGION ?? 'app']).replace(/\/+$/, ''),
    clientId: e.NINJAONE_CLIENT_ID,
    clientSecret: e.NINJAONE_CLIENT_SECRET,
    timezone: e.NINJAONE_TIMEZONE ?? 'UTC',
    timeoutMs: e.NINJAONE_TIMEOUT_MS,
    queryPageSize: e.NINJAONE_PAGE_SIZE,
  }));
