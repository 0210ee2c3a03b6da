/**
 * The tables the fake ServiceNow instance keeps, their fields, choice labels and the change
 * state model. Sources: ServiceNow docs (ServiceNow/ServiceNowDocs, australia):
 * api-reference/rest-apis/c_TableAPI.md (record shapes: every value a string, reference
 * fields as {link, value}, journal fields empty in actual values),
 * it-service-management/change-management/c_ChangeStateModel.md and
 * normal-standard-emergency-states.md (states, values, the order per change type, Cancel
 * disabled in Review, none from Closed).
 */

export type Row = Record<string, string>;

export interface TableDef {
  name: string;
  /** Number prefix and first number (CHG0030001, INC0010001), for task tables. */
  number?: { prefix: string; first: number };
  fields: readonly string[];
  /** Reference fields → the table they point at. */
  references: Readonly<Record<string, string>>;
  /** Journal fields: written as entries in sys_journal_field, read back only as display values. */
  journals: readonly string[];
  /** Roles that may read / write (admin always may); empty read = any signed-in user. */
  read: readonly string[];
  write: readonly string[];
}

const TASK = [
  'sys_id',
  'number',
  'short_description',
  'description',
  'state',
  'impact',
  'urgency',
  'priority',
  'active',
  'assignment_group',
  'assigned_to',
  'opened_by',
  'opened_at',
  'closed_at',
  'close_notes',
  'correlation_id',
  'correlation_display',
  'work_notes',
  'comments',
  'sys_class_name',
  'sys_created_on',
  'sys_created_by',
  'sys_updated_on',
  'sys_updated_by',
  'sys_mod_count',
] as const;

export const TABLES: Readonly<Record<string, TableDef>> = {
  change_request: {
    name: 'change_request',
    number: { prefix: 'CHG', first: 30001 },
    fields: [...TASK, 'type', 'risk', 'start_date', 'end_date', 'close_code', 'approval'],
    references: {
      assignment_group: 'sys_user_group',
      assigned_to: 'sys_user',
      opened_by: 'sys_user',
    },
    journals: ['work_notes', 'comments'],
    read: ['itil', 'sn_change_read', 'sn_change_write'],
    write: ['itil', 'sn_change_write'],
  },
  incident: {
    name: 'incident',
    number: { prefix: 'INC', first: 10001 },
    fields: [...TASK, 'caused_by', 'rfc', 'caller_id', 'close_code', 'category'],
    references: {
      assignment_group: 'sys_user_group',
      assigned_to: 'sys_user',
      opened_by: 'sys_user',
      caller_id: 'sys_user',
      caused_by: 'change_request',
      rfc: 'change_request',
    },
    journals: ['work_notes', 'comments'],
    read: ['itil', 'sn_incident_read', 'sn_incident_write'],
    write: ['itil', 'sn_incident_write'],
  },
  sys_journal_field: {
    name: 'sys_journal_field',
    fields: [
      'sys_id',
      'element',
      'element_id',
      'name',
      'value',
      'sys_created_on',
      'sys_created_by',
    ],
    references: {},
    journals: [],
    read: ['admin'],
    write: ['admin'],
  },
  sys_user_group: {
    name: 'sys_user_group',
    fields: ['sys_id', 'name', 'description', 'active'],
    references: {},
    journals: [],
    read: [],
    write: ['admin'],
  },
  sys_user: {
    name: 'sys_user',
    fields: ['sys_id', 'user_name', 'name', 'active'],
    references: {},
    journals: [],
    read: [],
    write: ['admin'],
  },
};

export const CHANGE_STATES: Readonly<Record<string, string>> = {
  '-5': 'New',
  '-4': 'Assess',
  '-3': 'Authorize',
  '-2': 'Scheduled',
  '-1': 'Implement',
  '0': 'Review',
  '3': 'Closed',
  '4': 'Canceled',
};

export const INCIDENT_STATES: Readonly<Record<string, string>> = {
  '1': 'New',
  '2': 'In Progress',
  '3': 'On Hold',
  '6': 'Resolved',
  '7': 'Closed',
  '8': 'Canceled',
};

/** Choice labels per field (display values). */
export const CHOICES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  type: { normal: 'Normal', emergency: 'Emergency', standard: 'Standard' },
  risk: { '1': 'Very High', '2': 'High', '3': 'Moderate', '4': 'Low' },
  impact: { '1': '1 - High', '2': '2 - Medium', '3': '3 - Low' },
  urgency: { '1': '1 - High', '2': '2 - Medium', '3': '3 - Low' },
  priority: {
    '1': '1 - Critical',
    '2': '2 - High',
    '3': '3 - Moderate',
    '4': '4 - Low',
    '5': '5 - Planning',
  },
  close_code: {
    successful: 'Successful',
    successful_issues: 'Successful with issues',
    unsuccessful: 'Unsuccessful',
  },
};

/** Forward moves per change type; any open state may also go to Canceled except Review. */
const FORWARD: Readonly<Record<string, readonly string[]>> = {
  normal: ['-5', '-4', '-3', '-2', '-1', '0', '3'],
  emergency: ['-5', '-3', '-2', '-1', '0', '3'],
  standard: ['-5', '-2', '-1', '0', '3'],
};

/** Whether the state model lets a change of `type` move from `from` to `to`. */
export function canMove(type: string, from: string, to: string): boolean {
  if (from === to) return true;
  if (from === '3' || from === '4') return false;
  if (to === '4') return from !== '0';
  const path = FORWARD[type] ?? FORWARD.normal!;
  const i = path.indexOf(from);
  // "Revert to New" from Assess (normal) or Authorize (emergency), as the docs describe.
  if (to === '-5')
    return (type === 'normal' && from === '-4') || (type === 'emergency' && from === '-3');
  return i >= 0 && path[i + 1] === to;
}

/** Incident priority from impact × urgency (the base system's priority lookup). */
export function priority(impact: string, urgency: string): string {
  const sum = Number(impact || 3) + Number(urgency || 3);
  return String(Math.min(5, Math.max(1, sum - 1)));
}

const pad = (n: number) => String(n).padStart(2, '0');
/** "YYYY-MM-DD HH:mm:ss" UTC, the Table API's date-time format. */
export function glideNow(d = new Date()): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}
