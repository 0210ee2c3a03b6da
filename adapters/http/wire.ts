import type { z } from 'zod';
import { HttpFailure } from './errors.js';

/**
 * Parses a vendor's answer with its zod schema. A mismatch is not worth retrying (the
 * vendor changed its format, or we misread its documentation), so it fails with a
 * message naming vendor, endpoint and the first fields that did not fit.
 */
export function parseWire<S extends z.ZodType>(
  vendor: string,
  endpoint: string,
  schema: S,
  data: unknown,
): z.output<S> {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const fields = firstIssues(r.error, '(body)');
  throw new HttpFailure(
    'wire_format',
    vendor,
    endpoint,
    `unexpected answer (${fields}); the vendor's format differs from what patchops expects`,
  );
}

/** The first few fields a zod error names, as "a.b: message; …" (`root` for the whole document). */
export function firstIssues(error: z.ZodError, root: string): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : root}: ${i.message}`)
    .join('; ');
}
