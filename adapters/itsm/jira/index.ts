import { defineAdapter } from '../../kit.js';
import { createJira } from './adapter.js';
import { JIRA_ENV, jiraSettingsSchema } from './settings.js';

export { createJira } from './adapter.js';
export type { JiraSettings } from './settings.js';

/** The registry entry: `PATCHOPS_ITSM=jira`. */
export const jiraDefinition = defineAdapter({
  kind: 'jira',
  vendor: 'Jira Cloud',
  summary: 'changes as Jira issues moved through workflow transitions, incidents as linked issues',
  env: JIRA_ENV,
  settings: jiraSettingsSchema,
  create: createJira,
});
