/**
 * A fake Tactical RMM API for contract tests. It follows the Django/DRF source of
 * github.com/amidaware/tacticalrmm (no OpenAPI is published): winupdate/{views,models,
 * serializers,urls}.py, agents/{views,serializers,models}.py (approve_updates,
 * get_approved_update_guids, Reboot), clients/serializers.py, tacticalrmm/auth.py
 * (X-API-KEY), tacticalrmm/settings.py (knox first → 401 with WWW-Authenticate: Token;
 * CommonMiddleware with APPEND_SLASH and DEBUG off → 301 to the slashed path for any
 * method), and the agent side in github.com/amidaware/rmmagent (agent/rpc.go: one
 * install at a time, a second "installwinupdates" is dropped; patches_windows.go: one
 * result per update, then needs_reboot).
 *
 * install/ does what Tactical does: auto-approve by the agent's effective patch policy
 * (flipping even "ignore"), then install every approved, not-installed update. Requests to
 * an offline agent's NATS subject are lost silently (install/, scan/), except reboot/,
 * which waits for the agent and answers 400 "Unable to contact the agent".
 */
import {
  json,
  startFakeHttp,
  type Fault,
  type FakeHttpServer,
  type FakeRequest,
  type Route,
} from '../http/server.js';
import { PATTERNS, tacticalRoutes } from './routes.js';
import {
  addUpdate,
  type FakeAgent,
  type FakePatchPolicy,
  type FakeTacticalState,
  type FakeUpdate,
} from './state.js';
import { seedState } from './seed.js';

export { MANUAL, AUTO_CRITICAL_IMPORTANT } from './state.js';
export { agentIdOf } from './seed.js';
export type { FakeTacticalState, FakePatchPolicy } from './state.js';

export interface FakeTacticalOptions {
  apiKey?: string;
  /** A valid key whose user has no role permissions (every view answers 403). */
  limitedKey?: string;
  /** Tactical's default time zone (core settings). */
  timeZone?: string;
  /** Whether the full key may read /core/settings/ (View Core Settings). */
  canViewCoreSettings?: boolean;
  /** How long the agent takes to install (0: done before install/ answers). */
  installDelayMs?: number;
}

export interface FakeTacticalRmm {
  url: string;
  apiKey: string;
  limitedKey: string;
  state: FakeTacticalState;
  server: FakeHttpServer;
  requests: FakeHttpServer['requests'];
  requestsTo: FakeHttpServer['requestsTo'];
  fault(f: Fault): void;
  /** Install commands the agent actually ran (a dropped or lost one does not count). */
  installCount(agentId: string): number;
  /** Times Windows Update installed this KB on the agent. */
  kbInstallCount(agentId: string, kb: string): number;
  installedKbs(agentId: string): string[];
  scanCount(agentId: string): number;
  setOnline(agentId: string, online: boolean): void;
  setPolicy(agentId: string, policy: Partial<FakePatchPolicy>): void;
  /** Makes the agent's install of this KB fail. */
  failInstall(agentId: string, kb: string): void;
  update(agentId: string, kb: string): FakeUpdate;
  agent(agentId: string): FakeAgent;
  addUpdate(agentId: string, u: Parameters<typeof addUpdate>[2]): FakeUpdate;
  close(): Promise<void>;
}

const WIRE_SEVERITY = {
  critical: 'Critical',
  important: 'Important',
  moderate: 'Moderate',
  low: 'Low',
  other: '',
} as const;

export async function startFakeTacticalRmm(
  opts: FakeTacticalOptions = {},
): Promise<FakeTacticalRmm> {
  const apiKey = opts.apiKey ?? 'TRMMTESTKEY0123456789ABCDEFGHIJ';
  const limitedKey = opts.limitedKey ?? 'TRMMLIMITEDKEY0123456789ABCDEFG';
  const state = seedState(Date.now(), opts.timeZone ?? 'Europe/Berlin');
  const installs = new Map<string, number>();
  const kbInstalls = new Map<string, number>();
  const scans = new Map<string, number>();
  const installing = new Set<number>();
  const timers = new Set<NodeJS.Timeout>();
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  const rowsOf = (a: FakeAgent) => state.updates.filter((u) => u.agentPk === a.pk);

  const reboot = (a: FakeAgent): boolean => {
    if (!a.online) return false;
    a.boot_time = Math.floor(Date.now() / 1000);
    a.needs_reboot = false;
    return true;
  };

  // rmmagent InstallUpdates: each GUID, one result each, then needs_reboot (+ policy reboot).
  const runInstall = (a: FakeAgent, guids: string[]) => {
    bump(installs, a.agent_id);
    let reboots = false;
    for (const guid of guids) {
      const u = rowsOf(a).find((x) => x.guid === guid);
      if (!u) continue; // superseded meanwhile: the agent reports it and Tactical deletes it
      if (u.fails) {
        u.result = 'failed';
        continue;
      }
      Object.assign(u, {
        installed: true,
        downloaded: true,
        result: 'success',
        date_installed: Date.now(),
      });
      bump(kbInstalls, `${a.agent_id}|${u.kb}`);
      reboots ||= u.rebootRequired;
    }
    a.needs_reboot ||= reboots;
    const p = a.policy.reboot_after_install;
    if (p === 'always' || (p === 'required' && a.needs_reboot)) reboot(a);
  };

  const install = (a: FakeAgent) => {
    const approve = (Object.keys(WIRE_SEVERITY) as Array<keyof typeof WIRE_SEVERITY>)
      .filter((s) => a.policy[s] === 'approve')
      .map((s) => WIRE_SEVERITY[s] as string);
    for (const u of rowsOf(a)) {
      if (!u.installed && u.action !== 'approve' && approve.includes(u.severity))
        u.action = 'approve';
    }
    const guids = rowsOf(a)
      .filter((u) => u.action === 'approve' && !u.installed)
      .map((u) => u.guid);
    if (!a.online || installing.has(a.pk)) return; // lost on NATS, or dropped by the agent's lock
    const delay = opts.installDelayMs ?? 0;
    if (delay <= 0) return runInstall(a, guids);
    installing.add(a.pk);
    const t = setTimeout(() => {
      timers.delete(t);
      installing.delete(a.pk);
      runInstall(a, guids);
    }, delay);
    timers.add(t);
  };

  const scan = (a: FakeAgent) => {
    if (a.online) bump(scans, a.agent_id);
  };

  const routes = tacticalRoutes({ state, install, scan, reboot });
  const denied = (req: FakeRequest) => {
    const key = req.headers['x-api-key'];
    if (!key)
      return json(
        401,
        { detail: 'Authentication credentials were not provided.' },
        { 'WWW-Authenticate': 'Token' },
      );
    if (key !== apiKey && key !== limitedKey)
      return json(401, { detail: 'Invalid token.' }, { 'WWW-Authenticate': 'Token' });
    const coreForbidden =
      PATTERNS.coreSettings.test(req.path) && opts.canViewCoreSettings === false;
    if (key === limitedKey || coreForbidden) {
      return json(403, { detail: 'You do not have permission to perform this action.' });
    }
    return undefined;
  };
  const guarded: Route[] = routes.map((r) => ({
    ...r,
    handler: (req) => denied(req) ?? r.handler(req),
  }));
  const server = await startFakeHttp(guarded, (req) => {
    // Django resolves the URL first: a known path with another method reaches DRF (auth, then 405).
    if (routes.some((r) => r.pattern.test(req.path))) {
      return denied(req) ?? json(405, { detail: `Method "${req.method}" not allowed.` });
    }
    // CommonMiddleware (APPEND_SLASH, DEBUG off) redirects any method to the slashed path.
    if (!req.path.endsWith('/') && routes.some((r) => r.pattern.test(`${req.path}/`))) {
      return {
        status: 301,
        body: '',
        contentType: 'text/html; charset=utf-8',
        headers: { Location: `${req.path}/` },
      };
    }
    return {
      status: 404,
      contentType: 'text/html; charset=utf-8',
      body: '<!doctype html><html lang="en"><head><title>Not Found</title></head><body><h1>Not Found</h1><p>The requested resource was not found on this server.</p></body></html>',
    };
  });

  const agent = (agentId: string): FakeAgent => {
    const a = state.agents.find((x) => x.agent_id === agentId);
    if (!a) throw new Error(`fake Tactical RMM: no agent ${agentId}`);
    return a;
  };
  const update = (agentId: string, kb: string): FakeUpdate => {
    const u = rowsOf(agent(agentId)).find((x) => x.kb === kb);
    if (!u) throw new Error(`fake Tactical RMM: agent ${agentId} has no ${kb}`);
    return u;
  };

  return {
    url: server.url,
    apiKey,
    limitedKey,
    state,
    server,
    requests: server.requests,
    requestsTo: (method, path) => server.requestsTo(method, path),
    fault: (f) => server.fault(f),
    installCount: (id) => installs.get(id) ?? 0,
    kbInstallCount: (id, kb) => kbInstalls.get(`${id}|${kb}`) ?? 0,
    installedKbs: (id) =>
      [
        ...new Set(
          rowsOf(agent(id))
            .filter((u) => u.installed)
            .map((u) => u.kb),
        ),
      ].sort(),
    scanCount: (id) => scans.get(id) ?? 0,
    setOnline: (id, online) => {
      const a = agent(id);
      a.online = online;
      a.last_seen = online ? Date.now() : Date.now() - 10 * 60_000;
    },
    setPolicy: (id, p) => Object.assign(agent(id).policy, p),
    failInstall: (id, kb) => void (update(id, kb).fails = true),
    update,
    agent,
    addUpdate: (id, u) => addUpdate(state, agent(id), u),
    close: async () => {
      for (const t of timers) clearTimeout(t);
      await server.close();
    },
  };
}
