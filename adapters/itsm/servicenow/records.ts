import type { Logger } from 'pino';
import { ItsmError, type TicketRef } from '../types.js';
import { isOutcomeUnknown, toServiceNowError } from './errors.js';
import { correlationId, noteMarker, ticketUrl, withMarker, type TicketTable } from './render.js';
import type { ServiceNowSettings } from './settings.js';
import type { TableApi } from './table.js';
import { groupRow, sysId, ticketRow, workNotesRow, type TicketRow } from './wire.js';

const TICKET_FIELDS = ['sys_id', 'number', 'correlation_id'] as const;

/**
 * Creating and finding records by correlation id, work notes by marker, and assignment
 * groups by name: the idempotent building blocks the adapter's operations are made of.
 */
export class Records {
  private readonly groups = new Map<string, string>();

  constructor(
    private readonly api: TableApi,
    private readonly settings: ServiceNowSettings,
    private readonly log: Logger,
  ) {}

  fail(err: unknown): never {
    throw toServiceNowError(err, this.settings.auth);
  }

  ref(table: TicketTable, row: TicketRow): TicketRef {
    return {
      externalId: row.sys_id,
      number: row.number,
      url: ticketUrl(this.settings.instanceUrl, table, row.sys_id),
    };
  }

  /** The oldest record carrying this key's correlation id, if any. */
  async findByKey(table: TicketTable, key: string): Promise<TicketRow | undefined> {
    const cid = correlationId(key);
    const rows = await this.api
      .find(table, `correlation_id=${cid}^ORDERBYsys_created_on`, ticketRow, TICKET_FIELDS, 1)
      .catch((e: unknown) => this.fail(e));
    // The instance ignores a query condition it cannot read; never take a stranger's record.
    return rows.find((r) => r.correlation_id === cid);
  }

  /**
   * Creates a record stamped with the key, unless `recheck` finds it; a create whose answer
   * was lost is looked up at once, and if it is not there yet the caller retries (with
   * recheck) rather than this creating a second one.
   */
  async createOnce(
    table: TicketTable,
    key: string,
    recheck: boolean,
    body: Record<string, string>,
  ): Promise<{ row: TicketRow; created: boolean }> {
    if (recheck) {
      const found = await this.findByKey(table, key);
      if (found) return { row: found, created: false };
    }
    const stamped = {
      ...body,
      correlation_id: correlationId(key),
      correlation_display: 'patchops',
    };
    try {
      return {
        row: await this.api.create(table, stamped, ticketRow, TICKET_FIELDS),
        created: true,
      };
    } catch (err) {
      if (!isOutcomeUnknown(err)) this.fail(err);
      this.log.warn({ table, key }, 'create outcome unknown; looking it up');
      const found = await this.findByKey(table, key);
      if (found) return { row: found, created: true };
      this.fail(err);
    }
  }

  /** Whether the record's work notes hold the key's marker. */
  async hasNote(table: TicketTable, id: string, key: string): Promise<boolean> {
    // The record's own journal, read as display value: sys_journal_field is readable by
    // admins only on a default instance, and an ACL-hidden journal row would look absent.
    const row = await this.api
      .get(table, id, workNotesRow, ['work_notes'], { displayValue: true })
      .catch((e: unknown) => this.fail(e));
    return row.work_notes.includes(noteMarker(key));
  }

  /** Adds a work note once per key. */
  async noteOnce(table: TicketTable, id: string, text: string, key: string, recheck: boolean) {
    if (recheck && (await this.hasNote(table, id, key))) return false;
    try {
      await this.api.update(
        table,
        id,
        { work_notes: withMarker(text, key) },
        ticketRow,
        TICKET_FIELDS,
        false,
      );
      return true;
    } catch (err) {
      if (!isOutcomeUnknown(err)) this.fail(err);
      if (await this.hasNote(table, id, key)) return true;
      this.fail(err);
    }
  }

  /** A group's sys_id: as given when it is one, else looked up by name once per adapter. */
  async assignmentGroup(name: string | undefined): Promise<Record<string, string>> {
    if (!name) return {};
    if (sysId.safeParse(name).success) return { assignment_group: name };
    const known = this.groups.get(name);
    if (known) return { assignment_group: known };
    const rows = await this.api
      .find('sys_user_group', `name=${name}`, groupRow, ['sys_id', 'name'], 2)
      .catch((e: unknown) => this.fail(e));
    const exact = rows.filter((r) => r.name === name);
    if (exact.length !== 1) {
      throw new ItsmError(
        'INVALID_REQUEST',
        `ServiceNow assignment group "${name}" ${exact.length ? 'matches several groups' : 'was not found'}: set SERVICENOW_ASSIGNMENT_GROUP or the policy's tickets.assignmentGroup to an existing group's name or sys_id`,
      );
    }
    this.groups.set(name, exact[0]!.sys_id);
    return { assignment_group: exact[0]!.sys_id };
  }
}
