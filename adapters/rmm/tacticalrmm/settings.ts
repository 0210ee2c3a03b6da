import { z } from 'zod';

/** What the Tactical RMM adapter needs to reach one Tactical RMM server. */
export interface TacticalSettings {
  /** The API's base URL, e.g. "https://api.example.com" (no trailing slash). */
  apiUrl: string;
  /** An API key from Settings > Global Settings > API Keys; sent as X-API-KEY. */
  apiKey: string;
  /**
   * Tactical's default time zone (Global Settings > General). Sites carry no zone of their
   * own and `date_installed` is rendered in it; read from /core/settings/ when absent.
   */
  timeZone?: string;
  /** Per request; Tactical's agent calls answer within ~10 s (NATS timeout). */
  timeoutMs?: number;
  /** In-process retries of repeatable requests. */
  retries?: number;
  retryBaseMs?: number;
  /**
   * How long after `triggerScan` a scan counts as done: Tactical records no scan time, so
   * completion cannot be observed (a Windows Update search takes minutes).
   */
  scanWaitMs?: number;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Parses `{ TACTICAL_API_URL, TACTICAL_API_KEY, TACTICAL_TIME_ZONE }`; issues name the variable. */
export const tacticalSettingsSchema = z
  .object({
    TACTICAL_API_URL: z
      .string({ error: 'required: the API URL of your Tactical RMM, e.g. https://api.example.com' })
      .superRefine((value, ctx) => {
        let url: URL;
        try {
          url = new URL(value);
        } catch {
          ctx.addIssue({ code: 'custom', message: 'must be a URL, e.g. https://api.example.com' });
          return;
        }
        const ok =
          url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
        if (!ok) {
          ctx.addIssue({
            code: 'custom',
            message: 'must use https:// (plain http is accepted only for localhost/127.0.0.1)',
          });
        }
        if (url.search || url.hash) {
          ctx.addIssue({ code: 'custom', message: 'must not carry a query string or fragment' });
        }
      }),
    TACTICAL_API_KEY: z
      .string({
        error: 'required: create one in Tactical RMM under Settings > Global Settings > API Keys',
      })
      .min(10, 'looks too short for a Tactical RMM API key'),
    TACTICAL_TIME_ZONE: z
      .string()
      .refine(isValidTimeZone, 'must be an IANA time zone such as Europe/Berlin')
      .optional(),
  })
  .transform((e): TacticalSettings => ({
    apiUrl: e.TACTICAL_API_URL.replace(/\/+$/, ''),
    apiKey: e.TACTICAL_API_KEY,
    ...(e.TACTICAL_TIME_ZONE ? { timeZone: e.TACTICAL_TIME_ZONE } : {}),
  }));
