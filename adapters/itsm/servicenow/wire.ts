/**
 * ServiceNow's wire format as patchops reads it: the Table API (/api/now/table/{table})
 * answers `{"result": …}` with every field value a string (reference fields too, because
 * patchops always sends sysparm_exclude_reference_link=true), and fails with
 * `{"error":{"message","detail"},"status":"failure"}`. Source: ServiceNow docs, "Table API"
 * and "REST OAuth example" (api-reference/rest-apis/c_TableAPI, rest-api-explorer/…).
 */
import { z } from 'zod';

export const sysId = z.string().regex(/^[0-9a-f]{32}$/, 'expected a 32-character hex sys_id');

/** One record with the fields patchops asked for in sysparm_fields. */
export const ticketRow = z.object({
  sys_id: sysId,
  number: z.string().min(1),
  correlation_id: z.string(),
});
export type TicketRow = z.infer<typeof ticketRow>;

/** What advance/close read before moving a change. */
export const changeStateRow = z.object({
  sys_id: sysId,
  number: z.string().min(1),
  state: z.string().regex(/^-?\d+$/, 'expected a numeric state value'),
  type: z.string(),
});
export type ChangeStateRow = z.infer<typeof changeStateRow>;

export const groupRow = z.object({ sys_id: sysId, name: z.string() });

/** A record's work notes read with sysparm_display_value=true: the journal as one text. */
export const workNotesRow = z.object({ work_notes: z.string() });

export const one = <T extends z.ZodType>(row: T) => z.object({ result: row });
export const many = <T extends z.ZodType>(row: T) => z.object({ result: z.array(row) });

/** POST /oauth_token.do (client_credentials grant). */
export const tokenAnswer = z.object({
  access_token: z.string().min(1),
  token_type: z.string(),
  expires_in: z.coerce.number().positive(),
  scope: z.string().optional(),
});

/** The error body every Table API failure carries; `detail` may be null or absent. */
export const errorBody = z.object({
  error: z.object({ message: z.string().optional(), detail: z.string().nullish() }),
  status: z.literal('failure').optional(),
});

/** change_request.state values of the change state model (New … Canceled). */
export const CHANGE_STATE = {
  new: -5,
  assess: -4,
  authorize: -3,
  scheduled: -2,
  implement: -1,
  review: 0,
  closed: 3,
  canceled: 4,
} as const;

export const CHANGE_STATE_NAME: Readonly<Record<string, string>> = {
  '-5': 'New',
  '-4': 'Assess',
  '-3': 'Authorize',
  '-2': 'Scheduled',
  '-1': 'Implement',
  '0': 'Review',
  '3': 'Closed',
  '4': 'Canceled',
};

/**
 * The order each change type walks (ServiceNow docs, "State progression for normal,
 * standard, and emergency changes"): emergency skips Assess, standard skips Assess and
 * Authorize. The instance refuses any skip, so patchops moves one state at a time.
 */
const PATHS: Readonly<Record<string, readonly number[]>> = {
  normal: [-5, -4, -3, -2, -1, 0, 3],
  emergency: [-5, -3, -2, -1, 0, 3],
  standard: [-5, -2, -1, 0, 3],
};

/**
 * The states to PATCH, in order, to bring a change from `current` to `target`; empty when
 * it is there already or further along. Closed and Canceled are terminal.
 */
export function stepsTo(
  type: string,
  current: number,
  target: number,
): number[] | 'terminal' | 'unknown' {
  if (current === CHANGE_STATE.closed || current === CHANGE_STATE.canceled) return 'terminal';
  const path = PATHS[type]?.includes(current) ? PATHS[type] : PATHS.normal!;
  const from = path.indexOf(current);
  const to = path.indexOf(target);
  if (from < 0 || to < 0) return 'unknown';
  return to > from ? path.slice(from + 1, to + 1) : [];
}

const pad = (n: number) => String(n).padStart(2, '0');

/** ISO 8601 → "YYYY-MM-DD HH:mm:ss" in UTC, the Table API's format for date-time values. */
export function glideDateTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) throw new RangeError(`not an ISO 8601 date-time: ${iso}`);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
  );
}
