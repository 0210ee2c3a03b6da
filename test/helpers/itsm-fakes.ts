import type { Fault, RecordedRequest } from '../fakes/http/server.js';
import type { FakeTicket } from '../fakes/http/ticket-view.js';
import { FAKE_GITHUB_TOKEN, startFakeGitHub } from '../fakes/github/index.js';
import { FAKE_JIRA_EMAIL, FAKE_JIRA_TOKEN, startFakeJira } from '../fakes/jira/index.js';
import { DEFAULT_USER, startFakeServiceNow } from '../fakes/servicenow/index.js';

/** What the ITSM end-to-end tests need of every vendor's fake. */
export interface ItsmFake {
  url: string;
  fault(f: Fault): void;
  requests?: RecordedRequest[];
  close(): Promise<void>;
  tickets(): FakeTicket[];
}

export interface ItsmVendor {
  kind: string;
  start(): Promise<ItsmFake>;
  /** The adapter's variables pointing at the fake with working credentials. */
  env(url: string): Record<string, string>;
  /** The same with a wrong secret, and the variable doctor must name. */
  badEnv(url: string): { env: Record<string, string>; names: RegExp };
  /** The path of the create request of a change ticket. */
  createPath: RegExp;
  /** The state a closed change shows. */
  closedState: RegExp;
  /** The state a cancelled change shows (a rejected or cancelled rollout). */
  cancelledState: RegExp;
}

/** Every ITSM adapter with a fake, for tests that run the same scenario on each. */
export const ITSM_FAKES: ItsmVendor[] = [
  {
    kind: 'servicenow',
    start: () => startFakeServiceNow(),
    env: (url) => ({
      SERVICENOW_INSTANCE_URL: url,
      SERVICENOW_USERNAME: DEFAULT_USER.username,
      SERVICENOW_PASSWORD: DEFAULT_USER.password,
    }),
    badEnv: (url) => ({
      env: {
        SERVICENOW_INSTANCE_URL: url,
        SERVICENOW_USERNAME: DEFAULT_USER.username,
        SERVICENOW_PASSWORD: 'wrong-password',
      },
      names: /SERVICENOW_PASSWORD/,
    }),
    createPath: /^\/api\/now\/table\/change_request$/,
    closedState: /^Closed$/,
    cancelledState: /^Canceled$/,
  },
  {
    kind: 'jira',
    start: () => startFakeJira(),
    env: (url) => ({
      JIRA_SITE_URL: url,
      JIRA_EMAIL: FAKE_JIRA_EMAIL,
      JIRA_API_TOKEN: FAKE_JIRA_TOKEN,
      JIRA_PROJECT: 'OPS',
    }),
    badEnv: (url) => ({
      env: {
        JIRA_SITE_URL: url,
        JIRA_EMAIL: FAKE_JIRA_EMAIL,
        JIRA_API_TOKEN: 'not-the-token',
        JIRA_PROJECT: 'OPS',
      },
      names: /JIRA_API_TOKEN/,
    }),
    createPath: /^\/rest\/api\/3\/issue$/,
    closedState: /^Done$/,
    // Jira's default workflow has no cancel step: Done, labelled patchops-close-cancelled.
    cancelledState: /^Done$/,
  },
  {
    kind: 'github',
    start: async () => {
      const fake = await startFakeGitHub();
      return fake;
    },
    env: (url) => ({
      GITHUB_API_URL: url,
      GITHUB_TOKEN: FAKE_GITHUB_TOKEN,
      GITHUB_REPOSITORY: 'acme/patching',
      GITHUB_TIMEOUT_MS: '1500',
      GITHUB_WRITE_INTERVAL_MS: '0',
    }),
    badEnv: (url) => ({
      env: {
        GITHUB_API_URL: url,
        GITHUB_TOKEN: 'ghp_wrongTokenwrongTokenwrongTokenwrong0',
        GITHUB_REPOSITORY: 'acme/patching',
      },
      names: /GITHUB_TOKEN/,
    }),
    createPath: /^\/repos\/[^/]+\/[^/]+\/issues$/,
    closedState: /^closed$/,
    cancelledState: /^closed$/,
  },
];
