import { RmmError } from '../types.js';
import type { TacticalClient } from './client.js';
import { reviewPatchPolicy, type PatchPolicyReview } from './policy.js';
import type { WireClient, WireWinUpdatePolicy } from './wire.js';

type WireAutomationPolicy = Awaited<ReturnType<TacticalClient['policies']>>[number];

/** Where to look: one agent (exact), or a site's / client's assigned automation policies. */
export type PolicyTarget = { agentId: string } | { siteId: string } | { clientId: string };

export interface PolicyFinding {
  /** e.g. 'agent DESKTOP-1', 'site "HQ" (workstations)'. */
  scope: string;
  /** Which policy decides: the agent's effective policy or an automation policy by name. */
  source: string;
  review: PatchPolicyReview;
}

/**
 * Reports whether Tactical would approve or install updates on its own, for
 * `patchops doctor`. An agent's answer is exact (Tactical's own merge, the
 * `effective_patch_policy` of GET /agents/{id}/). A site or client is judged by the
 * automation policies assigned to it per monitoring type (site first, then client, as
 * Agent.get_agent_policies orders them); per-agent overrides and the global default
 * policy can still differ, which the agent check catches.
 */
export async function checkPatchPolicy(
  api: TacticalClient,
  target: PolicyTarget,
): Promise<PolicyFinding[]> {
  if ('agentId' in target) {
    const a = await api.agent(target.agentId);
    return [
      {
        scope: `agent ${a.hostname}`,
        source: 'effective patch policy',
        review: reviewPatchPolicy(a.effective_patch_policy),
      },
    ];
  }
  const [clients, policies] = await Promise.all([api.clients(), api.policies()]);
  return judgePolicies(clients, policies, target);
}

/**
 * The findings for a site or client from already fetched clients and automation policies,
 * so a fleet-wide check (doctor) reads them once.
 */
export function judgePolicies(
  clients: WireClient[],
  policies: WireAutomationPolicy[],
  target: { siteId: string } | { clientId: string },
): PolicyFinding[] {
  const byId = new Map(policies.map((p) => [p.id, p]));
  const patchPolicyOf = (id: number | null): [string, WireWinUpdatePolicy] | undefined => {
    const p = id === null ? undefined : byId.get(id);
    const w = p?.active ? p.winupdatepolicy[0] : undefined;
    return p && w ? [`automation policy "${p.name}"`, w] : undefined;
  };
  const judge = (scope: string, chain: Array<number | null>): PolicyFinding => {
    for (const id of chain) {
      const found = patchPolicyOf(id);
      if (found) return { scope, source: found[0], review: reviewPatchPolicy(found[1]) };
    }
    return {
      scope,
      source: 'no automation patch policy assigned (agents use their own, or the global default)',
      review: {
        autoApproves: [],
        rebootsAfterInstall: false,
        scheduledInstall: false,
        problems: [],
      },
    };
  };
  const types = ['workstation', 'server'] as const;
  const forClient = (c: WireClient): PolicyFinding[] =>
    types.map((t) => judge(`client "${c.name}" (${t}s)`, [c[`${t}_policy`]]));

  if ('clientId' in target) {
    const c = clients.find((x) => String(x.id) === target.clientId);
    if (!c) throw new RmmError('CLIENT_NOT_FOUND', `No Tactical RMM client "${target.clientId}"`);
    return forClient(c);
  }
  for (const c of clients) {
    const s = c.sites.find((x) => String(x.id) === target.siteId);
    if (!s) continue;
    return types.map((t) =>
      judge(
        `site "${s.name}" (${t}s)`,
        s.block_policy_inheritance ? [s[`${t}_policy`]] : [s[`${t}_policy`], c[`${t}_policy`]],
      ),
    );
  }
  throw new RmmError('INVALID_ARGUMENT', `No Tactical RMM site "${target.siteId}"`);
}
