import type { Logger } from 'pino';
import type { Store } from '../store/index.js';
import { createAuditActivities } from './audit.js';

export interface ActivityDeps {
  store: Store;
  log: Logger;
}

/** Builds every activity from injected dependencies; the worker is the only caller in production. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createAuditActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
