/**
 * Builds the Jira ITSM adapter against the fake, the way the registry would (settings
 * parsed from JIRA_* variables), with a logger whose every line is kept so tests can
 * check that no secret reaches a log.
 */
import type { Logger } from 'pino';
import { pino } from 'pino';
import { createHttpClient } from '../../../adapters/http/client.js';
import { jiraDefinition } from '../../../adapters/itsm/jira/index.js';
import type { ItsmAdapter, TicketDraft } from '../../../adapters/itsm/types.js';
import {
  FAKE_JIRA_EMAIL,
  FAKE_JIRA_TOKEN,
  startFakeJira,
  type FakeJira,
  type FakeJiraOptions,
} from './index.js';

export interface JiraHarness {
  fake: FakeJira;
  itsm: ItsmAdapter;
  /** Every log line written (JSON), unless a logger was passed in. */
  lines: string[];
  close(): Promise<void>;
}

export async function jiraHarness(
  o: {
    /** JIRA_* variables over the defaults (site = the fake, project OPS). */
    env?: Record<string, string>;
    fake?: FakeJiraOptions;
    /** Per-request timeout; short to provoke "no answer" quickly. */
    timeoutMs?: number;
    log?: Logger;
  } = {},
): Promise<JiraHarness> {
  const fake = await startFakeJira(o.fake);
  const lines: string[] = [];
  const log = o.log ?? pino({ level: 'debug' }, { write: (s: string) => void lines.push(s) });
  const settings = jiraDefinition.settings.parse({
    JIRA_SITE_URL: fake.url,
    JIRA_EMAIL: o.fake?.email ?? FAKE_JIRA_EMAIL,
    JIRA_API_TOKEN: o.fake?.apiToken ?? FAKE_JIRA_TOKEN,
    JIRA_PROJECT: 'OPS',
    ...o.env,
  });
  const itsm = jiraDefinition.create(settings, {
    log,
    http: (opts) =>
      createHttpClient({ ...opts, log, retryBaseMs: 20, timeoutMs: o.timeoutMs ?? 3_000 }),
    clock: () => new Date(),
    dataDir: '/tmp',
  });
  return { fake, itsm, lines, close: () => fake.close() };
}

/** A change ticket draft; override what a test is about. */
export const ticketDraft = (over: Partial<TicketDraft> = {}): TicketDraft => ({
  rolloutId: 'acme-2026-12-06',
  clientId: 'acme',
  title: 'Patch rollout acme-2026-12-06: 2 patches on 3 devices',
  description: 'Monthly patches.\n\nApproved by the CAB.',
  devices: ['web-1', 'web-2', 'db-1'],
  deviceCount: 3,
  patches: [
    { id: 'KB5048667', title: 'Cumulative update', severity: 'critical', tier: 'critical' },
    { id: 'openssl-3.0.15', title: 'OpenSSL', severity: 'high' },
  ],
  emergency: false,
  risk: 'high',
  impact: 1,
  plannedStart: '2026-12-07T22:00:00Z',
  plannedEnd: '2026-12-08T04:00:00Z',
  routing: { labels: ['managed services'] },
  ...over,
});
