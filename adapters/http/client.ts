import axios, { AxiosError, type AxiosInstance, type AxiosRequestConfig, type Method } from 'axios';
import axiosRetry, { exponentialDelay, isNetworkError, retryAfter } from 'axios-retry';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { HttpFailure, type HttpFailureKind } from './errors.js';
import { createRedactor, redactValue, type Redactor } from './redact.js';
import { parseWire } from './wire.js';

export const USER_AGENT = 'patchops/0.1 (+https://github.com/patchops/patchops)';

export interface HttpClientOptions {
  /** The vendor as people name it, used in every message: "ServiceNow", "Jira". */
  vendor: string;
  baseURL: string;
  log: Logger;
  /** Per request; the default suits a SaaS API answering a single record. */
  timeoutMs?: number;
  /** In-process retries of a repeatable request (429, 5xx, no answer). */
  retries?: number;
  /** First backoff step; doubles each retry (Retry-After wins when longer). */
  retryBaseMs?: number;
  /**
   * The longest Retry-After worth waiting for in-process. A longer one fails with
   * `rate_limited` at once so the caller (a Temporal activity) retries later.
   */
  maxRetryAfterMs?: number;
  headers?: Record<string, string>;
  /** Values never to appear in logs or errors (passwords, tokens, keys). */
  secrets?: (string | undefined)[];
  /** Recognises a rate limit that is not a 429 (GitHub's secondary limit is a 403). */
  isRateLimit?: (status: number, body: unknown, headers: Record<string, unknown>) => boolean;
}

export interface HttpRequest<S extends z.ZodType> {
  method: Method;
  /** Path below baseURL, e.g. "/api/now/table/change_request". */
  url: string;
  params?: Record<string, string | number | boolean | undefined>;
  data?: unknown;
  headers?: Record<string, string>;
  /** The documented shape of a success answer. */
  schema: S;
  /**
   * Whether repeating the request is harmless. GET, HEAD, PUT and DELETE are; POST and
   * PATCH are not unless the caller says so (a PATCH that sets a field to a value is).
   */
  idempotent?: boolean;
  /** The endpoint as messages name it, when the URL holds ids: "PATCH /change_request/{id}". */
  endpoint?: string;
}

export interface HttpResponse<T> {
  data: T;
  status: number;
  headers: Record<string, string>;
}

export interface HttpClient {
  readonly vendor: string;
  readonly redact: Redactor;
  /** Sends one request with timeouts, retries and zod parsing; fails with HttpFailure. */
  request<S extends z.ZodType>(req: HttpRequest<S>): Promise<HttpResponse<z.output<S>>>;
  /** The underlying axios instance, for adapters that need to add an interceptor. */
  readonly axios: AxiosInstance;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);
type RetryConfig = AxiosRequestConfig & { patchopsIdempotent?: boolean };

/**
 * One axios instance per adapter: timeouts, a User-Agent, retries with backoff through
 * axios-retry (honouring Retry-After), redaction and zod parsing of every answer.
 *
 * Retries: a repeatable request is retried on 429, 5xx and network errors. A request
 * that is not (POST/PATCH unless marked idempotent) is retried only on 429, which the
 * vendor answers before doing anything; on a 5xx or no answer it fails with
 * `outcome_unknown` and the adapter looks the object up before trying again.
 */
export function createHttpClient(o: HttpClientOptions): HttpClient {
  const redact = createRedactor(o.secrets ?? []);
  const maxRetryAfterMs = o.maxRetryAfterMs ?? 60_000;
  const instance = axios.create({
    baseURL: o.baseURL.replace(/\/+$/, ''),
    timeout: o.timeoutMs ?? 30_000,
    headers: { 'User-Agent': USER_AGENT, Accept: 'application/json', ...o.headers },
    // Every status reaches the error mapping below; axios' own messages carry config.
    validateStatus: (s) => s >= 200 && s < 300,
    maxRedirects: 0,
  });
  const rateLimited = (err: AxiosError): boolean => {
    const r = err.response;
    if (!r) return false;
    if (r.status === 429) return true;
    return !!o.isRateLimit?.(r.status, r.data, r.headers);
  };
  axiosRetry(instance, {
    retries: o.retries ?? 3,
    retryDelay: (n, err) => exponentialDelay(n, err, o.retryBaseMs ?? 250),
    shouldResetTimeout: true,
    retryCondition: (err) => {
      if (rateLimited(err)) return retryAfter(err) <= maxRetryAfterMs;
      const cfg = err.config as RetryConfig | undefined;
      const method = (cfg?.method ?? 'get').toUpperCase();
      const repeatable = cfg?.patchopsIdempotent ?? SAFE_METHODS.has(method);
      if (!repeatable) return false;
      return isNetworkError(err) || isTimeout(err) || (err.response?.status ?? 0) >= 500;
    },
    onRetry: (n, err, cfg) =>
      o.log.debug(
        { vendor: o.vendor, attempt: n, status: err.response?.status, url: cfg.url },
        redact(`retrying ${o.vendor} request: ${err.message}`),
      ),
  });

  return {
    vendor: o.vendor,
    redact,
    axios: instance,
    async request(req) {
      const method = req.method.toUpperCase();
      const endpoint = req.endpoint ?? `${method} ${req.url.split('?')[0]}`;
      const config: RetryConfig = {
        method: req.method,
        url: req.url,
        params: req.params,
        data: req.data,
        headers: req.headers,
        patchopsIdempotent: req.idempotent ?? SAFE_METHODS.has(method),
      };
      let res;
      try {
        res = await instance.request(config);
      } catch (err) {
        throw toFailure(err, o.vendor, endpoint, config.patchopsIdempotent!, redact, rateLimited);
      }
      const data = parseWire(o.vendor, endpoint, req.schema, res.data === '' ? null : res.data);
      return {
        data,
        status: res.status,
        headers: Object.fromEntries(
          Object.entries(res.headers).map(([k, v]) => [k.toLowerCase(), String(v)]),
        ),
      };
    },
  };
}

const isTimeout = (err: AxiosError) =>
  err.code === 'ECONNABORTED' || err.code === 'ETIMEDOUT' || err.code === AxiosError.ETIMEDOUT;

/** Maps an axios error to an HttpFailure that holds nothing secret (no config, no headers). */
function toFailure(
  err: unknown,
  vendor: string,
  endpoint: string,
  repeatable: boolean,
  redact: Redactor,
  rateLimited: (e: AxiosError) => boolean,
): HttpFailure {
  if (!(err instanceof AxiosError)) {
    return new HttpFailure(
      repeatable ? 'unavailable' : 'outcome_unknown',
      vendor,
      endpoint,
      redact(String(err)),
    );
  }
  const status = err.response?.status;
  const body = redactValue(err.response?.data, redact);
  if (status === undefined) {
    return new HttpFailure(
      repeatable ? 'unavailable' : 'outcome_unknown',
      vendor,
      endpoint,
      redact(`no answer (${err.code ?? err.message})`),
    );
  }
  let kind: HttpFailureKind;
  if (rateLimited(err)) kind = 'rate_limited';
  else if (status === 401) kind = 'auth';
  else if (status === 403) kind = 'forbidden';
  else if (status === 404) kind = 'not_found';
  else if (status === 409) kind = 'conflict';
  else if (status >= 500) kind = repeatable ? 'unavailable' : 'outcome_unknown';
  else kind = 'bad_request';
  const detail = summariseBody(body);
  return new HttpFailure(kind, vendor, endpoint, `HTTP ${status}${detail ? `: ${detail}` : ''}`, {
    status,
    body,
    ...(kind === 'rate_limited' ? { retryAfterMs: retryAfter(err) } : {}),
  });
}

/** The vendor's own words from an error body, short: ServiceNow, Jira, GitHub and plain strings. */
function summariseBody(body: unknown): string {
  if (typeof body === 'string') return body.slice(0, 300);
  if (!body || typeof body !== 'object') return '';
  const b = body as Record<string, unknown>;
  const parts: string[] = [];
  const error = b.error as Record<string, unknown> | string | undefined;
  if (typeof error === 'string') parts.push(error);
  else if (error && typeof error === 'object') {
    if (typeof error.message === 'string') parts.push(error.message);
    if (typeof error.detail === 'string') parts.push(error.detail);
  }
  if (typeof b.message === 'string') parts.push(b.message);
  if (Array.isArray(b.errorMessages)) parts.push(...b.errorMessages.map(String));
  if (b.errors && typeof b.errors === 'object' && !Array.isArray(b.errors))
    parts.push(...Object.entries(b.errors).map(([k, v]) => `${k}: ${String(v)}`));
  if (typeof b.detail === 'string') parts.push(b.detail);
  return parts.join('; ').slice(0, 300);
}
