/**
 * The one fake workspace that the Slack fakes and payload builders share, so an id in a
 * signed payload matches what the fake Web API answers from auth.test.
 */
export const FAKE_WORKSPACE = {
  teamId: 'T0001',
  teamName: 'Patchops Test',
  teamDomain: 'patchops-test',
  appId: 'A0001',
  botId: 'B0001',
  botUserId: 'U0BOT0001',
  botUserName: 'patchops',
  /** The deprecated verification token Slack still puts in payloads; Bolt ignores it. */
  verificationToken: 'fake-verification-token',
} as const;

/** Scopes a freshly installed patchops bot token has. */
export const DEFAULT_SCOPES: readonly string[] = [
  'chat:write',
  'commands',
  'usergroups:read',
  'users:read',
  'channels:read',
  'groups:read',
  'channels:history',
  'groups:history',
  'im:write',
  // Reports share their chart as a file (files.getUploadURLExternal / completeUploadExternal).
  'files:write',
];

export interface FakeChannel {
  id: string;
  name: string;
  /** Private channels need groups:read to be seen; public ones channels:read. */
  isPrivate?: boolean;
  /** User ids in the channel; the bot is a member unless `botIsMember` is false. */
  members?: string[];
  botIsMember?: boolean;
}

export const DEFAULT_CHANNELS: readonly FakeChannel[] = [
  { id: 'C0001', name: 'patching', members: ['U0001', 'U0002'] },
  { id: 'C0002', name: 'patching-emea', members: ['U0003'] },
  { id: 'G0001', name: 'patch-approvers', isPrivate: true, members: ['U0001'] },
];
