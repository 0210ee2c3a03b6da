/**
 * A fake NinjaOne (Public API v2) for contract tests, on test/fakes/http/server.ts.
 *
 * Follows: the vendor's OpenAPI 2.0.9-draft (shared/reference/ninjaone-api-v2-patching.openapi.json:
 * paths, parameters, row shapes, `after`/`cursor` paging, 204/400 of scan/apply); the full
 * spec as public clients use it for /v2/devices-detailed (`os` block) and
 * /v2/organization/{id}/locations; NinjaOne's activity status codes as public reporting
 * tools filter on them (PATCH_MANAGEMENT_APPLY_PATCH_STARTED/COMPLETED, …_SCAN_COMPLETED,
 * …_INSTALL_FAILED, SOFTWARE_PATCH_MANAGEMENT_…, SYSTEM_REBOOTED); error bodies
 * `{ resultCode, errorMessage, incidentId }` as the homotechsual/NinjaOne module parses them;
 * the token endpoint per RFC 6749 §4.4/§5 (invalid_client → 401) and bearer errors per
 * RFC 6750 §3.1 (invalid_token 401, insufficient_scope 403).
 * Assumption, not documented by NinjaOne: the reboot request's `reason` shows in the
 * request's activity message.
 */
import { actionRoutes, deviceLookup } from './actions.js';
import { FakeOAuth } from './auth.js';
import {
  json,
  startFakeHttp,
  type FakeHttpServer,
  type FakeRequest,
  type Route,
} from '../http/server.js';
import { LOCATIONS, ORGANIZATIONS, type Family } from './fleet.js';
import { currentRows, deviceFilter, failure, installRows, QueryCursors } from './queries.js';
import { FakeNinjaState, type Activity, type FakeDevice } from './state.js';

export interface FakeNinjaOneOptions {
  clientId?: string;
  clientSecret?: string;
  /** `expires_in` of issued tokens (default 3600). */
  tokenTtlSeconds?: number;
  scanDelayMs?: number;
  applyDelayMs?: number;
  rebootDelayMs?: number;
  /** Installs that fail, as [deviceId, catalog key] (default: .NET KB5043050 on 102). */
  failures?: [number, string][];
  /** Devices that start offline. */
  offline?: number[];
}

export interface FakeNinjaOne {
  url: string;
  server: FakeHttpServer;
  state: FakeNinjaState;
  clientId: string;
  clientSecret: string;
  /** Apply requests NinjaOne carried out for the device (both families). */
  applyCount(deviceId: number): number;
  applies(): { deviceId: number; family: Family; at: number }[];
  setOnline(deviceId: number, online: boolean): void;
  device(deviceId: number): FakeDevice;
  activities(deviceId: number): Activity[];
  /** Tokens handed out so far. */
  tokensIssued(): number;
  /** Makes every issued token invalid, as an early expiry or revocation would. */
  revokeTokens(): void;
  close(): Promise<void>;
}

export async function startFakeNinjaOne(opts: FakeNinjaOneOptions = {}): Promise<FakeNinjaOne> {
  const clientId = opts.clientId ?? 'patchops-test-client';
  const clientSecret = opts.clientSecret ?? 'fake-ninja-secret-9f3c2a71';
  const failures = new Set((opts.failures ?? [[102, 'KB5043050']]).map(([d, k]) => `${d}|${k}`));
  const state = new FakeNinjaState(
    {
      scanDelayMs: opts.scanDelayMs ?? 50,
      applyDelayMs: opts.applyDelayMs ?? 50,
      rebootDelayMs: opts.rebootDelayMs ?? 50,
    },
    failures,
    opts.offline ?? [],
  );
  const oauth = new FakeOAuth(clientId, clientSecret, opts.tokenTtlSeconds ?? 3600);
  const api = oauth.guard.bind(oauth);
  const cursors = new QueryCursors();

  const withDevice = deviceLookup(state);
  const wire = ({ patches: _p, disabledFeatures: _f, ...d }: FakeDevice) => ({
    ...d,
    approvalStatus: 'APPROVED',
    tags: [] as string[],
  });
  const paged = <T extends { id: number }>(req: FakeRequest, all: T[]): T[] => {
    const after = Number(req.query.get('after') ?? 0);
    const size = Number(req.query.get('pageSize') ?? 1000);
    return all
      .filter((x) => x.id > after)
      .sort((a, b) => a.id - b.id)
      .slice(0, size);
  };
  const familyAction = (family: Family, action: 'scan' | 'apply') => (req: FakeRequest) =>
    withDevice(req, (d) => {
      if (!state.applicable(d))
        return failure(
          400,
          `Device is not applicable for ${family === 'os' ? 'os' : 'software'} ${action}.`,
        );
      if (action === 'scan') state.scan(d, family);
      else state.apply(d, family);
      return { status: 204 };
    });
  const query = (kind: 'current' | 'installs', family: Family) => (req: FakeRequest) => {
    const match = deviceFilter(req.query.get('df'));
    if (!match) return failure(400, `Invalid device filter: ${req.query.get('df')}`);
    const status = req.query.get('status');
    return cursors.page(req, () =>
      (kind === 'current' ? currentRows : installRows)(state, family, match, status),
    );
  };

  const routes: Route[] = [
    { method: 'POST', pattern: /^\/ws\/oauth\/token$/, handler: oauth.token },
    {
      method: 'GET',
      pattern: /^\/v2\/organizations$/,
      handler: api('monitoring', (req) => json(200, paged(req, ORGANIZATIONS))),
    },
    {
      method: 'GET',
      pattern: /^\/v2\/organization\/(?<id>\d+)\/locations$/,
      handler: api('monitoring', (req) => {
        const locs = LOCATIONS[Number(req.params.id)];
        return locs ? json(200, locs) : failure(404, `Organization ${req.params.id} not found`);
      }),
    },
    {
      method: 'GET',
      pattern: /^\/v2\/devices-detailed$/,
      handler: api('monitoring', (req) => {
        const match = deviceFilter(req.query.get('df'));
        if (!match) return failure(400, `Invalid device filter: ${req.query.get('df')}`);
        return json(200, paged(req, [...state.devices.values()].filter(match)).map(wire));
      }),
    },
    {
      method: 'GET',
      pattern: /^\/v2\/device\/(?<id>\d+)$/,
      handler: api('monitoring', (req) => withDevice(req, (d) => json(200, wire(d)))),
    },
    {
      method: 'GET',
      pattern: /^\/v2\/device\/(?<id>\d+)\/activities$/,
      handler: api('monitoring', (req) =>
        withDevice(req, (d) => {
          const size = Number(req.query.get('pageSize') ?? 200);
          if (!(size >= 10 && size <= 1000))
            return failure(400, 'pageSize must be between 10 and 1000');
          const older = Number(req.query.get('olderThan') ?? Infinity);
          const newer = Number(req.query.get('newerThan') ?? -Infinity);
          const mine = state.activities.filter((a) => a.deviceId === d.id);
          const activities = mine
            .filter((a) => a.id < older && a.id > newer)
            .sort((a, b) => b.id - a.id)
            .slice(0, size);
          return json(200, {
            lastActivityId: state.activities.at(-1)?.id ?? 0,
            lastNodeActivityId: mine.at(-1)?.id ?? 0,
            activities,
          });
        }),
      ),
    },
    {
      method: 'POST',
      pattern: /^\/v2\/device\/(?<id>\d+)\/patch\/os\/scan$/,
      handler: api('management', familyAction('os', 'scan')),
    },
    {
      method: 'POST',
      pattern: /^\/v2\/device\/(?<id>\d+)\/patch\/software\/scan$/,
      handler: api('management', familyAction('sw', 'scan')),
    },
    {
      method: 'POST',
      pattern: /^\/v2\/device\/(?<id>\d+)\/patch\/os\/apply$/,
      handler: api('management', familyAction('os', 'apply')),
    },
    {
      method: 'POST',
      pattern: /^\/v2\/device\/(?<id>\d+)\/patch\/software\/apply$/,
      handler: api('management', familyAction('sw', 'apply')),
    },
    ...actionRoutes(state, api),
    {
      method: 'GET',
      pattern: /^\/v2\/queries\/os-patches$/,
      handler: api('monitoring', query('current', 'os')),
    },
    {
      method: 'GET',
      pattern: /^\/v2\/queries\/software-patches$/,
      handler: api('monitoring', query('current', 'sw')),
    },
    {
      method: 'GET',
      pattern: /^\/v2\/queries\/os-patch-installs$/,
      handler: api('monitoring', query('installs', 'os')),
    },
    {
      method: 'GET',
      pattern: /^\/v2\/queries\/software-patch-installs$/,
      handler: api('monitoring', query('installs', 'sw')),
    },
  ];

  const server = await startFakeHttp(routes, (req) =>
    failure(404, `No route ${req.method} ${req.path}`),
  );
  return {
    url: server.url,
    server,
    state,
    clientId,
    clientSecret,
    applyCount: (id) => state.applyLog.filter((a) => a.deviceId === id).length,
    applies: () => [...state.applyLog],
    setOnline: (id, online) => {
      const d = state.devices.get(id);
      if (!d) throw new Error(`fake NinjaOne has no device ${id}`);
      d.offline = !online;
    },
    device: (id) => state.devices.get(id)!,
    activities: (id) => state.activities.filter((a) => a.deviceId === id),
    tokensIssued: () => oauth.issued,
    revokeTokens: () => oauth.revoke(),
    close: async () => {
      state.close();
      await server.close();
    },
  };
}
