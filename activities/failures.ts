import { ApplicationFailure } from '@temporalio/common';
import { ItsmError } from '../adapters/itsm/types.js';
import { RmmError } from '../adapters/rmm/types.js';

/**
 * Business failures the workflow must see at once, not retry: an adapter's error that is
 * not retryable (bad credentials, an unknown device, a refused transition) becomes a
 * non-retryable ApplicationFailure of the same code; anything else is retried.
 */
export function rethrow(err: unknown): never {
  if ((err instanceof RmmError || err instanceof ItsmError) && !err.retryable) {
    throw ApplicationFailure.create({
      type: err.code,
      message: err.message,
      nonRetryable: true,
      cause: err,
    });
  }
  throw err;
}
