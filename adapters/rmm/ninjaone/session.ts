import type { z } from 'zod';
import type { HttpClient, HttpRequest } from '../../http/client.js';
import { HttpFailure } from '../../http/errors.js';
import { RmmError } from '../types.js';
import type { NinjaOneSettings } from './settings.js';
import { tokenSchema } from './wire.js';

/** The scopes patchops asks for: read (monitoring) and act on devices (management). */
export const SCOPE = 'monitoring management';

/** Refresh this long before NinjaOne says the token expires, so no call races the expiry. */
const EXPIRY_MARGIN_MS = 60_000;

/**
 * OAuth 2.0 client credentials against NinjaOne's /ws/oauth/token, and every API call with
 * its bearer token. The token is cached until shortly before `expires_in` and fetched again
 * once when the API answers 401 (revoked or expired early); a second 401 is AUTH_FAILED.
 */
export class NinjaOneSession {
  private token?: { value: string; expiresAt: number };
  private pending?: Promise<string>;

  constructor(
    private readonly http: HttpClient,
    private readonly settings: NinjaOneSettings,
    private readonly clock: () => Date,
  ) {}

  /** Sends one API request with a valid token; fails with HttpFailure or RmmError AUTH_FAILED. */
  async request<S extends z.ZodType>(req: HttpRequest<S>): Promise<z.output<S>> {
    const send = async (token: string) =>
      (
        await this.http.request({
          ...req,
          headers: { ...req.headers, Authorization: `Bearer ${token}` },
        })
      ).data;
    try {
      return await send(await this.accessToken());
    } catch (err) {
      // A 401 is answered before anything is done, so repeating even a POST is safe.
      if (!(err instanceof HttpFailure) || err.kind !== 'auth') throw err;
      this.token = undefined;
      return send(await this.accessToken());
    }
  }

  /** A cached token, or a new one; concurrent callers share one token request. */
  async accessToken(): Promise<string> {
    const now = this.clock().getTime();
    if (this.token && now < this.token.expiresAt) return this.token.value;
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetchToken(): Promise<string> {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.settings.clientId,
      client_secret: this.settings.clientSecret,
      scope: SCOPE,
    });
    let data: z.output<typeof tokenSchema>;
    try {
      ({ data } = await this.http.request({
        method: 'POST',
        url: '/ws/oauth/token',
        data: form.toString(),
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        schema: tokenSchema,
        // Asking for another token changes nothing on NinjaOne's side.
        idempotent: true,
      }));
    } catch (err) {
      if (err instanceof HttpFailure && ['auth', 'bad_request', 'forbidden'].includes(err.kind)) {
        throw new RmmError(
          'AUTH_FAILED',
          `NinjaOne refused the client credentials (${err.message}); check NINJAONE_CLIENT_ID and NINJAONE_CLIENT_SECRET, and that the API client app allows the client-credentials grant with scopes "${SCOPE}"`,
          { cause: err },
        );
      }
      throw err;
    }
    const lifetime = data.expires_in * 1000;
    this.token = {
      value: data.access_token,
      expiresAt: this.clock().getTime() + Math.max(lifetime - EXPIRY_MARGIN_MS, lifetime / 2),
    };
    return data.access_token;
  }
}
