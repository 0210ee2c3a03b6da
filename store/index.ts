import { AuditRepository } from './audit.js';
import { CardRepository } from './cards.js';
import { ChatRepository } from './chat.js';
import { ComplianceRepository } from './compliance.js';
import { InventoryRepository } from './inventory.js';
import { RecordsRepository } from './records.js';
import { RolloutRepository } from './rollouts.js';
import { TicketRepository } from './tickets.js';
import { ClaimRepository } from './claims.js';
import type { Pool } from './pool.js';

export type { Pool } from './pool.js';
export { createPool, ping } from './pool.js';
export { AuditRepository, type AuditEvent, type AuditEventInput } from './audit.js';
export { InventoryRepository } from './inventory.js';
export * from './rollouts.js';
export { RecordsRepository } from './records.js';
export { ComplianceRepository, type ComplianceRow } from './compliance.js';
export * from './chat.js';
export * from './cards.js';
export { TicketRepository, type TicketRow, type TicketFacts } from './tickets.js';
export { ClaimRepository, type Claim } from './claims.js';

/** Every repository over one pool; activities receive this, never a raw pool. */
export interface Store {
  pool: Pool;
  audit: AuditRepository;
  inventory: InventoryRepository;
  rollouts: RolloutRepository;
  records: RecordsRepository;
  compliance: ComplianceRepository;
  chat: ChatRepository;
  cards: CardRepository;
  tickets: TicketRepository;
  claims: ClaimRepository;
}

export function createStore(pool: Pool): Store {
  return {
    pool,
    audit: new AuditRepository(pool),
    inventory: new InventoryRepository(pool),
    rollouts: new RolloutRepository(pool),
    records: new RecordsRepository(pool),
    compliance: new ComplianceRepository(pool),
    chat: new ChatRepository(pool),
    cards: new CardRepository(pool),
    tickets: new TicketRepository(pool),
    claims: new ClaimRepository(pool),
  };
}
