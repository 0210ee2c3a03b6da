import { RmmError, type BulkResult, type RmmAdapter, type RmmBulk } from './types.js';

/**
 * The adapter's own bulk calls, or bulk calls made of its single calls, at most
 * `concurrency` at a time (vendors without bulk endpoints: NinjaOne, Tactical RMM, SSH).
 * A rejection that would fail every entry alike (credentials, an outage) rejects the
 * whole call, as the contract says; any other RmmError becomes that entry's result.
 */
export function bulkOf(rmm: RmmAdapter, concurrency = 16): RmmBulk {
  if (rmm.bulk) return rmm.bulk;
  const each = <A, T>(items: A[], call: (a: A) => Promise<T>) =>
    mapLimit(items, concurrency, async (a): Promise<BulkResult<T>> => {
      try {
        return { ok: true, value: await call(a) };
      } catch (err) {
        if (!(err instanceof RmmError) || err.retryable || err.code === 'AUTH_FAILED') throw err;
        return { ok: false, code: err.code, message: err.message };
      }
    });
  return {
    isOnline: (ids) => each(ids, (id) => rmm.isOnline(id)),
    deploy: (reqs) =>
      each(reqs, (r) => rmm.deploy(r.deviceId, r.patchIds, r.idempotencyKey, r.hints)),
    readJob: (ids) => each(ids, (id) => rmm.readJob(id)),
    promptReboot: (reqs) =>
      each(reqs, (r) =>
        rmm.promptReboot(r.deviceId, r.idempotencyKey, { allowDefer: r.allowDefer }),
      ),
    patchStates: (ids) =>
      each(ids, async (id) => {
        const [installed, missing] = await Promise.all([
          rmm.installedPatches(id),
          rmm.missingPatches(id),
        ]);
        return { installed, missing: missing.map((p) => p.id) };
      }),
  };
}

/** `fn` over `items` with at most `limit` calls running at once; results in input order. */
export async function mapLimit<A, T>(
  items: readonly A[],
  limit: number,
  fn: (a: A, i: number) => Promise<T>,
): Promise<T[]> {
  const out = new Array<T>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}
