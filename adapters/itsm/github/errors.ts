/**
 * Turns octokit's failures into ItsmErrors. octokit's RequestError holds the request with
 * its Authorization header, and its message may quote the server; so the message is built
 * here from status, endpoint and GitHub's own `message`, redacted, and the RequestError
 * itself is never kept as a cause (a logger serialising causes would print the token).
 */
import { RequestError } from 'octokit';
import { HttpFailure, type HttpFailureKind } from '../../http/errors.js';
import { redactValue, type Redactor } from '../../http/redact.js';
import { ITSM_CODE_FOR_HTTP, ItsmError, toItsmError } from '../types.js';

export const VENDOR = 'GitHub';

/** How a call may be repeated: a read, a create (never blindly) or a set (idempotent). */
export type CallMode = 'read' | 'create' | 'set';

const CODE = ITSM_CODE_FOR_HTTP;

/** GitHub's documented rate-limit answers: 403/429 naming a secondary limit, or quota 0. */
export function isRateLimit(
  status: number,
  message: string,
  headers: Record<string, unknown>,
): boolean {
  if (status !== 403 && status !== 429) return false;
  return (
    status === 429 ||
    /rate limit/i.test(message) ||
    String(headers['x-ratelimit-remaining']) === '0' ||
    headers['retry-after'] !== undefined
  );
}

/** Seconds until GitHub accepts requests again, from retry-after or x-ratelimit-reset. */
function retryAfterMs(headers: Record<string, unknown>, now: number): number | undefined {
  const after = Number(headers['retry-after']);
  if (Number.isFinite(after) && after >= 0) return after * 1000;
  const reset = Number(headers['x-ratelimit-reset']);
  if (String(headers['x-ratelimit-remaining']) === '0' && Number.isFinite(reset))
    return Math.max(0, reset * 1000 - now);
  return undefined;
}

function kindOf(status: number, mode: CallMode, rateLimited: boolean): HttpFailureKind {
  if (rateLimited) return 'rate_limited';
  if (status === 401) return 'auth';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 409) return 'conflict';
  if (status >= 500) return mode === 'create' ? 'outcome_unknown' : 'unavailable';
  return 'bad_request';
}

/** The failed request's endpoint when it was not ours: the App installation token exchange. */
function actualEndpoint(err: RequestError, endpoint: string): string {
  const url = err.request?.url ?? '';
  return /\/app\/installations\/[^/]+\/access_tokens/.test(url)
    ? 'POST /app/installations/{installation_id}/access_tokens'
    : endpoint;
}

/** Any failure of a call to GitHub → ItsmError (HttpFailure underneath, holding nothing secret). */
export function toGitHubError(
  err: unknown,
  endpoint: string,
  mode: CallMode,
  redact: Redactor,
): unknown {
  if (err instanceof ItsmError) return err;
  if (err instanceof HttpFailure) return toItsmError(err);
  const status = err instanceof RequestError ? err.status : undefined;
  const response = err instanceof RequestError ? err.response : undefined;
  if (!response) {
    // No answer: a timeout, a refused or reset connection. octokit reports these as status
    // 500 without a response; the request may or may not have reached GitHub.
    const why = err instanceof Error ? err.message : String(err);
    const kind: HttpFailureKind = mode === 'create' ? 'outcome_unknown' : 'unavailable';
    const at = err instanceof RequestError ? actualEndpoint(err, endpoint) : endpoint;
    const failure = new HttpFailure(kind, VENDOR, at, redact(`no answer (${why})`), {
      ...(status !== undefined ? { status } : {}),
    });
    return new ItsmError(CODE[kind], failure.message, { cause: failure });
  }
  const e = err as RequestError;
  const headers = (response.headers ?? {}) as Record<string, unknown>;
  const data = response.data as { message?: unknown; errors?: unknown } | string | undefined;
  const message =
    typeof data === 'string'
      ? data.slice(0, 300)
      : typeof data?.message === 'string'
        ? data.message
        : '';
  const details =
    typeof data === 'object' && Array.isArray(data?.errors)
      ? data.errors
          .map((x: unknown) =>
            typeof x === 'object' && x
              ? Object.values(x as Record<string, unknown>).join(' ')
              : String(x),
          )
          .join('; ')
      : '';
  const rateLimited = isRateLimit(e.status, message, headers);
  const kind = kindOf(e.status, mode, rateLimited);
  const wait = rateLimited ? retryAfterMs(headers, Date.now()) : undefined;
  const text = [
    `HTTP ${e.status}`,
    message && `: ${message}`,
    details && ` (${details})`,
    wait !== undefined ? `; retry after ${Math.ceil(wait / 1000)} s` : '',
  ].join('');
  const failure = new HttpFailure(
    kind,
    VENDOR,
    actualEndpoint(e, endpoint),
    redact(text.slice(0, 500)),
    {
      status: e.status,
      body: redactValue(data, redact),
      ...(wait !== undefined ? { retryAfterMs: wait } : {}),
    },
  );
  return new ItsmError(CODE[kind], failure.message, { cause: failure });
}
