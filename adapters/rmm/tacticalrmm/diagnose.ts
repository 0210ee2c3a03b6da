import type { Diagnosis } from '../types.js';
import { RmmError } from '../types.js';
import type { TacticalClient } from './client.js';
import { isWindows } from './mapping.js';
import { judgePolicies, type PolicyFinding } from './policy-check.js';
import { reviewPatchPolicy } from './policy.js';

/**
 * What `patchops doctor` adds below Tactical's connection line:
 *
 * - patch-policy: whether Tactical would approve, install or reboot on its own. Clients and
 *   sites are judged by their automation policies (two requests for the whole fleet);
 *   agents by their exact effective policy (one request each, up to AGENT_LIMIT), which
 *   also catches per-agent overrides and the global default.
 * - time-zone: whether TACTICAL_TIME_ZONE is needed (the API key's user may not read
 *   Tactical's default zone, which install times are rendered in).
 */

/** Agents whose effective policy is read; past it doctor says how many it left out. */
const AGENT_LIMIT = 200;
/** Requests in flight at once, as for scans: Tactical's uWSGI has few workers. */
const CONCURRENCY = 4;
/** Warn lines per kind of finding before they are summed up in one more line. */
const MAX_LINES = 10;

export async function diagnoseTactical(
  api: TacticalClient,
  timeZone: string | undefined,
): Promise<Diagnosis[]> {
  return [...(await policyLines(api)), await timeZoneLine(api, timeZone)];
}

async function policyLines(api: TacticalClient): Promise<Diagnosis[]> {
  let findings: PolicyFinding[];
  let agentsChecked = 0;
  let agentsLeft = 0;
  try {
    const [clients, policies] = await Promise.all([api.clients(), api.policies()]);
    findings = clients.flatMap((c) => [
      ...judgePolicies(clients, policies, { clientId: String(c.id) }),
      ...c.sites.flatMap((s) => judgePolicies(clients, policies, { siteId: String(s.id) })),
    ]);
    const rows = (await Promise.all(clients.map((c) => api.agents(String(c.id))))).flat();
    const windows = rows.filter(isWindows);
    const queue = windows.slice(0, AGENT_LIMIT).map((r) => r.agent_id);
    agentsChecked = queue.length;
    agentsLeft = windows.length - queue.length;
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        const a = await api.agent(id);
        findings.push({
          scope: `agent ${a.hostname}`,
          source: 'effective patch policy',
          review: reviewPatchPolicy(a.effective_patch_policy),
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return [{ part: 'patch-policy', state: 'down', detail: `could not read the policies: ${why}` }];
  }

  const lines: Diagnosis[] = [];
  const autoApprove = findings.filter((f) => f.review.autoApproves.length);
  for (const f of autoApprove.slice(0, MAX_LINES)) {
    lines.push({
      part: 'patch-policy',
      state: 'warn',
      detail: `${f.scope} (${f.source}) auto-approves ${f.review.autoApproves.join(', ')} updates: set every severity to Manual, or Tactical installs updates patchops never approved (patchops refuses to deploy there meanwhile)`,
    });
  }
  if (autoApprove.length > MAX_LINES) {
    lines.push({
      part: 'patch-policy',
      state: 'warn',
      detail: `and ${autoApprove.length - MAX_LINES} more that auto-approve: set every severity to Manual`,
    });
  }
  // Reboot and schedule problems: the review's own words name the setting and the fix.
  const other = findings.flatMap((f) =>
    f.review.problems
      .filter((_, i) => !(i === 0 && f.review.autoApproves.length))
      .map((p) => `${f.scope} (${f.source}) ${p}`),
  );
  for (const detail of other.slice(0, MAX_LINES))
    lines.push({ part: 'patch-policy', state: 'warn', detail });
  if (other.length > MAX_LINES) {
    lines.push({
      part: 'patch-policy',
      state: 'warn',
      detail: `and ${other.length - MAX_LINES} more reboot or schedule findings`,
    });
  }
  const checked = `${findings.length - agentsChecked} client/site scopes and ${agentsChecked} Windows agents checked`;
  if (agentsLeft > 0) {
    lines.push({
      part: 'patch-policy',
      state: 'warn',
      detail: `${checked}; ${agentsLeft} more agents not checked (check them in Tactical, or run doctor per client)`,
    });
  }
  if (lines.length === 0) {
    lines.push({
      part: 'patch-policy',
      state: 'ok',
      detail: `no Tactical patch policy approves, installs or reboots on its own (${checked})`,
    });
  }
  return lines;
}

async function timeZoneLine(
  api: TacticalClient,
  configured: string | undefined,
): Promise<Diagnosis> {
  if (configured) {
    return { part: 'time-zone', state: 'ok', detail: `TACTICAL_TIME_ZONE=${configured}` };
  }
  try {
    const zone = await api.defaultTimeZone();
    return {
      part: 'time-zone',
      state: 'ok',
      detail: `Tactical's default time zone ${zone}, read from /core/settings/ (TACTICAL_TIME_ZONE not needed)`,
    };
  } catch (err) {
    if (err instanceof RmmError && err.code === 'AUTH_FAILED') {
      return {
        part: 'time-zone',
        state: 'warn',
        detail:
          "the API key's user may not read Tactical's default time zone: set TACTICAL_TIME_ZONE to it (Global Settings > General), or give that user the View Core Settings permission; until then patchops cannot list sites or tell installs that wait for a reboot",
      };
    }
    const why = err instanceof Error ? err.message : String(err);
    return { part: 'time-zone', state: 'down', detail: `could not read /core/settings/: ${why}` };
  }
}
