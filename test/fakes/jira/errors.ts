import { json, type FakeResponse } from '../http/server.js';

/**
 * Jira Cloud's error bodies: {"errorMessages": [...], "errors": {field: message}}, as
 * quoted in Atlassian's REST v3 reference and in the public issue threads of Jira clients
 * (pycontribs/jira, lesstif/php-jira-rest-client, go-jira) that reproduce them.
 */
export const jiraError = (
  status: number,
  errorMessages: string[],
  errors: Record<string, string> = {},
): FakeResponse => json(status, { errorMessages, errors });

/** A wrong e-mail / API token pair (Jira Cloud's answer to failed basic auth). */
export const unauthorized = (): FakeResponse =>
  json(401, {
    message: 'Client must be authenticated to access this resource.',
    'status-code': 401,
  });

export const issueNotFound = (): FakeResponse =>
  jiraError(404, ['Issue does not exist or you do not have permission to see it.']);

export const projectNotFound = (key: string): FakeResponse =>
  jiraError(404, [`No project could be found with key '${key}'.`]);

/** GET/POST /rest/api/3/search since its removal (Atlassian changelog CHANGE-2046). */
export const searchRemoved = (): FakeResponse =>
  jiraError(410, [
    'The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046',
  ]);

export const NOT_ADF =
  'Operation value must be an Atlassian Document (see the Atlassian Document Format)';
export const COMMENT_NOT_VALID = 'Comment body is not valid!';
