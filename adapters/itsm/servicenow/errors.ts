import { HttpFailure } from '../../http/errors.js';
import { ItsmError, toItsmError } from '../types.js';
import { credentialVariables, type ServiceNowAuth } from './settings.js';
import { errorBody } from './wire.js';

/** Roles that let an integration user do what patchops does (ServiceNow base system). */
export const ROLES_HINT =
  'Give the ServiceNow user the itil role (or sn_change_read + sn_change_write on change_request and sn_incident_write on incident)';

/** The instance's own `error.detail`, when the body has the documented shape. */
export function vendorDetail(err: HttpFailure): string {
  const parsed = errorBody.safeParse(err.details.body);
  if (!parsed.success) return '';
  return [parsed.data.error.message, parsed.data.error.detail].filter(Boolean).join(': ');
}

/**
 * HttpFailure → ItsmError with the fix in the message: the variables for a 401, the roles
 * for a 403. `transition` names a state move; a business rule aborting it (the state model's
 * "Can change state?" rule) is INVALID_TRANSITION, which no retry will change.
 */
export function toServiceNowError(
  err: unknown,
  auth: ServiceNowAuth,
  transition?: { number: string; from: string; to: string },
): unknown {
  if (err instanceof ItsmError || !(err instanceof HttpFailure)) return toItsmError(err);
  const detail = vendorDetail(err);
  if (transition && err.status === 403 && /aborted by Business Rule/i.test(detail)) {
    return new ItsmError(
      'INVALID_TRANSITION',
      `ServiceNow refused to move ${transition.number} from ${transition.from} to ${transition.to} (${detail}); a state model or business rule on the instance forbids it`,
      { cause: err },
    );
  }
  if (err.kind === 'auth') {
    return new ItsmError(
      'AUTH_FAILED',
      `${err.message}. ServiceNow refused the credentials: check ${credentialVariables(auth)}`,
      { cause: err },
    );
  }
  if (err.kind === 'forbidden' && !/Data Policy Exception/i.test(detail)) {
    return new ItsmError('FORBIDDEN', `${err.message}. ${ROLES_HINT}`, { cause: err });
  }
  if (err.kind === 'forbidden') {
    // A data policy (a mandatory field) is a refusal of this request, not of the user.
    return new ItsmError('INVALID_REQUEST', err.message, { cause: err });
  }
  return toItsmError(err);
}

/** Whether an error means "the write may or may not have happened". */
export const isOutcomeUnknown = (err: unknown) =>
  err instanceof HttpFailure && err.kind === 'outcome_unknown';
