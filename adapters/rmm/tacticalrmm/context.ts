import type { Logger } from 'pino';
import type { TacticalClient } from './client.js';
import type { KeyLedger } from './ledger.js';

/** What the operation modules share: the REST client, the clock, the log and the key ledger. */
export interface TacticalContext {
  api: TacticalClient;
  now: () => number;
  log: Logger;
  ledger: KeyLedger;
  /** Tactical's default time zone (TACTICAL_TIME_ZONE, else read once from /core/settings/). */
  timeZone: () => Promise<string>;
}
