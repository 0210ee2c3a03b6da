import type { WebClient } from '@slack/web-api';

/** Bot token scopes patchops needs; bot/slack/manifest.yaml requests exactly these. */
export const REQUIRED_SCOPES = [
  'chat:write',
  'commands',
  'usergroups:read',
  'channels:read',
  'groups:read',
  'channels:history',
  'groups:history',
  'im:write',
  // The weekly compliance report's chart (files.getUploadURLExternal / completeUploadExternal).
  'files:write',
] as const;

export interface ScopeCheck {
  team: string;
  botUser: string;
  missing: string[];
}

/** auth.test plus the x-oauth-scopes header: is the token valid and does it have every scope? */
export async function checkSlackScopes(client: WebClient): Promise<ScopeCheck> {
  const r = await client.auth.test();
  const granted = new Set(r.response_metadata?.scopes ?? []);
  return {
    team: `${r.team ?? '?'} (${r.team_id ?? '?'})`,
    botUser: r.user_id ?? '?',
    missing: REQUIRED_SCOPES.filter((s) => !granted.has(s)),
  };
}
