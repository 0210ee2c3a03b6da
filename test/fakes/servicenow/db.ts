/**
 * The fake instance's records: task tables with numbers and sys_ids, journal entries in
 * sys_journal_field, choice and reference display values, and rendering of a record the
 * way the Table API answers (sysparm_fields, sysparm_display_value, reference links).
 */
import { randomBytes } from 'node:crypto';
import {
  CHANGE_STATES,
  CHOICES,
  INCIDENT_STATES,
  TABLES,
  glideNow,
  type Row,
  type TableDef,
} from './model.js';

export interface FakeUser {
  username: string;
  password: string;
  roles: string[];
  /** Display name, shown in journal headers. */
  name?: string;
}

export const newSysId = () => randomBytes(16).toString('hex');

export class FakeDb {
  readonly rows = new Map<string, Row[]>(Object.keys(TABLES).map((t) => [t, []]));
  private readonly counters = new Map<string, number>();

  constructor(readonly url: () => string) {}

  table(name: string): Row[] {
    return this.rows.get(name)!;
  }

  byId(table: string, id: string): Row | undefined {
    return this.table(table).find((r) => r.sys_id === id);
  }

  /** Inserts a row with every field of the table present (empty string when unset). */
  insert(def: TableDef, values: Row, user: Row): Row {
    const now = glideNow();
    const row: Row = Object.fromEntries(def.fields.map((f) => [f, '']));
    for (const [k, v] of Object.entries(values)) if (def.fields.includes(k)) row[k] = v;
    row.sys_id = newSysId();
    if (def.number) {
      const n = this.counters.get(def.name) ?? def.number.first;
      this.counters.set(def.name, n + 1);
      row.number = `${def.number.prefix}${String(n).padStart(7, '0')}`;
    }
    Object.assign(row, {
      sys_created_on: now,
      sys_updated_on: now,
      sys_created_by: user.user_name ?? '',
      sys_updated_by: user.user_name ?? '',
      sys_mod_count: '0',
    });
    if (def.fields.includes('sys_class_name')) row.sys_class_name = def.name;
    if (def.fields.includes('opened_by')) row.opened_by = user.sys_id ?? '';
    if (def.fields.includes('opened_at')) row.opened_at = now;
    for (const j of def.journals) row[j] = '';
    this.table(def.name).push(row);
    return row;
  }

  addJournal(table: string, id: string, element: string, value: string, user: Row): void {
    this.table('sys_journal_field').push({
      sys_id: newSysId(),
      element,
      element_id: id,
      name: table,
      value,
      sys_created_on: glideNow(),
      sys_created_by: user.user_name ?? '',
    });
  }

  /** Journal entries of one field of one record, oldest first. */
  journal(id: string, element: string): Row[] {
    return this.table('sys_journal_field').filter(
      (j) => j.element_id === id && j.element === element,
    );
  }

  display(def: TableDef, row: Row, field: string): string {
    const value = row[field] ?? '';
    if (def.journals.includes(field)) {
      const label = field === 'work_notes' ? 'Work notes' : 'Additional comments';
      return this.journal(row.sys_id!, field)
        .reverse()
        .map(
          (j) =>
            `${j.sys_created_on} - ${this.userName(j.sys_created_by!)} (${label})\n${j.value}\n\n`,
        )
        .join('');
    }
    if (field === 'state')
      return (def.name === 'incident' ? INCIDENT_STATES : CHANGE_STATES)[value] ?? value;
    if (CHOICES[field]?.[value]) return CHOICES[field][value];
    const target = def.references[field];
    if (target && value) {
      const ref = this.byId(target, value);
      return ref?.number || ref?.name || '';
    }
    return value;
  }

  private userName(userName: string): string {
    return this.table('sys_user').find((u) => u.user_name === userName)?.name ?? userName;
  }

  /** A record as the Table API returns it. */
  render(def: TableDef, row: Row, params: URLSearchParams): Record<string, unknown> {
    const asked = params
      .get('sysparm_fields')
      ?.split(',')
      .map((f) => f.trim())
      .filter(Boolean);
    const fields = asked?.length ? asked.filter((f) => def.fields.includes(f)) : def.fields;
    const mode = params.get('sysparm_display_value') ?? 'false';
    const noLinks = params.get('sysparm_exclude_reference_link') === 'true';
    const out: Record<string, unknown> = {};
    for (const f of fields) {
      const value = def.journals.includes(f) ? '' : (row[f] ?? '');
      const shown = this.display(def, row, f);
      const target = def.references[f];
      const link = target && value ? `${this.url()}/api/now/table/${target}/${value}` : undefined;
      if (mode === 'all') {
        out[f] = { display_value: shown, value, ...(link && !noLinks ? { link } : {}) };
      } else {
        const v = mode === 'true' ? shown : value;
        out[f] = link && !noLinks ? { [mode === 'true' ? 'display_value' : 'value']: v, link } : v;
      }
    }
    return out;
  }
}
