import { z } from 'zod';
import { RmmError } from '../types.js';

/**
 * patchops' ids for NinjaOne things, and the opaque tokens (cursors, scan and job ids)
 * that carry everything a later call needs, so the adapter keeps no memory of its own and
 * any worker can continue what another began.
 */

/** NinjaOne applies per device and per family: OS (Windows Update / macOS) or third-party software. */
export type PatchFamily = 'os' | 'sw';

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9.+]+/g, '-')
    .replace(/^-+|-+$/g, '');

/** "ninjaone:os:KB5044284", or "ninjaone:os:name:<title>" for an OS update without a KB (macOS). */
export function osPatchId(row: { kbNumber?: string; name: string }): string {
  const kb = row.kbNumber?.trim().replace(/^(kb)?/i, 'KB');
  return kb && kb !== 'KB' ? `ninjaone:os:${kb}` : `ninjaone:os:name:${slug(row.name)}`;
}

/**
 * "ninjaone:sw:<productIdentifier>:<title>": the product uuid is shared by every version,
 * and NinjaOne folds the version into the title, so both together name one patch.
 */
export function softwarePatchId(row: { productIdentifier: string; title: string }): string {
  return `ninjaone:sw:${row.productIdentifier.toLowerCase()}:${slug(row.title)}`;
}

/** Which apply endpoint installs a patch; throws PATCH_NOT_FOUND for an id not made here. */
export function patchFamily(patchId: string): PatchFamily {
  if (/^ninjaone:os:.+/.test(patchId)) return 'os';
  if (/^ninjaone:sw:[^:]+:.+/.test(patchId)) return 'sw';
  throw new RmmError(
    'PATCH_NOT_FOUND',
    `"${patchId}" is not a NinjaOne patch id (expected ninjaone:os:… or ninjaone:sw:…, as missingPatches returns)`,
  );
}

/** NinjaOne device ids are integers; anything else cannot name a device there. */
export function deviceNumber(deviceId: string): number {
  if (!/^\d{1,10}$/.test(deviceId)) {
    throw new RmmError('DEVICE_NOT_FOUND', `No NinjaOne device "${deviceId}" (ids are numbers)`);
  }
  return Number(deviceId);
}

export function clientNumber(clientId: string): number {
  if (!/^\d{1,10}$/.test(clientId)) {
    throw new RmmError(
      'CLIENT_NOT_FOUND',
      `No NinjaOne organization "${clientId}" (ids are numbers)`,
    );
  }
  return Number(clientId);
}

function encode(prefix: string, value: unknown): string {
  return `${prefix}.${Buffer.from(JSON.stringify(value)).toString('base64url')}`;
}

function decode<S extends z.ZodType>(
  prefix: string,
  token: string,
  schema: S,
): z.output<S> | undefined {
  if (!token.startsWith(`${prefix}.`)) return undefined;
  try {
    const json: unknown = JSON.parse(
      Buffer.from(token.slice(prefix.length + 1), 'base64url').toString('utf8'),
    );
    const r = schema.safeParse(json);
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/** Device page cursor: NinjaOne pages devices by "after this device id". */
export const encodeDeviceCursor = (afterId: number) => encode('nd1', { a: afterId });
export function decodeDeviceCursor(cursor: string): number {
  const v = decode('nd1', cursor, z.object({ a: z.number().int().min(0) }));
  if (!v)
    throw new RmmError(
      'INVALID_ARGUMENT',
      `page.cursor "${cursor}" is not a NinjaOne device cursor`,
    );
  return v.a;
}

const familiesSchema = z.array(z.enum(['os', 'sw']));

/** A scan: the devices and families whose scan NinjaOne accepted, and when (epoch s). */
const scanSchema = z.object({
  t: z.number(),
  s: z.array(z.tuple([z.number().int(), familiesSchema])),
});
export type ScanToken = z.infer<typeof scanSchema>;
export const encodeScan = (scan: ScanToken) => encode('ns1', scan);
export function decodeScan(scanId: string): ScanToken {
  const v = decode('ns1', scanId, scanSchema);
  if (!v) throw new RmmError('SCAN_NOT_FOUND', `No NinjaOne scan "${scanId}"`);
  return v;
}

/**
 * A deploy or reboot: device, the patches asked for, the families applied and the time
 * (epoch s) from which the device's activities tell its story.
 */
const jobSchema = z.object({
  k: z.enum(['deploy', 'reboot']),
  d: z.number().int(),
  t: z.number(),
  p: z.array(z.string()),
  f: familiesSchema,
});
export type JobToken = z.infer<typeof jobSchema>;
export const encodeJob = (job: JobToken) => encode('nj1', job);
export function decodeJob(jobId: string): JobToken {
  const v = decode('nj1', jobId, jobSchema);
  if (!v) throw new RmmError('JOB_NOT_FOUND', `No NinjaOne job "${jobId}"`);
  return v;
}
