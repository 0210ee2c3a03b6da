/**
 * What went wrong talking to a vendor's HTTP API, in words an adapter can branch on.
 * Adapters turn these into their kind's own error (ItsmError, RmmError) with `code`.
 */
export type HttpFailureKind =
  /** 401: the credentials are wrong or expired. */
  | 'auth'
  /** 403: the credentials lack a role, scope or ACL. */
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  /** Any other 4xx: the request was refused as it stands; repeating it changes nothing. */
  | 'bad_request'
  /** 429 (or a 403 that is a rate limit): retry after `retryAfterMs`. */
  | 'rate_limited'
  /** 5xx or no answer on a request that is safe to repeat. */
  | 'unavailable'
  /**
   * 5xx, a timeout or a broken connection on a request that is NOT safe to repeat (a
   * create, a comment): the vendor may or may not have done it. Look it up by its
   * correlation id before trying again; never repeat it blindly.
   */
  | 'outcome_unknown'
  /** The answer did not have the documented shape. */
  | 'wire_format';

const RETRYABLE: ReadonlySet<HttpFailureKind> = new Set([
  'rate_limited',
  'unavailable',
  'outcome_unknown',
]);

export class HttpFailure extends Error {
  override readonly name = 'HttpFailure';
  readonly retryable: boolean;

  constructor(
    readonly kind: HttpFailureKind,
    /** e.g. "ServiceNow", as people name the vendor. */
    readonly vendor: string,
    /** e.g. "POST /api/now/table/change_request" (no query string, no host). */
    readonly endpoint: string,
    message: string,
    readonly details: {
      status?: number;
      /** The vendor's error body, already redacted. */
      body?: unknown;
      retryAfterMs?: number;
      cause?: unknown;
    } = {},
  ) {
    super(`${vendor} ${endpoint}: ${message}`, { cause: details.cause });
    this.retryable = RETRYABLE.has(kind);
  }

  get status(): number | undefined {
    return this.details.status;
  }
}
