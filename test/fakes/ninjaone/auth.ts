import { randomUUID } from 'node:crypto';
import { json, type FakeRequest, type FakeResponse } from '../http/server.js';

/**
 * The fake NinjaOne's OAuth 2.0: POST /ws/oauth/token with the client-credentials grant
 * (RFC 6749 §4.4; a wrong client is 401 invalid_client, §5.2) and bearer checks on the API
 * (RFC 6750 §3.1: invalid_token 401, insufficient_scope 403). Scopes are NinjaOne's:
 * monitoring (read), management (act on devices), control (remote control).
 */
export class FakeOAuth {
  private readonly tokens = new Map<string, { expiresAt: number; scopes: string[] }>();
  issued = 0;

  constructor(
    readonly clientId: string,
    readonly clientSecret: string,
    private readonly ttlSeconds: number,
  ) {}

  readonly token = (req: FakeRequest): FakeResponse => {
    const f = (req.body ?? {}) as Record<string, string>;
    if (f.grant_type !== 'client_credentials')
      return json(400, { error: 'unsupported_grant_type' });
    if (f.client_id !== this.clientId || f.client_secret !== this.clientSecret) {
      return json(401, { error: 'invalid_client', error_description: 'Bad client credentials' });
    }
    const scopes = (f.scope ?? '')
      .split(' ')
      .filter((s) => ['monitoring', 'management', 'control'].includes(s));
    const access = `fake-at-${randomUUID()}`;
    this.tokens.set(access, { expiresAt: Date.now() + this.ttlSeconds * 1000, scopes });
    this.issued++;
    return json(200, {
      access_token: access,
      token_type: 'Bearer',
      expires_in: this.ttlSeconds,
      scope: scopes.join(' '),
    });
  };

  /** Wraps an API handler with the bearer-token check and the scope it needs. */
  guard(
    scope: 'monitoring' | 'management',
    h: (req: FakeRequest) => FakeResponse,
  ): (req: FakeRequest) => FakeResponse {
    return (req) => {
      const value = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const t = value ? this.tokens.get(value) : undefined;
      if (!t || t.expiresAt < Date.now()) {
        return json(
          401,
          { error: 'invalid_token', error_description: 'Access token expired or invalid' },
          { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
        );
      }
      if (!t.scopes.includes(scope)) {
        return json(
          403,
          { error: 'insufficient_scope', error_description: `Scope "${scope}" required` },
          { 'WWW-Authenticate': `Bearer error="insufficient_scope", scope="${scope}"` },
        );
      }
      return h(req);
    };
  }

  /** Invalidates every token, as an early expiry or a revoked app would. */
  revoke(): void {
    this.tokens.clear();
  }
}
