/**
 * Credentials of the fake GitHub: personal access tokens ("Authorization: token X" or
 * "Bearer X") and GitHub App installations. An App signs a JWT (RS256, iss = App id, exp at
 * most 10 minutes ahead) and trades it at POST /app/installations/{id}/access_tokens for an
 * installation token (docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/
 * generating-an-installation-access-token-for-a-github-app).
 */
import { createVerify, randomBytes } from 'node:crypto';
import type { FakeRequest, FakeResponse } from '../http/server.js';
import type { FakeCredential } from './state.js';
import { ghError } from './wire.js';

export interface FakeApp {
  appId: number;
  /** PEM of the App's public key: the fake checks JWT signatures with it. */
  publicKey: string;
  installationId: number;
  repos: '*' | string[];
}

export function bearer(req: FakeRequest): string | undefined {
  const h = req.headers.authorization;
  const m = typeof h === 'string' ? /^(?:token|bearer)\s+(\S+)$/i.exec(h) : null;
  return m?.[1];
}

const b64json = (part: string): Record<string, unknown> | undefined => {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
};

/** Verifies an App JWT; the reason GitHub gives when it is not acceptable. */
export function checkAppJwt(jwt: string, app: FakeApp, nowSeconds: number): string | undefined {
  const [h, p, sig] = jwt.split('.');
  const header = h ? b64json(h) : undefined;
  const payload = p ? b64json(p) : undefined;
  if (!header || !payload || !sig || header.alg !== 'RS256')
    return 'A JSON web token could not be decoded';
  const ok = createVerify('RSA-SHA256')
    .update(`${h}.${p}`)
    .verify(app.publicKey, Buffer.from(sig, 'base64url'));
  if (!ok) return 'A JSON web token could not be decoded';
  if (String(payload.iss) !== String(app.appId)) return "'Issuer' claim ('iss') must be an Integer";
  const exp = Number(payload.exp);
  if (!(exp > nowSeconds) || exp > nowSeconds + 600)
    return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
  return undefined;
}

export class FakeCredentials {
  readonly tokens = new Map<string, FakeCredential>();

  constructor(private readonly app: FakeApp | undefined) {}

  /** The credential of a request, or the 401 GitHub gives. */
  of(req: FakeRequest): FakeCredential | FakeResponse {
    const t = bearer(req);
    if (!t) return ghError(401, 'Requires authentication');
    return this.tokens.get(t) ?? ghError(401, 'Bad credentials');
  }

  issueInstallationToken(req: FakeRequest, installationId: number): FakeResponse {
    const app = this.app;
    const jwt = bearer(req);
    if (!app) return ghError(404, 'Not Found');
    if (!jwt) return ghError(401, 'A JSON web token could not be decoded');
    const problem = checkAppJwt(jwt, app, Math.floor(Date.now() / 1000));
    if (problem) return ghError(401, problem);
    if (installationId !== app.installationId) return ghError(404, 'Not Found');
    const token = `ghs_${randomBytes(18).toString('hex')}`;
    this.tokens.set(token, { repos: app.repos, permission: 'write' });
    return {
      status: 201,
      body: {
        token,
        expires_at: new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z'),
        permissions: { issues: 'write', metadata: 'read' },
        repository_selection: app.repos === '*' ? 'all' : 'selected',
      },
    };
  }
}
