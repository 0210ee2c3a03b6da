/**
 * GitHub issues as the ITSM: a change is an issue labelled patchops:change, its stages are
 * labels, an incident is an issue linked to it, and every write carries a hidden marker with
 * its key so retries find it. Talks to api.github.com or GitHub Enterprise Server through
 * octokit (its retry and throttling plugins bundled).
 */
import type { AdapterDeps } from '../../kit.js';
import { defineAdapter } from '../../kit.js';
import type { ItsmAdapter } from '../types.js';
import { createGitHubAdapter } from './adapter.js';
import { createGitHubClient } from './client.js';
import { GITHUB_ENV, githubSettingsSchema, type GitHubSettings } from './settings.js';

export type { GitHubSettings } from './settings.js';
export { githubSettingsSchema } from './settings.js';

export function createGitHub(settings: GitHubSettings, deps: AdapterDeps): ItsmAdapter {
  const log = deps.log.child({ itsm: 'github' });
  return createGitHubAdapter(settings, createGitHubClient(settings, log), log);
}

export const githubDefinition = defineAdapter({
  kind: 'github',
  vendor: 'GitHub',
  summary:
    'GitHub issues (github.com or Enterprise Server): changes and incidents as labelled issues',
  env: GITHUB_ENV,
  settings: githubSettingsSchema,
  create: createGitHub,
});
