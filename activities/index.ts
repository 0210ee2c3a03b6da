import type { Logger } from 'pino';
import type { Notifier } from '../adapters/chat/types.js';
import { CardPublisher } from '../bot/cards/publisher.js';
import type { ItsmAdapter } from '../adapters/itsm/types.js';
import type { RmmAdapter } from '../adapters/rmm/types.js';
import type { PolicyDocument } from '../domain/policy/schema.js';
import type { Store } from '../store/index.js';
import { createAlertActivities } from './alerts.js';
import { createAuditActivities } from './audit.js';
import { createBatchActivities } from './batch.js';
import { createComplianceActivities } from './compliance.js';
import { createDeviceActivities } from './device.js';
import { createPlanActivities } from './plan.js';
import { createEmergencyActivities } from './emergency.js';
import { createNoticeActivities } from './notices.js';
import { createRolloutActivities } from './rollout.js';
import { createScanActivities } from './scan.js';
import { createTicketActivities } from './tickets.js';
import { createIntelActivities, type IntelSources } from './intel.js';

export interface ActivityDeps {
  store: Store;
  log: Logger;
  rmm: RmmAdapter;
  itsm: ItsmAdapter;
  /** Chat platforms notices go to (the log notifier at least). */
  notifiers: Notifier[];
  /** Posts and updates cards; built from notifiers when not given. One per process. */
  publisher?: CardPublisher;
  /** Every loaded policy document (global, client, site, group); planning picks the cascade. */
  policies: PolicyDocument[];
  /** Enabled vulnerability-intelligence sources (KEV, EPSS, NVD, Debian); none when absent. */
  intel?: IntelSources;
  /** Overrides for how often jobs are polled etc. (tests use milliseconds). */
  timing?: { jobPollMs?: number; offlineRetryMs?: number; cardUpdateMs?: number };
}

/** Builds every activity from injected dependencies; the worker is the only caller in production. */
export function createActivities(input: ActivityDeps) {
  const deps = withPublisher(input);
  return {
    ...createAuditActivities(deps),
    ...createRolloutActivities(deps),
    ...createScanActivities(deps),
    ...createNoticeActivities(deps),
    ...createEmergencyActivities(deps),
    ...createPlanActivities(deps),
    ...createDeviceActivities(deps),
    ...createBatchActivities(deps),
    ...createTicketActivities(deps),
    ...createComplianceActivities(deps),
    ...createAlertActivities(deps),
    ...createIntelActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;

/** The deps with their card publisher, built from the notifiers when not given (flush it at shutdown). */
export function withPublisher(input: ActivityDeps): ActivityDeps & { publisher: CardPublisher } {
  if (input.publisher) return { ...input, publisher: input.publisher };
  return {
    ...input,
    publisher: new CardPublisher({
      store: input.store,
      notifiers: input.notifiers,
      log: input.log,
      ...(input.timing?.cardUpdateMs !== undefined
        ? { updateIntervalMs: input.timing.cardUpdateMs }
        : {}),
    }),
  };
}
