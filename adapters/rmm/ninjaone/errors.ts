import { HttpFailure } from '../../http/errors.js';
import { RmmError, type RmmErrorCode } from '../types.js';

/** What a 404 means where it happened: an unknown device, organisation, … */
export type NotFoundCode = Extract<RmmErrorCode, 'DEVICE_NOT_FOUND' | 'CLIENT_NOT_FOUND'>;

/**
 * Turns a failed NinjaOne call into the RMM error activities branch on. The message keeps
 * the HTTP client's words (vendor, endpoint, status, NinjaOne's `errorMessage`), which are
 * already redacted, and adds what to do about it.
 */
export function toRmmError(err: unknown, notFound: NotFoundCode, what: string): RmmError {
  if (err instanceof RmmError) return err;
  if (!(err instanceof HttpFailure)) {
    return new RmmError('UNAVAILABLE', `NinjaOne: ${what} failed: ${String(err)}`, { cause: err });
  }
  const code = codeFor(err, notFound);
  const hint: Record<string, string> = {
    AUTH_FAILED:
      err.kind === 'forbidden'
        ? ' (the API client app needs the "monitoring" and "management" scopes)'
        : ' (check NINJAONE_CLIENT_ID and NINJAONE_CLIENT_SECRET)',
    RATE_LIMITED: ' (NinjaOne rate limit; retry later)',
  };
  if (err.kind === 'outcome_unknown') {
    hint.UNAVAILABLE = '; the request may have been carried out, retry with hints.recheck';
  }
  const said = ninjaSaid(err.details.body);
  // The HTTP client's message already names vendor and endpoint (`what` is for other errors).
  return new RmmError(code, `${err.message}${said}${hint[code] ?? ''}`, { cause: err });
}

/** NinjaOne's own words from an error body ({ resultCode, errorMessage } or OAuth's { error }). */
function ninjaSaid(body: unknown): string {
  if (!body || typeof body !== 'object') return '';
  const b = body as Record<string, unknown>;
  const words = [b.resultCode, b.errorMessage, b.error, b.error_description].filter(
    (v): v is string => typeof v === 'string' && v.length > 0,
  );
  return words.length ? ` (NinjaOne said: ${words.join(': ').slice(0, 200)})` : '';
}

function codeFor(err: HttpFailure, notFound: NotFoundCode): RmmErrorCode {
  switch (err.kind) {
    case 'auth':
    case 'forbidden':
      return 'AUTH_FAILED';
    case 'not_found':
      return notFound;
    case 'rate_limited':
      return 'RATE_LIMITED';
    case 'bad_request':
    case 'conflict':
      return 'INVALID_ARGUMENT';
    case 'unavailable':
    case 'outcome_unknown':
    case 'wire_format':
      return 'UNAVAILABLE';
  }
}
