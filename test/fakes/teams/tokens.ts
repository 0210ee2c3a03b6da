/**
 * Bearer tokens for auth tests of the Teams messaging endpoint, a local OpenID metadata
 * endpoint, and a plain POST helper. Tokens are well-formed RS256 JWTs signed with a key
 * generated here, so they never validate against the Bot Framework's published keys — that is
 * the point. botbuilder fetches those keys from login.botframework.com for any well-formed JWT
 * (a 500, not a 401, when offline); point `ToBotFromChannelOpenIdMetadataUrl` at
 * startOpenIdMetadata() to keep auth tests local.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';

/** The issuer Bot Framework channel tokens carry (Teams → bot). */
export const BOT_FRAMEWORK_ISSUER = 'https://api.botframework.com';
/** The key id tokenForAudience() signs with by default; only startOpenIdMetadata() publishes it. */
export const TEST_KEY_ID = 'patchops-test-signing-key';

let keys: { privateKey: KeyObject; publicKey: KeyObject } | undefined;
let forger: KeyObject | undefined;
/** One throwaway RSA key pair per process: generating a 2048-bit key takes tens of milliseconds. */
function keyPair() {
  keys ??= generateKeyPairSync('rsa', { modulusLength: 2048 });
  return keys;
}
/** A second private key whose signatures no published key verifies. */
function forgerKey() {
  forger ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  return forger;
}

/** Not a JWT at all. */
export function garbageToken(): string {
  return 'Bearer not-a-jwt.garbage';
}

export interface TokenOptions {
  /** Default BOT_FRAMEWORK_ISSUER. */
  issuer?: string;
  /** Default TEST_KEY_ID. */
  kid?: string;
  /** The `serviceurl` claim; botbuilder requires it to equal the activity's serviceUrl. */
  serviceUrl?: string;
  /** Negative for an already expired token. Default 3600. */
  expiresInSeconds?: number;
  forgeSignature?: boolean;
}

/**
 * A signed JWT for `aud` with Bot Framework channel-token claims, as the full Authorization
 * header value. It validates only where the adapter trusts startOpenIdMetadata(); pass
 * another `kid` for a key nobody publishes, `forgeSignature` to sign with a different key
 * under the published kid, or a wrong `issuer`/`aud`/`serviceUrl`.
 */
export function tokenForAudience(aud: string, opts: TokenOptions = {}): string {
  const claims: Record<string, unknown> = {};
  if (opts.serviceUrl !== undefined) claims.serviceurl = opts.serviceUrl;
  const signer = opts.forgeSignature ? forgerKey() : keyPair().privateKey;
  const token = jwt.sign(claims, signer, {
    algorithm: 'RS256',
    audience: aud,
    issuer: opts.issuer ?? BOT_FRAMEWORK_ISSUER,
    keyid: opts.kid ?? TEST_KEY_ID,
    expiresIn: opts.expiresInSeconds ?? 3600,
    notBefore: 0,
  });
  return `Bearer ${token}`;
}

export interface PostResult {
  status: number;
  /** Parsed JSON when the response is JSON, the text otherwise ('' for an empty body). */
  body: unknown;
}

/** POST an activity as JSON, the way the Bot Connector service does. */
export async function postActivity(
  url: string,
  activity: unknown,
  opts: { authorization?: string } = {},
): Promise<PostResult> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.authorization !== undefined) headers.authorization = opts.authorization;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(activity) });
  const text = await res.text();
  let body: unknown = text;
  if (text !== '' && (res.headers.get('content-type') ?? '').includes('json')) {
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      body = text;
    }
  }
  return { status: res.status, body };
}

export interface OpenIdMetadata {
  /** The metadata document URL, for `ToBotFromChannelOpenIdMetadataUrl`. */
  url: string;
  /**
   * Options for `new ConfigurationBotFrameworkAuthentication(...)`: the public-cloud values
   * with only the channel OpenID metadata URL replaced. botbuilder's factory treats setting any
   * one of these as "all are given", so they must all be spelled out (the issuer above all).
   */
  authConfig(app: { appId: string; password: string }): Record<string, string>;
  close(): Promise<void>;
}

/**
 * Serves an OpenID configuration and JWKS on 127.0.0.1 shaped like
 * login.botframework.com/v1/.well-known/openidconfiguration, publishing this module's public
 * key under TEST_KEY_ID with the given endorsements (default ['msteams']).
 * botbuilder caches the keys per metadata URL for the life of the process.
 */
export async function startOpenIdMetadata(
  opts: { endorsements?: string[] } = {},
): Promise<OpenIdMetadata> {
  const jwk = keyPair().publicKey.export({ format: 'jwk' });
  const server = createServer((req, res) => {
    const base = `http://${req.headers.host ?? '127.0.0.1'}`;
    const send = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/v1/.well-known/openidconfiguration') {
      send({
        issuer: BOT_FRAMEWORK_ISSUER,
        jwks_uri: `${base}/v1/.well-known/keys`,
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
      });
    } else if (req.url === '/v1/.well-known/keys') {
      const endorsements = opts.endorsements ?? ['msteams'];
      send({
        keys: [{ kty: 'RSA', use: 'sig', kid: TEST_KEY_ID, n: jwk.n, e: jwk.e, endorsements }],
      });
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/v1/.well-known/openidconfiguration`;
  return {
    url,
    authConfig: ({ appId, password }) => ({
      MicrosoftAppId: appId,
      MicrosoftAppPassword: password,
      MicrosoftAppType: 'MultiTenant',
      ValidateAuthority: 'true',
      ToChannelFromBotLoginUrl: 'https://login.microsoftonline.com/botframework.com',
      ToChannelFromBotOAuthScope: 'https://api.botframework.com',
      ToBotFromChannelTokenIssuer: BOT_FRAMEWORK_ISSUER,
      OAuthUrl: 'https://api.botframework.com',
      ToBotFromChannelOpenIdMetadataUrl: url,
      ToBotFromEmulatorOpenIdMetadataUrl:
        'https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration',
      CallerId: 'urn:botframework:azure',
    }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
