/**
 * The error answers a ServiceNow instance gives, word for word as instances send them:
 * `{"error":{"message","detail"},"status":"failure"}` (docs: REST API HTTP response codes,
 * Inbound REST API rate limiting) and, for /oauth_token.do, the OAuth servlet's own
 * `{"error_description":"access_denied","error":"server_error"}`.
 */
import { json, type FakeResponse } from '../http/server.js';

const failure = (
  status: number,
  message: string,
  detail: string | null,
  headers: Record<string, string> = {},
) => json(status, { error: { message, detail }, status: 'failure' }, headers);

export const notAuthenticated = (basic: boolean): FakeResponse =>
  failure(
    401,
    'User Not Authenticated',
    'Required to provide Auth information',
    basic ? { 'WWW-Authenticate': 'BASIC realm="Service-now"' } : {},
  );

export const noRecord = () =>
  failure(404, 'No Record found', "Record doesn't exist or ACL restricts the record retrieval");

export const queryForbidden = () =>
  failure(
    403,
    'Insufficient rights to query records',
    'Field(s) present in the query do not have permission to be read',
  );

export const aclRefused = (op: 'Insert' | 'Update') =>
  failure(403, 'Operation Failed', `ACL Exception ${op} Failed due to security constraints`);

/** What the "State model - Can change state?" business rule's abort looks like over REST. */
export const stateModelAbort = (table: string, ruleId: string) =>
  failure(
    403,
    'Operation Failed',
    `Operation against file '${table}' was aborted by Business Rule 'State model - Can change state?^${ruleId}'. Business Rule Stack:State model - Can change state?`,
  );

export const mandatoryMissing = (labels: string[]) =>
  failure(
    403,
    'Operation Failed',
    `Data Policy Exception: \n\tThe following fields are mandatory: ${labels.join(', ')}`,
  );

export const invalidTable = (table: string) => failure(400, `Invalid table ${table}`, null);

export const noResource = (path: string) =>
  failure(400, `Requested URI does not represent any resource: ${path}`, null);

export const badJson = () =>
  failure(400, 'Exception while reading request', 'The payload is not valid JSON.');

export const rateLimited = (limit: number, headers: Record<string, string>) =>
  failure(
    429,
    'Rate limit exceeded',
    `Rate limit of ${limit} requests per hour for Table API exceeded`,
    headers,
  );

export const oauthDenied = () =>
  json(401, { error_description: 'access_denied', error: 'server_error' });
