import { json, type FakeRequest, type FakeResponse, type Route } from '../http/server.js';
import type { FakeAgent, FakeTacticalState, FakeUpdate } from './state.js';
import { agentDetailWire, agentRowWire, clientsWire, patchPolicyWire, updateWire } from './wire.js';

/**
 * Tactical RMM's URL table for the endpoints patchops uses, as Django resolves them
 * (tacticalrmm/urls.py, agents/urls.py, winupdate/urls.py, clients/urls.py,
 * automation/urls.py, core/urls.py). `<agent:agent_id>` matches 21+ characters other
 * than "/" (AgentIDConverter), so "/winupdate/123/" is an update pk, not an agent.
 */

const AGENT = '(?<agentId>[^/]{21,})';
export const PATTERNS = {
  clients: /^\/clients\/$/,
  agents: /^\/agents\/$/,
  agent: new RegExp(`^/agents/${AGENT}/$`),
  reboot: new RegExp(`^/agents/${AGENT}/reboot/$`),
  updates: new RegExp(`^/winupdate/${AGENT}/$`),
  scan: new RegExp(`^/winupdate/${AGENT}/scan/$`),
  install: new RegExp(`^/winupdate/${AGENT}/install/$`),
  update: /^\/winupdate\/(?<pk>\d+)\/$/,
  policies: /^\/automation\/policies\/$/,
  coreSettings: /^\/core\/settings\/$/,
};

/** The behaviour behind the routes that is not just reading state. */
export interface FakeTacticalBehaviour {
  state: FakeTacticalState;
  /** Agent.approve_updates() then "installwinupdates" over NATS (fire-and-forget). */
  install(a: FakeAgent): void;
  /** "getwinupdates" over NATS (fire-and-forget). */
  scan(a: FakeAgent): void;
  /** "rebootnow" over NATS; Tactical waits for the agent's "ok". */
  reboot(a: FakeAgent): boolean;
}

/** DRF's Http404 body for get_object_or_404 (DRF 3.15 keeps Django's message). */
const noObject = (model: string) => json(404, { detail: `No ${model} matches the given query.` });
/** tacticalrmm.helpers.notify_error: a 400 whose body is a bare JSON string. */
const notifyError = (msg: string) => json(400, msg);

const ACTIONS = ['inherit', 'approve', 'ignore', 'nothing'];

export function tacticalRoutes(b: FakeTacticalBehaviour): Route[] {
  const { state } = b;
  const agentOr404 = (req: FakeRequest, then: (a: FakeAgent) => FakeResponse): FakeResponse => {
    const a = state.agents.find((x) => x.agent_id === req.params.agentId);
    return a ? then(a) : noObject('Agent');
  };
  return [
    { method: 'GET', pattern: PATTERNS.clients, handler: () => json(200, clientsWire(state)) },
    {
      method: 'GET',
      pattern: PATTERNS.agents,
      handler: (req) => {
        const mt = req.query.get('monitoring_type');
        if (mt && mt !== 'server' && mt !== 'workstation') {
          return notifyError('monitoring type does not exist');
        }
        const site = req.query.get('site');
        const client = req.query.get('client');
        const clientOf = (a: FakeAgent) =>
          state.clients.find((c) => c.sites.some((s) => s.id === a.siteId))?.id;
        const rows = state.agents
          .filter((a) => !mt || a.monitoring_type === mt)
          .filter((a) =>
            site !== null
              ? String(a.siteId) === site
              : client !== null
                ? String(clientOf(a)) === client
                : true,
          )
          .sort((x, y) => x.pk - y.pk);
        return json(
          200,
          rows.map((a) => agentRowWire(state, a)),
        );
      },
    },
    {
      method: 'GET',
      pattern: PATTERNS.agent,
      handler: (req) => agentOr404(req, (a) => json(200, agentDetailWire(state, a))),
    },
    {
      method: 'POST',
      pattern: PATTERNS.reboot,
      handler: (req) =>
        agentOr404(req, (a) =>
          b.reboot(a) ? json(200, 'ok') : notifyError('Unable to contact the agent'),
        ),
    },
    {
      method: 'GET',
      pattern: PATTERNS.updates,
      handler: (req) =>
        agentOr404(req, (a) =>
          json(
            200,
            state.updates
              .filter((u) => u.agentPk === a.pk)
              .sort((x, y) => y.id - x.id)
              .map((u) => updateWire(state, u)),
          ),
        ),
    },
    {
      method: 'POST',
      pattern: PATTERNS.scan,
      handler: (req) =>
        agentOr404(req, (a) => {
          if (a.plat !== 'windows') return notifyError(`Not available for ${a.plat}`);
          b.scan(a);
          return json(200, `A Windows update scan will be performed on ${a.hostname}`);
        }),
    },
    {
      method: 'POST',
      pattern: PATTERNS.install,
      handler: (req) =>
        agentOr404(req, (a) => {
          b.install(a);
          return json(200, `Approved patches will now be installed on ${a.hostname}`);
        }),
    },
    {
      method: 'PUT',
      pattern: PATTERNS.update,
      handler: (req) => {
        const u = state.updates.find((x) => String(x.id) === req.params.pk);
        if (!u) return noObject('WinUpdate');
        const body = (req.body ?? {}) as Record<string, unknown>;
        // WinUpdateSerializer(partial=True): any model field may be sent; choices are checked.
        if ('action' in body && !ACTIONS.includes(String(body.action))) {
          return json(400, { action: [`"${String(body.action)}" is not a valid choice.`] });
        }
        if ('result' in body && (typeof body.result !== 'string' || body.result.length > 255)) {
          return json(400, { result: ['Not a valid string.'] });
        }
        if (typeof body.action === 'string') u.action = body.action as FakeUpdate['action'];
        if (typeof body.result === 'string') u.result = body.result;
        return json(200, `Windows update ${u.kb} was changed to ${u.action}`);
      },
    },
    {
      method: 'GET',
      pattern: PATTERNS.policies,
      handler: () =>
        json(
          200,
          state.policies.map((p) => ({
            id: p.id,
            name: p.name,
            desc: null,
            active: p.active,
            enforced: false,
            default_server_policy: false,
            default_workstation_policy: false,
            agents_count: 0,
            winupdatepolicy: p.patch
              ? [patchPolicyWire(p.patch, { id: 2000 + p.id, agent: null, policy: p.id })]
              : [],
            alert_template: null,
            excluded_sites: [],
            excluded_clients: [],
            excluded_agents: [],
          })),
        ),
    },
    {
      method: 'GET',
      pattern: PATTERNS.coreSettings,
      handler: () =>
        json(200, {
          id: 1,
          default_time_zone: state.defaultTimeZone,
          smtp_host_password: 'never-read-this',
        }),
    },
  ];
}
