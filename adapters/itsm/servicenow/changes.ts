import type { Logger } from 'pino';
import { ItsmError, type TicketClosure, type TicketRef, type TicketStage } from '../types.js';
import { isOutcomeUnknown, toServiceNowError } from './errors.js';
import { withMarker } from './render.js';
import type { ServiceNowAuth } from './settings.js';
import type { TableApi } from './table.js';
import {
  CHANGE_STATE,
  CHANGE_STATE_NAME,
  changeStateRow,
  stepsTo,
  type ChangeStateRow,
} from './wire.js';

const STATE_FIELDS = ['sys_id', 'number', 'state', 'type'] as const;
const STAGE_STATE: Record<TicketStage, number> = {
  approved: CHANGE_STATE.scheduled,
  implementing: CHANGE_STATE.implement,
};
const name = (state: number | string) => CHANGE_STATE_NAME[String(state)] ?? `state ${state}`;

/**
 * Moving a change through its state model: read where it is, then PATCH one state at a
 * time (the instance refuses skips), so a retry resumes where the last attempt stopped.
 */
export class ChangeWalker {
  constructor(
    private readonly api: TableApi,
    private readonly auth: ServiceNowAuth,
    private readonly log: Logger,
  ) {}

  async read(ticket: TicketRef): Promise<ChangeStateRow> {
    return this.api
      .get('change_request', ticket.externalId, changeStateRow, STATE_FIELDS)
      .catch((e: unknown) => {
        throw toServiceNowError(e, this.auth);
      });
  }

  /** Advances to `stage`; the note (marked with the key) rides on the last move. */
  async advance(ticket: TicketRef, stage: TicketStage, note: string, key: string): Promise<number> {
    const row = await this.read(ticket);
    const target = STAGE_STATE[stage];
    const steps = this.plan(row, target);
    for (const [i, state] of steps.entries()) {
      const last = i === steps.length - 1;
      await this.move(row, state, last ? { work_notes: withMarker(note, key) } : {}, !last);
      row.state = String(state);
    }
    return steps.length;
  }

  /**
   * Closes the change: Review then Closed with code and notes, or Canceled for a cancelled
   * rollout. A change already Closed or Canceled is left as it is.
   */
  async close(ticket: TicketRef, closure: TicketClosure): Promise<number> {
    const row = await this.read(ticket);
    const current = Number(row.state);
    if (current === CHANGE_STATE.closed || current === CHANGE_STATE.canceled) {
      this.log.info({ number: row.number, state: name(current) }, 'change already closed');
      return 0;
    }
    let { code, notes } = closure;
    if (code === 'cancelled') {
      if (current !== CHANGE_STATE.review) {
        await this.move(row, CHANGE_STATE.canceled, { close_notes: notes }, true);
        return 1;
      }
      // The instance disables Cancel in Review (the work is done): close it as unsuccessful.
      code = 'unsuccessful';
      notes = `Rollout cancelled after implementation. ${notes}`;
    }
    const steps = this.plan(row, CHANGE_STATE.closed);
    for (const state of steps) {
      const closing = state === CHANGE_STATE.review || state === CHANGE_STATE.closed;
      await this.move(row, state, closing ? { close_code: code, close_notes: notes } : {}, true);
      row.state = String(state);
    }
    return steps.length;
  }

  private plan(row: ChangeStateRow, target: number): number[] {
    const steps = stepsTo(row.type, Number(row.state), target);
    if (steps === 'terminal') {
      this.log.warn(
        { number: row.number, state: name(row.state), target: name(target) },
        'change is closed or canceled; leaving it',
      );
      return [];
    }
    if (steps === 'unknown') {
      throw new ItsmError(
        'INVALID_TRANSITION',
        `ServiceNow change ${row.number} is in ${name(row.state)} (type ${row.type}), which patchops cannot walk to ${name(target)}`,
      );
    }
    return steps;
  }

  /**
   * One PATCH. A state set (with fields) is safe to repeat; one carrying a work note is
   * not, so when its answer is lost the change is read again: at `state` means it happened.
   */
  private async move(
    row: ChangeStateRow,
    state: number,
    extra: Record<string, string>,
    idempotent: boolean,
  ) {
    const transition = { number: row.number, from: name(row.state), to: name(state) };
    try {
      await this.api.update(
        'change_request',
        row.sys_id,
        { state: String(state), ...extra },
        changeStateRow,
        STATE_FIELDS,
        idempotent,
      );
    } catch (err) {
      if (isOutcomeUnknown(err)) {
        const now = await this.read({ externalId: row.sys_id, number: row.number, url: null });
        if (Number(now.state) === state) return;
      }
      throw toServiceNowError(err, this.auth, transition);
    }
    this.log.info({ ...transition }, 'change moved');
  }
}
