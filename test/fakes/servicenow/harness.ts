/**
 * Builds a real ServiceNow adapter against the fake for tests: captured pino lines (so a
 * test can prove no secret reached a log), short timeouts, and a request counter per
 * operation. Drafts are realistic ticket inputs.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { createHttpClient } from '../../../adapters/http/client.js';
import {
  createServiceNow,
  servicenowDefinition,
  type ServiceNowSettings,
} from '../../../adapters/itsm/servicenow/index.js';
import type { IncidentDraft, TicketDraft } from '../../../adapters/itsm/types.js';
import type { AdapterDeps } from '../../../adapters/kit.js';
import {
  DEFAULT_CLIENT,
  DEFAULT_USER,
  startFakeServiceNow,
  type FakeServiceNow,
  type FakeServiceNowOptions,
} from './index.js';

export function ticketDraft(over: Partial<TicketDraft> = {}): TicketDraft {
  return {
    rolloutId: 'acme-2026-12-06',
    clientId: 'acme',
    title: 'Patch rollout acme-2026-12-06: 2 patches on 3 devices',
    description: 'December patches for Acme, pilot ring first.',
    devices: ['acme-web-01', 'acme-web-02', 'acme-db-01'],
    deviceCount: 3,
    patches: [
      {
        id: 'KB5048667',
        title: '2026-12 Cumulative Update for Windows Server 2022',
        severity: 'critical',
        tier: 'critical',
      },
      { id: 'openssl-3.0.15-1~deb12u1', title: 'openssl security update', severity: 'important' },
    ],
    emergency: false,
    risk: 'high',
    impact: 2,
    plannedStart: '2026-12-08T22:00:00Z',
    plannedEnd: '2026-12-09T04:30:00Z',
    routing: {},
    ...over,
  };
}

export function incidentDraft(over: Partial<IncidentDraft> = {}): IncidentDraft {
  return {
    rolloutId: 'acme-2026-12-06',
    clientId: 'acme',
    title: 'Rollout acme-2026-12-06 halted: 4 of 10 pilot devices failed',
    description: 'The failure-rate circuit breaker stopped the rollout in the pilot ring.',
    urgency: 2,
    routing: {},
    ...over,
  };
}

export interface Harness {
  fake: FakeServiceNow;
  itsm: ReturnType<typeof createServiceNow>;
  /** Every pino line written so far. */
  lines: string[];
  /** Requests as "METHOD /path" since the last call of `calls`. */
  calls(): string[];
}

export type Auth = 'basic' | 'oauth';

/** Settings through the registry schema, the way configuration builds them. */
export function settingsFor(
  url: string,
  auth: Auth,
  env: Record<string, string> = {},
): ServiceNowSettings {
  const vars =
    auth === 'basic'
      ? { SERVICENOW_USERNAME: DEFAULT_USER.username, SERVICENOW_PASSWORD: DEFAULT_USER.password }
      : {
          SERVICENOW_CLIENT_ID: DEFAULT_CLIENT.clientId,
          SERVICENOW_CLIENT_SECRET: DEFAULT_CLIENT.clientSecret,
        };
  const parsed = servicenowDefinition.settings.parse({
    SERVICENOW_INSTANCE_URL: url,
    ...vars,
    ...env,
  });
  return {
    ...(parsed as ServiceNowSettings),
    http: { timeoutMs: 1_500, retryBaseMs: 20, retries: 3 },
  };
}

export async function harness(
  opts: {
    fake?: FakeServiceNowOptions;
    auth?: Auth;
    env?: Record<string, string>;
    settings?: Partial<ServiceNowSettings>;
  } = {},
): Promise<Harness> {
  const fake = await startFakeServiceNow(opts.fake);
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(s) });
  const deps: AdapterDeps = {
    log,
    http: (o) => createHttpClient({ ...o, log }),
    clock: () => new Date(),
    dataDir: mkdtempSync(path.join(tmpdir(), 'patchops-sn-')),
  };
  const itsm = createServiceNow(
    { ...settingsFor(fake.url, opts.auth ?? 'basic', opts.env), ...opts.settings },
    deps,
  );
  let seen = 0;
  return {
    fake,
    itsm,
    lines,
    calls() {
      const out = fake.requests
        .slice(seen)
        .map((r) => `${r.method} ${r.path.replace(/[0-9a-f]{32}/g, '{id}')}`);
      seen = fake.requests.length;
      return out;
    },
  };
}
