import { firstIssues } from '../http/wire.js';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { AxiosError } from 'axios';
import type { z } from 'zod';
import { HttpFailure } from '../http/errors.js';
import type { HttpClient } from '../http/client.js';
import { IntelError, type IntelDeps, type IntelLocation } from './types.js';

/** "off" switches a source off; http(s):// is a URL; anything else a local file path. */
export function parseLocation(value: string): IntelLocation | 'off' {
  const v = value.trim();
  if (v.toLowerCase() === 'off') return 'off';
  if (/^https?:\/\//i.test(v)) return { kind: 'url', url: v };
  return { kind: 'file', path: v.replace(/^file:\/\//, '') };
}

export const describeLocation = (l: IntelLocation): string => (l.kind === 'url' ? l.url : l.path);

/** gzip is recognised by its magic bytes, so a `.gz` file or a gzip answer both just work. */
export function gunzipIfNeeded(bytes: Buffer): Buffer {
  return bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
}

/** The HTTP client of one source, with a long timeout: these are bulk downloads. */
export function sourceClient(
  deps: IntelDeps,
  vendor: string,
  url: string,
  extra: {
    headers?: Record<string, string>;
    secrets?: string[];
    isRateLimit?: (s: number) => boolean;
    retryBaseMs?: number;
  } = {},
): HttpClient {
  return deps.http({
    vendor,
    baseURL: new URL(url).origin,
    timeoutMs: 180_000,
    retries: 3,
    ...(extra.retryBaseMs !== undefined ? { retryBaseMs: extra.retryBaseMs } : {}),
    ...(extra.headers ? { headers: extra.headers } : {}),
    ...(extra.secrets ? { secrets: extra.secrets } : {}),
    ...(extra.isRateLimit ? { isRateLimit: (s: number) => extra.isRateLimit!(s) } : {}),
  });
}

/**
 * Reads a whole file or download into memory (gunzipped). Downloads follow redirects (the
 * EPSS "current" file redirects to the dated one), retry through the shared client's
 * axios-retry and fail with IntelError INTEL_UNAVAILABLE naming the location.
 */
export async function readBytes(
  deps: IntelDeps,
  vendor: string,
  location: IntelLocation,
  signal?: AbortSignal,
): Promise<Buffer> {
  if (location.kind === 'file') {
    try {
      return gunzipIfNeeded(await readFile(location.path));
    } catch (err) {
      throw new IntelError(
        'INTEL_UNAVAILABLE',
        `${vendor}: cannot read ${location.path} (${(err as Error).message}); set the variable to a readable file or an https:// URL`,
        { cause: err },
      );
    }
  }
  const client = sourceClient(deps, vendor, location.url);
  const u = new URL(location.url);
  try {
    const res = await client.axios.get<ArrayBuffer>(`${u.pathname}${u.search}`, {
      responseType: 'arraybuffer',
      maxRedirects: 5,
      headers: { Accept: '*/*' },
      ...(signal ? { signal } : {}),
    });
    return gunzipIfNeeded(Buffer.from(res.data));
  } catch (err) {
    const status = err instanceof AxiosError ? err.response?.status : undefined;
    throw new IntelError(
      'INTEL_UNAVAILABLE',
      `${vendor}: download of ${location.url} failed (${status ? `HTTP ${status}` : client.redact((err as Error).message)})`,
      { cause: err },
    );
  }
}

/** Parses JSON text, failing with INTEL_FORMAT (a truncated download lands here). */
export function parseJsonText(vendor: string, where: string, bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (err) {
    throw new IntelError(
      'INTEL_FORMAT',
      `${vendor} ${where}: not JSON (${(err as Error).message}); the file is truncated or not the ${vendor} format`,
    );
  }
}

/** zod parsing of a source's format; the error names the first fields that did not fit. */
export function parseFormat<S extends z.ZodType>(
  vendor: string,
  where: string,
  schema: S,
  data: unknown,
): z.output<S> {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const fields = firstIssues(r.error, '(document)');
  throw new IntelError(
    'INTEL_FORMAT',
    `${vendor} ${where}: unexpected format (${fields}); nothing was stored`,
  );
}

/** Turns the shared client's failures into IntelError (wire format → INTEL_FORMAT). */
export function intelFailure(err: unknown): Error {
  if (err instanceof IntelError) return err;
  if (err instanceof HttpFailure) {
    return new IntelError(
      err.kind === 'wire_format' ? 'INTEL_FORMAT' : 'INTEL_UNAVAILABLE',
      err.message,
      { cause: err },
    );
  }
  return err instanceof Error ? err : new Error(String(err));
}
