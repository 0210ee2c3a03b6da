import { RmmError, type DevicePage, type DevicePageResult } from '../types.js';
import type { TacticalContext } from './context.js';
import { isWindows, toDevice } from './mapping.js';
import type { WireAgentRow, WireClient } from './wire.js';

/**
 * Tactical answers a client's whole agent list at once (no paging), so pages are cut here
 * from a stable order (agent_id). The cursor is the last agent_id handed out, so an agent
 * added or removed between pages shifts nothing. A client's list is kept for a minute so
 * that walking its pages costs two requests, not two per page.
 */

const SNAPSHOT_TTL_MS = 60_000;
const PREFIX = 'after:';

interface Snapshot {
  at: number;
  client: WireClient;
  agents: WireAgentRow[];
}

const snapshots = new WeakMap<TacticalContext, Map<string, Snapshot>>();

async function snapshot(ctx: TacticalContext, clientId: string, fresh: boolean): Promise<Snapshot> {
  let cache = snapshots.get(ctx);
  if (!cache) snapshots.set(ctx, (cache = new Map<string, Snapshot>()));
  const hit = cache.get(clientId);
  if (!fresh && hit && ctx.now() - hit.at < SNAPSHOT_TTL_MS) return hit;
  const [clients, rows] = await Promise.all([ctx.api.clients(), ctx.api.agents(clientId)]);
  const client = clients.find((c) => String(c.id) === clientId);
  if (!client) throw new RmmError('CLIENT_NOT_FOUND', `No Tactical RMM client "${clientId}"`);
  const agents = rows
    .filter(isWindows)
    .sort((a, b) => (a.agent_id < b.agent_id ? -1 : a.agent_id > b.agent_id ? 1 : 0));
  const snap = { at: ctx.now(), client, agents };
  cache.set(clientId, snap);
  return snap;
}

function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith(PREFIX) || text.length === PREFIX.length) {
    throw new RmmError('INVALID_ARGUMENT', `page.cursor "${cursor}" is not a cursor from here`);
  }
  return text.slice(PREFIX.length);
}

export async function listDevices(
  ctx: TacticalContext,
  clientId: string,
  page: DevicePage,
): Promise<DevicePageResult> {
  if (!Number.isInteger(page.limit) || page.limit < 1) {
    throw new RmmError('INVALID_ARGUMENT', 'page.limit must be a whole number ≥ 1');
  }
  const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
  // A first page always reads afresh; later pages may reuse the first page's list.
  const snap = await snapshot(ctx, clientId, after === undefined);
  const rest = after === undefined ? snap.agents : snap.agents.filter((a) => a.agent_id > after);
  const slice = rest.slice(0, page.limit);
  const devices = slice.flatMap((a) => {
    const d = toDevice(a, snap.client);
    if (!d) {
      ctx.log.warn(
        { agentId: a.agent_id, site: a.site_name },
        'Tactical RMM agent names an unknown site; skipped',
      );
    }
    return d ? [d] : [];
  });
  if (rest.length <= page.limit) return { devices };
  const last = slice[slice.length - 1]!.agent_id;
  return { devices, nextCursor: Buffer.from(PREFIX + last).toString('base64url') };
}
