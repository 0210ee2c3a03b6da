import { RmmError, type RebootPromptResult } from '../types.js';

/**
 * Idempotency keys seen by this process. Tactical stores no key of its own, so a replay in
 * another process is recognised from the agent's state instead (RetryHints); this ledger
 * answers replays within one process at once and catches a key reused for other arguments.
 */
type Entry =
  | { kind: 'deploy' | 'reboot'; deviceId: string; args: string; jobId: string }
  | { kind: 'prompt'; deviceId: string; args: string; answer: RebootPromptResult };

/** Enough for a long-running worker's recent keys; older replays are rechecked on Tactical. */
const MAX_ENTRIES = 50_000;

export class KeyLedger {
  private readonly entries = new Map<string, Entry>();

  /** The earlier answer for this key, or undefined; throws IDEMPOTENCY_CONFLICT on a mismatch. */
  replay(key: string, kind: Entry['kind'], deviceId: string, args: string): Entry | undefined {
    if (!key) throw new RmmError('INVALID_ARGUMENT', 'idempotencyKey must not be empty');
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.kind !== kind || e.deviceId !== deviceId || e.args !== args) {
      throw new RmmError(
        'IDEMPOTENCY_CONFLICT',
        `Idempotency key "${key}" was already used for a different ${e.kind} (device ${e.deviceId})`,
      );
    }
    return e;
  }

  remember(key: string, entry: Entry): void {
    this.entries.set(key, entry);
    if (this.entries.size > MAX_ENTRIES) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }
}
