import type { ConnectionCheck } from '../../rmm/types.js';
import { ItsmError } from '../types.js';
import type { GitHubClient } from './client.js';
import type { GitHubSettings } from './settings.js';
import { repositorySchema } from './wire.js';

/**
 * One GET of the default repository: proves the credentials, that they see the repository,
 * that issues are on and (where GitHub says) that labels will stick. Expected failures are
 * `ok: false` naming the variable to fix; nothing is thrown.
 */
export async function testGitHubConnection(
  s: GitHubSettings,
  gh: GitHubClient,
): Promise<ConnectionCheck> {
  const full = `${s.repo.owner}/${s.repo.name}`;
  const credentials =
    s.auth.kind === 'token'
      ? 'GITHUB_TOKEN'
      : 'GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_APP_INSTALLATION_ID';
  let repo;
  try {
    repo = await gh.call(
      'GET /repos/{owner}/{repo}',
      { owner: s.repo.owner, repo: s.repo.name },
      repositorySchema,
      'read',
    );
  } catch (err) {
    if (!(err instanceof ItsmError)) throw err;
    if (err.message.includes('/app/installations/'))
      return {
        ok: false,
        detail: `GitHub refused the App installation token (${err.message}); check ${credentials}`,
      };
    const detail: Partial<Record<ItsmError['code'], string>> = {
      AUTH_FAILED: `GitHub refused the credentials (${err.message}); check ${credentials}`,
      NOT_FOUND:
        `GitHub has no repository ${full} for these credentials; check GITHUB_REPOSITORY. ` +
        `GitHub also answers 404 when the ${s.auth.kind === 'token' ? 'token' : 'App installation'} cannot see a private repository: ` +
        (s.auth.kind === 'token'
          ? 'grant it access to the repository (fine-grained token: Repository access + Issues read/write)'
          : 'install the App on the repository'),
      FORBIDDEN: `GitHub forbids access to ${full} (${err.message}); check ${credentials} permissions`,
    };
    return { ok: false, detail: detail[err.code] ?? err.message };
  }
  if (!repo.has_issues)
    return {
      ok: false,
      detail: `issues are disabled on ${full}; enable them (Settings → General → Features → Issues)`,
    };
  if (repo.archived)
    return { ok: false, detail: `${full} is archived (read-only); pick another GITHUB_REPOSITORY` };
  const p = repo.permissions;
  if (p && !(p.admin || p.maintain || p.push || p.triage))
    return {
      ok: false,
      detail: `the credentials may only read ${full}: GitHub would drop patchops' labels silently; give ${credentials} triage or write access`,
    };
  return { ok: true, detail: `GitHub repository ${repo.full_name} reachable, issues enabled` };
}
