import { AuditRepository } from './audit.js';
import type { Pool } from './pool.js';

export type { Pool } from './pool.js';
export { createPool, ping } from './pool.js';
export { AuditRepository, type AuditEvent, type AuditEventInput } from './audit.js';

/** Every repository over one pool; activities receive this, never a raw pool. */
export interface Store {
  pool: Pool;
  audit: AuditRepository;
}

export function createStore(pool: Pool): Store {
  return { pool, audit: new AuditRepository(pool) };
}
