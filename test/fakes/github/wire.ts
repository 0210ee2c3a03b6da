/**
 * GitHub's answers around the resources: error bodies, rate-limit headers and Link paging,
 * as docs.github.com/en/rest/using-the-rest-api/{troubleshooting-the-rest-api,
 * rate-limits-for-the-rest-api,using-pagination-in-the-rest-api} describe them.
 */
import type { FakeResponse } from '../http/server.js';

const DOCS = 'https://docs.github.com/rest';

/** GitHub's error body: message, documentation_url and (since 2024) the status as a string. */
export function ghError(
  status: number,
  message: string,
  extra: Record<string, unknown> = {},
): FakeResponse {
  return {
    status,
    body: { message, documentation_url: DOCS, status: String(status), ...extra },
  };
}

export const notFound = () => ghError(404, 'Not Found');
export const badCredentials = () => ghError(401, 'Bad credentials');

export function validationFailed(
  resource: string,
  field: string,
  code = 'missing_field',
): FakeResponse {
  return ghError(422, 'Validation Failed', { errors: [{ resource, code, field }] });
}

export const SECONDARY_LIMIT_MESSAGE =
  'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. ' +
  'If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.';

export const SECONDARY_LIMIT_DOCS =
  'https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits';

export const PRIMARY_LIMIT_MESSAGE =
  'API rate limit exceeded for user ID 7. If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.';

/** The x-ratelimit-* headers GitHub puts on every answer. */
export function rateHeaders(remaining: number, resetEpochSeconds: number): Record<string, string> {
  return {
    'x-ratelimit-limit': '5000',
    'x-ratelimit-remaining': String(Math.max(0, remaining)),
    'x-ratelimit-used': String(5000 - Math.max(0, remaining)),
    'x-ratelimit-reset': String(resetEpochSeconds),
    'x-ratelimit-resource': 'core',
  };
}

/**
 * One page of a list and its Link header. Like GitHub, the links are absolute and point at
 * the /repositories/{id}/... form of the path, so a client must follow them, not rebuild them.
 */
export function paginate<T>(
  items: T[],
  query: URLSearchParams,
  linkBase: string,
): { page: T[]; headers: Record<string, string> } {
  const perPage = Math.min(100, Math.max(1, Number(query.get('per_page') ?? 30) || 30));
  const page = Math.max(1, Number(query.get('page') ?? 1) || 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const link = (p: number, rel: string) => {
    const q = new URLSearchParams(query);
    q.set('page', String(p));
    return `<${linkBase}?${q.toString()}>; rel="${rel}"`;
  };
  const rels: string[] = [];
  if (page > 1) rels.push(link(page - 1, 'prev'));
  if (page < last) rels.push(link(page + 1, 'next'), link(last, 'last'));
  if (page > 1) rels.push(link(1, 'first'));
  return {
    page: items.slice((page - 1) * perPage, page * perPage),
    headers: rels.length ? { Link: rels.join(', ') } : {},
  };
}
