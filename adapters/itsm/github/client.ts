/**
 * The one octokit instance of a GitHub adapter. octokit has its own HTTP stack (fetch), so
 * the shared axios client is not used; this file gives octokit what that client would:
 * a per-attempt timeout, bounded retries, rate-limit waits that honour GitHub's headers,
 * redacted logging, zod parsing of every answer and errors that name vendor and endpoint.
 *
 * Retries. octokit's retry plugin repeats any status ≥ 400 outside `doNotRetry` — 5xx and
 * "no answer", which octokit reports as status 500 — up to 3 times. That is right for reads
 * and for writes that set a value (PATCH state, POST labels: adding a present label is a
 * no-op), but a create repeated after a 5xx or a timeout may make a second issue or comment.
 * So creates go with `request.retries: 0` and fail OUTCOME_UNKNOWN; the adapter then looks
 * for the marker before anything is written again. 429 joins `doNotRetry` so only the
 * throttling plugin, which reads retry-after / x-ratelimit-reset, handles rate limits (and
 * GitHub answers those before doing the work, so repeating a create then is safe).
 */
import { App, Octokit } from 'octokit';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { createRedactor, type Redactor } from '../../http/redact.js';
import { parseWire } from '../../http/wire.js';
import { toGitHubError, VENDOR, type CallMode } from './errors.js';
import { pacingGroup } from './pacing.js';
import type { GitHubSettings } from './settings.js';

export const USER_AGENT = 'patchops/0.1 (+https://github.com/patchops/patchops)';

export interface GitHubClient {
  readonly redact: Redactor;
  /** One request; `route` is octokit's "METHOD /path/{param}" and names the endpoint in errors. */
  call<S extends z.ZodType>(
    route: string,
    params: Record<string, unknown>,
    schema: S,
    mode: CallMode,
  ): Promise<z.output<S>>;
  /**
   * Walks a list page by page (following the Link header) until `visit` returns a value;
   * the value, or undefined after the last page. Each page is parsed with `schema`.
   */
  find<T, R>(
    route: string,
    params: Record<string, unknown>,
    schema: z.ZodType<T[]>,
    visit: (item: T) => R | undefined,
  ): Promise<R | undefined>;
}

function octokitLog(log: Logger, redact: Redactor) {
  const say = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string) =>
    log[level]({ vendor: VENDOR }, redact(String(message)));
  return { debug: say('debug'), info: say('info'), warn: say('warn'), error: say('error') };
}

export function createGitHubClient(s: GitHubSettings, log: Logger): GitHubClient {
  const redact = createRedactor(
    s.auth.kind === 'token'
      ? [s.auth.token]
      : [s.auth.privateKey, ...s.auth.privateKey.split('\n')],
  );
  // A limit handler returns true to wait `retryAfter` seconds and repeat the request.
  const onLimit =
    (which: 'primary' | 'secondary') =>
    (
      retryAfter: number,
      options: { method: string; url: string },
      _o: unknown,
      retryCount: number,
    ) => {
      const path = redact(new URL(options.url, 'http://github.invalid').pathname);
      const retry = retryCount < s.rateLimitRetries && retryAfter <= s.maxRetryAfterSeconds;
      log.warn(
        { vendor: VENDOR, endpoint: `${options.method} ${path}`, retryAfter, retryCount, retry },
        `GitHub ${which} rate limit hit${retry ? `; retrying after ${retryAfter} s` : '; giving up for now'}`,
      );
      return retry;
    };
  const timedFetch: typeof fetch = (input, init) => {
    const timeout = AbortSignal.timeout(s.timeoutMs);
    return fetch(input, {
      ...init,
      signal: init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout,
    });
  };
  const pace = s.writeIntervalMs !== undefined ? pacingGroup(s.writeIntervalMs) : undefined;
  const Configured = Octokit.defaults({
    baseUrl: s.apiUrl,
    userAgent: USER_AGENT,
    log: octokitLog(log, redact),
    request: { fetch: timedFetch },
    retry: {
      doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451],
      retries: 3,
      retryAfterBaseValue: s.retryBaseMs,
    },
    throttle: {
      onRateLimit: onLimit('primary'),
      onSecondaryRateLimit: onLimit('secondary'),
      ...(pace ? { write: pace, notifications: pace } : {}),
    },
  });

  let octokit: Promise<InstanceType<typeof Configured>> | undefined;
  const client = (): Promise<InstanceType<typeof Configured>> => {
    if (!octokit) {
      if (s.auth.kind === 'token')
        octokit = Promise.resolve(new Configured({ auth: s.auth.token }));
      else {
        // The App signs a JWT with its key and exchanges it for an installation token, which
        // octokit renews before it expires (an hour).
        const app = new App({
          appId: s.auth.appId,
          privateKey: s.auth.privateKey,
          Octokit: Configured,
        });
        octokit = app.getInstallationOctokit(s.auth.installationId);
      }
    }
    return octokit;
  };

  return {
    redact,
    async call(route, params, schema, mode) {
      let data: unknown;
      try {
        const o = await client();
        const res = await o.request(route, {
          ...params,
          ...(mode === 'create' ? { request: { retries: 0 } } : {}),
        });
        data = res.data;
      } catch (err) {
        throw toGitHubError(err, route, mode, redact);
      }
      try {
        return parseWire(VENDOR, route, schema, data === '' ? null : data);
      } catch (err) {
        throw toGitHubError(err, route, mode, redact);
      }
    },
    async find(route, params, schema, visit) {
      try {
        const o = await client();
        for await (const page of o.paginate.iterator(route, params)) {
          for (const item of parseWire(VENDOR, route, schema, page.data)) {
            const hit = visit(item);
            if (hit !== undefined) return hit;
          }
        }
        return undefined;
      } catch (err) {
        throw toGitHubError(err, route, 'read', redact);
      }
    },
  };
}
