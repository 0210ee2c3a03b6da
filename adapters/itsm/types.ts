import type { ConnectionCheck, Diagnosis } from '../rmm/types.js';
import { HttpFailure } from '../http/errors.js';

/**
 * Where a client's tickets go, from its policy's `tickets` section; each adapter reads
 * the fields it understands and falls back to its own settings for the rest.
 */
export interface TicketRouting {
  /** ServiceNow assignment group (name or sys_id). */
  assignmentGroup?: string;
  /** Jira project key. */
  project?: string;
  /** GitHub repository, "owner/name". */
  repo?: string;
  /** Jira labels / GitHub labels added to every ticket of the client. */
  labels?: string[];
}

/** One patch as a ticket lists it. */
export interface TicketPatch {
  id: string;
  title: string;
  severity: string;
  /** The remediation tier that made it urgent, e.g. "critical", when known. */
  tier?: string;
}

/** A change ticket opened when a rollout is planned. */
export interface TicketDraft {
  rolloutId: string;
  clientId: string;
  /** e.g. "Patch rollout acme-2026-12-06: 14 patches on 96 devices". */
  title: string;
  /** Plain text; adapters render it (ADF for Jira, Markdown for GitHub). */
  description: string;
  /** Device names, at most a few hundred; `deviceCount` is the whole number. */
  devices: string[];
  deviceCount: number;
  patches: TicketPatch[];
  /** An emergency rollout (KEV-listed zero-day): an emergency change where the ITSM has one. */
  emergency: boolean;
  /** From the patches' tier: critical → high. */
  risk: 'high' | 'moderate' | 'low';
  /** 1 high, 2 medium, 3 low (ServiceNow's scale). */
  impact: 1 | 2 | 3;
  /** The first maintenance window the rollout may use and the last, ISO 8601; null when unknown. */
  plannedStart: string | null;
  plannedEnd: string | null;
  routing: TicketRouting;
}

/** An incident raised when a rollout halts (circuit breaker, failed gate). */
export interface IncidentDraft {
  rolloutId: string;
  clientId: string;
  title: string;
  description: string;
  /** 1 high, 2 medium, 3 low. */
  urgency: 1 | 2 | 3;
  routing: TicketRouting;
}

/** A ticket as patchops refers to it afterwards. */
export interface TicketRef {
  /** The ITSM's stable id: a ServiceNow sys_id, a Jira issue key, "owner/repo#12" on GitHub. */
  externalId: string;
  /** What people call it: CHG0030001, OPS-12, owner/repo#12. */
  number: string;
  /** A link for chat cards and `patchops status`; null when the ITSM has none. */
  url: string | null;
}

/**
 * How far the change has come. ServiceNow walks New → Assess → Authorize → Scheduled
 * (approved) → Implement (implementing); Jira and GitHub map these to transitions/labels.
 */
export type TicketStage = 'approved' | 'implementing';

/** How a rollout ended, as the ticket is closed. */
export type TicketClosure = {
  /** ServiceNow's close codes; `cancelled` moves the change to Canceled instead. */
  code: 'successful' | 'successful_issues' | 'unsuccessful' | 'cancelled';
  /** Installed, failed and pending-reboot numbers in words. */
  notes: string;
};

/** Every write names its key; `recheck` says an earlier attempt may have done it already. */
export interface WriteOptions {
  /** Stable across retries: rollout id + step. Stored in the ticket where the ITSM allows. */
  key: string;
  /**
   * True when an earlier attempt of the same write may have reached the ITSM (an activity
   * retry): the adapter looks for it by `key` before writing, so nothing is done twice.
   */
  recheck: boolean;
}

/**
 * The contract every ITSM (ServiceNow, Jira, GitHub issues, the log) fulfils. Activities
 * call it; it never touches the database. Every method is safe to call again with the
 * same key: creates are found by their correlation id, comments by a marker holding the
 * key, state changes are read before they are made.
 */
export interface ItsmAdapter {
  /** The registry key this adapter was built from, e.g. "servicenow". */
  readonly kind: string;

  /**
   * Opens the change ticket of a rollout, storing `opts.key` as its correlation id
   * (ServiceNow correlation_id, a Jira label, a marker in the GitHub body). With
   * `recheck`, and whenever a create's outcome is unknown, it first looks the ticket up
   * by that id and returns it instead of opening a second one.
   */
  open(draft: TicketDraft, opts: WriteOptions): Promise<TicketRef>;

  /** Adds a work note / comment once per key. */
  comment(ticket: TicketRef, text: string, opts: WriteOptions): Promise<void>;

  /**
   * Moves the change forward to `stage`, one state at a time where the ITSM refuses to
   * skip; does nothing when it is there already or further. `note` goes with the move.
   */
  advance(ticket: TicketRef, stage: TicketStage, note: string, opts: WriteOptions): Promise<void>;

  /**
   * Opens an incident linked to the change (ServiceNow incident caused by the change; a
   * linked issue in Jira and GitHub), found again by `opts.key` like `open`.
   */
  openIncident(change: TicketRef, draft: IncidentDraft, opts: WriteOptions): Promise<TicketRef>;

  /** Closes the change with its close code and notes; a closed or cancelled one is left alone. */
  close(ticket: TicketRef, closure: TicketClosure, opts: WriteOptions): Promise<void>;

  /**
   * Checks credentials and reachability with one cheap call. Never throws for an
   * expected failure: it returns `ok: false` and names the variable to fix.
   */
  testConnection(): Promise<ConnectionCheck>;

  /** Optional further checks for `patchops doctor` (e.g. the configured transitions exist). */
  diagnose?(): Promise<Diagnosis[]>;
}

export type ItsmErrorCode =
  | 'AUTH_FAILED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'INVALID_REQUEST'
  | 'INVALID_TRANSITION'
  | 'WIRE_FORMAT'
  | 'CONFIG_INVALID'
  | 'UNKNOWN_ADAPTER'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE'
  | 'OUTCOME_UNKNOWN';

const RETRYABLE: ReadonlySet<ItsmErrorCode> = new Set([
  'RATE_LIMITED',
  'UNAVAILABLE',
  'OUTCOME_UNKNOWN',
]);

/**
 * Every failure an ITSM adapter reports on purpose. Callers branch on `code`; activities
 * turn a non-retryable one into a non-retryable ApplicationFailure.
 */
export class ItsmError extends Error {
  override readonly name = 'ItsmError';
  readonly retryable: boolean;

  constructor(
    readonly code: ItsmErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.retryable = RETRYABLE.has(code);
  }
}

/** The ItsmError code for each way an HTTP call fails (octokit's failures map the same way). */
export const ITSM_CODE_FOR_HTTP: Record<HttpFailure['kind'], ItsmErrorCode> = {
  auth: 'AUTH_FAILED',
  forbidden: 'FORBIDDEN',
  not_found: 'NOT_FOUND',
  conflict: 'INVALID_REQUEST',
  bad_request: 'INVALID_REQUEST',
  rate_limited: 'RATE_LIMITED',
  unavailable: 'UNAVAILABLE',
  outcome_unknown: 'OUTCOME_UNKNOWN',
  wire_format: 'WIRE_FORMAT',
};

/** Turns the shared HTTP plumbing's failure into an ItsmError (anything else passes through). */
export function toItsmError(err: unknown): unknown {
  if (err instanceof HttpFailure)
    return new ItsmError(ITSM_CODE_FOR_HTTP[err.kind], err.message, { cause: err });
  return err;
}
