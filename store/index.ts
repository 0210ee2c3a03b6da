import { AlertRepository } from './alerts.js';
import { AuditRepository } from './audit.js';
import { BatchRepository } from './batches.js';
import { CardRepository } from './cards.js';
import { ChatRepository } from './chat.js';
import { ComplianceRepository } from './compliance.js';
import { InventoryRepository } from './inventory.js';
import { RecordsRepository } from './records.js';
import { RolloutRepository } from './rollouts.js';
import { TicketRepository } from './tickets.js';
import { ClaimRepository } from './claims.js';
import { IntelRepository } from './intel.js';
import { RiskRepository } from './risk.js';
import type { Pool } from './pool.js';

export type { Pool } from './pool.js';
export { createPool, ping } from './pool.js';
export { AuditRepository, type AuditEvent, type AuditEventInput } from './audit.js';
export { InventoryRepository } from './inventory.js';
export * from './rollouts.js';
export { RecordsRepository } from './records.js';
export {
  ComplianceRepository,
  type ComplianceRow,
  type ComplianceKpis,
  type ComplianceSnapshot,
} from './compliance.js';
export {
  AlertRepository,
  type AlertKind,
  type AlertCheck,
  type ComplianceAlert,
} from './alerts.js';
export * from './chat.js';
export * from './cards.js';
export { TicketRepository, type TicketRow, type TicketFacts } from './tickets.js';
export { ClaimRepository, type Claim } from './claims.js';
export * from './batches.js';
export * from './intel.js';
export { RiskRepository } from './risk.js';

/** Every repository over one pool; activities receive this, never a raw pool. */
export interface Store {
  pool: Pool;
  audit: AuditRepository;
  inventory: InventoryRepository;
  rollouts: RolloutRepository;
  records: RecordsRepository;
  compliance: ComplianceRepository;
  alerts: AlertRepository;
  chat: ChatRepository;
  cards: CardRepository;
  tickets: TicketRepository;
  claims: ClaimRepository;
  /** The batched rollout engine's batches, device steps and outcomes. */
  batches: BatchRepository;
  /** Vulnerability intelligence (KEV, EPSS, NVD, Debian); `intel.lookup(cves)` is the IntelLookup. */
  intel: IntelRepository;
  /** Risk tiers, due dates and deployment order per device × patch. */
  risk: RiskRepository;
}

export function createStore(pool: Pool): Store {
  const audit = new AuditRepository(pool);
  return {
    pool,
    audit,
    batches: new BatchRepository(pool, audit),
    inventory: new InventoryRepository(pool),
    rollouts: new RolloutRepository(pool),
    records: new RecordsRepository(pool),
    compliance: new ComplianceRepository(pool),
    alerts: new AlertRepository(pool),
    chat: new ChatRepository(pool),
    cards: new CardRepository(pool),
    tickets: new TicketRepository(pool),
    claims: new ClaimRepository(pool),
    intel: new IntelRepository(pool),
    risk: new RiskRepository(pool),
  };
}
