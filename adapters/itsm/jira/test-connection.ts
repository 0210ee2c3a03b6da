import type { Redactor } from '../../http/redact.js';
import { HttpFailure } from '../../http/errors.js';
import type { ConnectionCheck } from '../../rmm/types.js';
import type { JiraApi } from './client.js';
import type { JiraSettings } from './settings.js';

function failure(err: unknown, redact: Redactor, what: string): ConnectionCheck {
  if (!(err instanceof HttpFailure))
    return { ok: false, detail: redact(`${what}: ${String(err)}`) };
  if (err.kind === 'auth')
    return {
      ok: false,
      detail: `Jira refused the credentials (401): check JIRA_EMAIL and JIRA_API_TOKEN (an API token from id.atlassian.com, not the account password).`,
    };
  if (err.kind === 'forbidden')
    return {
      ok: false,
      detail: `Jira answered 403 for ${what}: the account of JIRA_EMAIL lacks permission, or the site blocks API tokens (IP allowlist, CAPTCHA after failed logins).`,
    };
  return { ok: false, detail: `${what}: ${err.message}` };
}

/** GET /myself (are the credentials good?) and GET /project/{key} (is JIRA_PROJECT usable?). */
export async function testJiraConnection(
  api: JiraApi,
  settings: JiraSettings,
  redact: Redactor,
): Promise<ConnectionCheck> {
  let me;
  try {
    me = await api.myself();
  } catch (err) {
    return failure(err, redact, `reaching ${settings.siteUrl} (JIRA_SITE_URL)`);
  }
  let project;
  try {
    project = await api.project(settings.project);
  } catch (err) {
    if (err instanceof HttpFailure && err.kind === 'not_found')
      return {
        ok: false,
        detail: `Jira has no project "${settings.project}" that ${settings.email} can see: check JIRA_PROJECT (the project key, e.g. OPS) and the account's Browse permission.`,
      };
    return failure(err, redact, `reading project ${settings.project} (JIRA_PROJECT)`);
  }
  const missing = [
    ['JIRA_ISSUE_TYPE', settings.issueType],
    ['JIRA_INCIDENT_ISSUE_TYPE', settings.incidentIssueType],
  ].filter(([, t]) => !project.issueTypes.some((n) => n.toLowerCase() === t!.toLowerCase()));
  if (project.issueTypes.length && missing.length)
    return {
      ok: false,
      detail: `Project ${project.key} has no issue type ${missing.map(([v, t]) => `"${t}" (${v})`).join(', ')}; it has ${project.issueTypes.map((n) => `"${n}"`).join(', ')}.`,
    };
  return {
    ok: true,
    detail: `signed in to ${settings.siteUrl} as ${me.displayName ?? me.accountId}; project ${project.key} (${project.name})`,
  };
}
