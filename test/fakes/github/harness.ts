/**
 * Builds the GitHub ITSM adapter against the fake, the way the registry would, with a
 * logger whose every line is kept so tests can check that no secret reaches a log.
 */
import { tmpdir } from 'node:os';
import { pino } from 'pino';
import { githubDefinition, type GitHubSettings } from '../../../adapters/itsm/github/index.js';
import type { ItsmAdapter } from '../../../adapters/itsm/types.js';
import type { AdapterDeps } from '../../../adapters/kit.js';
import {
  FAKE_GITHUB_TOKEN,
  startFakeGitHub,
  type FakeGitHub,
  type FakeGitHubOptions,
} from './index.js';

export interface GitHubHarness {
  fake: FakeGitHub;
  itsm: ItsmAdapter;
  settings: GitHubSettings;
  /** Every log line written, JSON. */
  lines: string[];
  close(): Promise<void>;
}

export async function githubHarness(
  o: {
    env?: Record<string, string>;
    settings?: Partial<GitHubSettings>;
    fake?: FakeGitHubOptions;
  } = {},
): Promise<GitHubHarness> {
  const fake = await startFakeGitHub(o.fake);
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(s) });
  // An empty value means "unset", as the registry passes only variables that have one.
  const env = Object.entries({
    GITHUB_REPOSITORY: 'acme/patching',
    GITHUB_TOKEN: FAKE_GITHUB_TOKEN,
    GITHUB_API_URL: fake.url,
    GITHUB_WRITE_INTERVAL_MS: '0',
    ...o.env,
  }).filter(([, v]) => v !== '');
  const parsed = githubDefinition.settings.parse(Object.fromEntries(env)) as GitHubSettings;
  const settings: GitHubSettings = { ...parsed, retryBaseMs: 10, ...o.settings };
  const deps: AdapterDeps = {
    log,
    http: () => {
      throw new Error('the GitHub adapter uses octokit, not the shared axios client');
    },
    clock: () => new Date(),
    dataDir: tmpdir(),
  };
  const itsm = githubDefinition.create(settings, deps);
  return { fake, itsm, settings, lines, close: () => fake.close() };
}
