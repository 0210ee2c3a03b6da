import { randomUUID } from 'node:crypto';
import { json, type FakeRequest, type FakeResponse } from '../http/server.js';
import type { Family } from './fleet.js';
import { catalogEntry, type FakeDevice, type FakeNinjaState } from './state.js';

/**
 * NinjaOne's report queries (/v2/queries/{os,software}-patches and …-patch-installs) and
 * the device filter (`df`) they and /v2/devices-detailed take. Paging is NinjaOne's: the
 * first answer opens a server-side cursor whose `name` is passed back as `cursor`; the name
 * stays the same while `offset` moves, and a short page is the last one.
 */

export const failure = (
  status: number,
  errorMessage: string,
  headers: Record<string, string> = {},
) => json(status, { resultCode: 'FAILURE', errorMessage, incidentId: randomUUID() }, headers);

/** The subset of NinjaOne's device filter syntax the adapter sends: `id = N`, `org = N`. */
export function deviceFilter(df: string | null): ((d: FakeDevice) => boolean) | undefined {
  if (df === null || df.trim() === '') return () => true;
  const m = /^\s*(id|org|loc)\s*=\s*(\d+)\s*$/.exec(df);
  if (!m) return undefined;
  const n = Number(m[2]);
  return m[1] === 'id'
    ? (d) => d.id === n
    : m[1] === 'org'
      ? (d) => d.organizationId === n
      : (d) => d.locationId === n;
}

interface Cursor {
  rows: unknown[];
  offset: number;
  count: number;
  expires: number;
}

export class QueryCursors {
  private readonly open = new Map<string, Cursor>();

  page(req: FakeRequest, rowsNow: () => unknown[]): FakeResponse {
    const pageSize = Number(req.query.get('pageSize') ?? 1000);
    if (!Number.isInteger(pageSize) || pageSize < 1) return failure(400, 'Invalid pageSize');
    const name = req.query.get('cursor');
    let cursor: Cursor;
    if (name === null) {
      cursor = { rows: rowsNow(), offset: 0, count: 0, expires: Date.now() / 1000 + 300 };
    } else {
      const open = this.open.get(name);
      if (!open || open.expires < Date.now() / 1000)
        return failure(400, `Cursor ${name} not found or expired`);
      cursor = { ...open, offset: open.offset + open.count };
    }
    const results = cursor.rows.slice(cursor.offset, cursor.offset + pageSize);
    cursor.count = results.length;
    const cursorName = name ?? randomUUID();
    this.open.set(cursorName, cursor);
    return json(200, {
      cursor: {
        name: cursorName,
        offset: cursor.offset,
        count: cursor.count,
        expires: cursor.expires,
      },
      results,
    });
  }
}

/** Current-feed rows (no install attempt yet) of one family, for the devices a filter selects. */
export function currentRows(
  state: FakeNinjaState,
  family: Family,
  match: (d: FakeDevice) => boolean,
  status: string | null,
) {
  const rows: unknown[] = [];
  for (const d of [...state.devices.values()].filter(match).sort((a, b) => a.id - b.id)) {
    for (const [key, p] of d.patches) {
      const c = catalogEntry(key);
      if (c.family !== family || p.hidden || (status && p.status !== status)) continue;
      rows.push(
        family === 'os'
          ? {
              id: p.rowId,
              name: c.title,
              severity: c.severity,
              status: p.status,
              type: c.type,
              deviceId: d.id,
              timestamp: p.timestamp,
              ...(c.kbNumber ? { kbNumber: c.kbNumber } : {}),
            }
          : {
              id: p.rowId,
              productIdentifier: c.productIdentifier,
              title: c.title,
              impact: c.severity,
              status: p.status,
              type: c.type,
              deviceId: d.id,
              timestamp: p.timestamp,
            },
      );
    }
  }
  return rows;
}

/** Install-history rows (INSTALLED and FAILED) of one family. */
export function installRows(
  state: FakeNinjaState,
  family: Family,
  match: (d: FakeDevice) => boolean,
  status: string | null,
) {
  return state.installs
    .filter((r) => {
      const d = state.devices.get(r.deviceId);
      return (
        d &&
        match(d) &&
        catalogEntry(r.key).family === family &&
        (!status || r.status === status.toUpperCase())
      );
    })
    .map((r) => {
      const c = catalogEntry(r.key);
      return family === 'os'
        ? {
            id: r.rowId,
            name: c.title,
            severity: c.severity,
            status: r.status,
            type: c.type,
            installedAt: r.installedAt,
            deviceId: r.deviceId,
            timestamp: r.installedAt,
            ...(c.kbNumber ? { kbNumber: c.kbNumber } : {}),
          }
        : {
            id: r.rowId,
            productIdentifier: c.productIdentifier,
            title: c.title,
            impact: c.severity,
            status: r.status,
            type: c.type,
            installedAt: r.installedAt,
            deviceId: r.deviceId,
            timestamp: r.installedAt,
          };
    });
}
