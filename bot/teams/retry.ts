import { setTimeout as sleep } from 'node:timers/promises';
// botbuilder's own pinned dependency: the error its key fetches throw.
import { AuthenticationError } from 'botframework-connector';

/** The most we wait for one Retry-After before giving the call back to its caller. */
const MAX_WAIT_MS = 60_000;

interface HttpError {
  statusCode?: number;
  response?: { headers?: { get?(name: string): string | undefined } };
}

export const statusOf = (err: unknown): number | undefined => (err as HttpError)?.statusCode;

/** Retry-After in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(err: unknown, now = Date.now()): number | undefined {
  const raw = (err as HttpError)?.response?.headers?.get?.('retry-after');
  if (!raw) return undefined;
  const secs = Number(raw);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(raw);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

const retryable = (status: number | undefined) =>
  status === 429 || (status !== undefined && status >= 500 && status < 600);

/**
 * Runs one Connector call, waiting out 429 and 5xx answers (Retry-After when given, else
 * exponential back-off) for this call only: other conversations' calls never queue behind it.
 */
export async function withConnectorRetry<T>(
  call: () => Promise<T>,
  opts: { maxRetries?: number; onRetry?: (err: unknown, waitMs: number) => void } = {},
): Promise<T> {
  const maxRetries = opts.maxRetries ?? 4;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!retryable(statusOf(err)) || attempt >= maxRetries) throw err;
      const wait = Math.min(MAX_WAIT_MS, retryAfterMs(err) ?? 500 * 2 ** attempt);
      opts.onRetry?.(err, wait);
      await sleep(wait);
    }
  }
}

/** Microsoft's signing keys could not be fetched: the caller is not at fault (503, retry). */
export class TeamsKeysUnavailableError extends Error {
  readonly code = 'TEAMS_KEYS_UNAVAILABLE';
  constructor(options: { cause: unknown }) {
    const why = (options.cause as Error | undefined)?.message ?? String(options.cause);
    super(`Bot Framework signing keys unavailable: ${why}`, options);
    this.name = 'TeamsKeysUnavailableError';
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * A failure to reach Microsoft's OpenID metadata or keys: node-fetch's FetchError (network,
 * unreadable JSON), a socket error, or botbuilder's "Failed to load openID config/Keys: <status>"
 * (an AuthenticationError carrying a 500).
 */
export function keyFetchFailure(err: unknown): boolean {
  const e = err as { name?: string; code?: string; statusCode?: number; cause?: unknown };
  if (err instanceof AuthenticationError) return (e.statusCode ?? 401) >= 500;
  if (e?.name === 'FetchError' || e?.name === 'AbortError') return true;
  if (e?.code && NETWORK_CODES.has(e.code)) return true;
  return e?.cause !== undefined && e.cause !== err && keyFetchFailure(e.cause);
}

/** GETs the OpenID metadata and its JWKS, as botbuilder will: the readiness check of Teams. */
export async function fetchKeys(metadataUrl: string, stop: AbortSignal): Promise<void> {
  const signal = AbortSignal.any([stop, AbortSignal.timeout(5_000)]);
  const meta = await fetch(metadataUrl, { signal });
  if (!meta.ok) throw new Error(`OpenID metadata answered HTTP ${meta.status}`);
  const jwksUri = ((await meta.json()) as { jwks_uri?: unknown }).jwks_uri;
  if (typeof jwksUri !== 'string') throw new Error('OpenID metadata has no jwks_uri');
  const keys = await fetch(jwksUri, { signal });
  if (!keys.ok) throw new Error(`the JWKS answered HTTP ${keys.status}`);
  await keys.arrayBuffer();
}
