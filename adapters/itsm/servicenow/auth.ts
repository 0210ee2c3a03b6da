import type { HttpClient } from '../../http/client.js';
import { ItsmError, toItsmError } from '../types.js';
import { HttpFailure } from '../../http/errors.js';
import type { ServiceNowAuth } from './settings.js';
import { tokenAnswer } from './wire.js';

/** Renew a token this long before the instance says it expires (clock skew, slow calls). */
const EARLY_MS = 60_000;

/**
 * Signs Table API requests. Basic auth is a fixed header set when the client is built;
 * OAuth client credentials fetch a token from /oauth_token.do, keep it until shortly before
 * it expires and fetch a new one when the instance answers 401 (a revoked or rotated token).
 */
export interface Signer {
  /**
   * Headers for one Table API request. Asked before each request rather than from an axios
   * interceptor, so a refused token surfaces as AUTH_FAILED instead of an unknown outcome.
   */
  headers(): Promise<Record<string, string>>;
  /** Forgets the cached token; true when there was one to forget (worth one more try). */
  invalidate(): boolean;
}

export function createSigner(
  auth: ServiceNowAuth,
  tokenClient: HttpClient | undefined,
  clock: () => Date,
): Signer {
  if (auth.kind === 'basic') {
    const basic = Buffer.from(`${auth.username}:${auth.password}`).toString('base64');
    const headers = { Authorization: `Basic ${basic}` };
    return { headers: () => Promise.resolve(headers), invalidate: () => false };
  }
  if (!tokenClient) throw new Error('OAuth needs a client for /oauth_token.do');
  let cached: { token: string; until: number } | undefined;
  let pending: Promise<string> | undefined;

  const fetchToken = async (): Promise<string> => {
    try {
      const res = await tokenClient.request({
        method: 'POST',
        url: '/oauth_token.do',
        endpoint: 'POST /oauth_token.do',
        data: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: auth.clientId,
          client_secret: auth.clientSecret,
        }).toString(),
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        schema: tokenAnswer,
        // Asking for a token twice only mints two tokens; nothing is written.
        idempotent: true,
      });
      cached = {
        token: res.data.access_token,
        until: clock().getTime() + res.data.expires_in * 1000 - EARLY_MS,
      };
      return cached.token;
    } catch (err) {
      // oauth_token.do answers 401 {"error":"server_error","error_description":"access_denied"}
      // for a wrong client id or secret, and also when the grant type is switched off.
      if (err instanceof HttpFailure && (err.status === 401 || err.status === 400)) {
        throw new ItsmError(
          'AUTH_FAILED',
          `${err.message}. ServiceNow refused the OAuth client: check SERVICENOW_CLIENT_ID/SERVICENOW_CLIENT_SECRET and that the instance allows the client_credentials grant (glide.oauth.inbound.client.credential.grant_type.enabled)`,
          { cause: err },
        );
      }
      throw toItsmError(err);
    }
  };

  const token = (): Promise<string> => {
    if (cached && cached.until > clock().getTime()) return Promise.resolve(cached.token);
    pending ??= fetchToken().finally(() => {
      pending = undefined;
    });
    return pending;
  };

  return {
    headers: async () => ({ Authorization: `Bearer ${await token()}` }),
    invalidate() {
      const had = cached !== undefined;
      cached = undefined;
      return had;
    },
  };
}
