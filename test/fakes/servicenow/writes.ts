/**
 * Inserts and updates with the rules a base instance enforces on them: the change state
 * model ("State model - Can change state?" aborts a skip), Close code and Close notes
 * mandatory for a Closed change (data policy), journal fields appended as entries,
 * closed_at/active kept in step with the state, incident priority from impact × urgency.
 */
import type { FakeResponse } from '../http/server.js';
import { mandatoryMissing, stateModelAbort } from './bodies.js';
import type { FakeDb } from './db.js';
import { canMove, glideNow, priority, type Row, type TableDef } from './model.js';

/** The sys_id of the fake's "State model - Can change state?" business rule. */
const STATE_RULE = 'b9ae4fc85f201200ac5b1a1b5f6d1e14';

type Body = Record<string, unknown>;

/** Request values as stored: the instance keeps strings; JSON numbers and booleans become text. */
function strings(def: TableDef, body: Body): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(body)) {
    if (!def.fields.includes(k) || k.startsWith('sys_') || k === 'number') continue;
    // Numbers and booleans stringify as the instance stores them ("2", "true").
    out[k] = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}

function checkChange(def: TableDef, before: Row, after: Row): FakeResponse | undefined {
  if (def.name !== 'change_request') return undefined;
  if (!canMove(after.type || 'normal', before.state ?? '-5', after.state ?? '')) {
    return stateModelAbort(def.name, STATE_RULE);
  }
  if (after.state === '3') {
    const missing = [
      ...(after.close_code ? [] : ['Close code']),
      ...(after.close_notes ? [] : ['Close notes']),
    ];
    if (missing.length) return mandatoryMissing(missing);
  }
  return undefined;
}

function settle(def: TableDef, row: Row): void {
  if (def.name === 'incident') row.priority = priority(row.impact ?? '', row.urgency ?? '');
  const closed =
    (def.name === 'change_request' && (row.state === '3' || row.state === '4')) ||
    (def.name === 'incident' && ['7', '8'].includes(row.state ?? ''));
  row.active = closed ? 'false' : 'true';
  if (closed && !row.closed_at) row.closed_at = glideNow();
}

function journal(db: FakeDb, def: TableDef, row: Row, values: Row, user: Row): void {
  for (const j of def.journals) {
    if (values[j]) db.addJournal(def.name, row.sys_id!, j, values[j], user);
  }
}

export function insertRecord(
  db: FakeDb,
  def: TableDef,
  body: Body,
  user: Row,
): { row: Row } | { error: FakeResponse } {
  const values = strings(def, body);
  const defaults: Row =
    def.name === 'change_request'
      ? { state: '-5', type: 'normal', risk: '3', impact: '3', approval: 'not requested' }
      : def.name === 'incident'
        ? { state: '1', impact: '3', urgency: '3' }
        : {};
  const draft: Row = { ...defaults, ...values };
  // A new change starts in New; the state model aborts an insert in any other state.
  if (def.name === 'change_request' && draft.state !== '-5') {
    return { error: stateModelAbort(def.name, STATE_RULE) };
  }
  const row = db.insert(
    def,
    Object.fromEntries(Object.entries(draft).filter(([k]) => !def.journals.includes(k))),
    user,
  );
  settle(def, row);
  journal(db, def, row, values, user);
  return { row };
}

export function updateRecord(
  db: FakeDb,
  def: TableDef,
  row: Row,
  body: Body,
  user: Row,
): FakeResponse | undefined {
  const values = strings(def, body);
  const after: Row = { ...row };
  for (const [k, v] of Object.entries(values)) if (!def.journals.includes(k)) after[k] = v;
  const refused = checkChange(def, row, after);
  if (refused) return refused;
  Object.assign(row, after, {
    sys_updated_on: glideNow(),
    sys_updated_by: user.user_name ?? '',
    sys_mod_count: String(Number(row.sys_mod_count ?? '0') + 1),
  });
  settle(def, row);
  journal(db, def, row, values, user);
  return undefined;
}
