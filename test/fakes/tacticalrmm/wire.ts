import type {
  FakeAgent,
  FakeClient,
  FakePatchPolicy,
  FakeTacticalState,
  FakeUpdate,
} from './state.js';

/**
 * Renders the fake's memory the way Tactical's DRF serializers do (agents/serializers.py,
 * clients/serializers.py, winupdate/serializers.py), including fields patchops ignores,
 * so a schema that is too strict or reads the wrong field fails here first.
 */

/** "%m %d %Y %H:%M" in the default time zone, as WinUpdateSerializer.get_date_installed. */
export function formatDateInstalled(epochMs: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).formatToParts(new Date(epochMs));
  const p = (t: string) => parts.find((x) => x.type === t)?.value ?? '';
  return `${p('month')} ${p('day')} ${p('year')} ${p('hour')}:${p('minute')}`;
}

/** DRF renders datetimes as ISO 8601 with "Z" for UTC. */
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

export const agentStatus = (a: FakeAgent): 'online' | 'offline' | 'overdue' =>
  a.online ? 'online' : 'offline';

export function patchPolicyWire(
  p: FakePatchPolicy,
  ids: { id: number; agent: number | null; policy: number | null },
) {
  return {
    ...ids,
    created_by: null,
    created_time: null,
    modified_by: null,
    modified_time: null,
    critical: p.critical,
    important: p.important,
    moderate: p.moderate,
    low: p.low,
    other: p.other,
    run_time_hour: 3,
    run_time_frequency: p.run_time_frequency,
    run_time_days: [],
    run_time_day: 1,
    reboot_after_install: p.reboot_after_install,
    reprocess_failed_inherit: true,
    reprocess_failed: false,
    reprocess_failed_times: 5,
    email_if_fail: false,
  };
}

function siteWire(c: FakeClient, s: FakeClient['sites'][number], state: FakeTacticalState) {
  return {
    id: s.id,
    name: s.name,
    server_policy: s.server_policy,
    workstation_policy: s.workstation_policy,
    alert_template: null,
    client_name: c.name,
    client: c.id,
    custom_fields: [],
    agent_count: state.agents.filter((a) => a.siteId === s.id).length,
    block_policy_inheritance: s.block_policy_inheritance,
    maintenance_mode: false,
    failing_checks: { error: false, warning: false },
  };
}

export function clientsWire(state: FakeTacticalState) {
  const byName = <T extends { name: string }>(xs: T[]) =>
    [...xs].sort((a, b) => a.name.localeCompare(b.name));
  return byName(state.clients).map((c) => ({
    id: c.id,
    name: c.name,
    server_policy: c.server_policy,
    workstation_policy: c.workstation_policy,
    alert_template: null,
    block_policy_inheritance: c.block_policy_inheritance,
    sites: byName(c.sites).map((s) => siteWire(c, s, state)),
    custom_fields: [],
    agent_count: state.agents.filter((a) => c.sites.some((s) => s.id === a.siteId)).length,
    maintenance_mode: false,
    failing_checks: { error: false, warning: false },
  }));
}

export function siteOf(state: FakeTacticalState, a: FakeAgent) {
  for (const c of state.clients) {
    const s = c.sites.find((x) => x.id === a.siteId);
    if (s) return { client: c, site: s };
  }
  throw new Error(`fake: agent ${a.agent_id} has no site`);
}

/** AgentTableSerializer. */
export function agentRowWire(state: FakeTacticalState, a: FakeAgent) {
  const { client, site } = siteOf(state, a);
  return {
    agent_id: a.agent_id,
    alert_template: null,
    hostname: a.hostname,
    site_name: site.name,
    client_name: client.name,
    monitoring_type: a.monitoring_type,
    description: '',
    needs_reboot: a.needs_reboot,
    pending_actions_count: 0,
    status: agentStatus(a),
    overdue_text_alert: false,
    overdue_email_alert: false,
    overdue_dashboard_alert: false,
    last_seen: iso(a.last_seen),
    boot_time: a.boot_time,
    checks: { total: 0, passing: 0, failing: 0, warning: 0, info: 0, has_failing_checks: false },
    maintenance_mode: false,
    logged_username: '-',
    italic: false,
    policy: null,
    block_policy_inheritance: false,
    plat: a.plat,
    goarch: 'amd64',
    has_patches_pending: state.updates.some(
      (u) => u.agentPk === a.pk && u.action === 'approve' && !u.installed,
    ),
    version: '2.9.1',
    operating_system: a.operating_system,
    public_ip: '203.0.113.7',
    cpu_model: ['Intel(R) Core(TM) i5-1145G7'],
    graphics: 'Intel(R) Iris(R) Xe Graphics',
    local_ips: '10.0.0.12',
    make_model: 'Dell Inc. Latitude 5420',
    physical_disks: ['Samsung SSD 980 512GB'],
    custom_fields: [],
    serial_number: 'ABC1234',
  };
}

/** AgentSerializer (GET /agents/{agent_id}/), the fields that matter plus a few others. */
export function agentDetailWire(state: FakeTacticalState, a: FakeAgent) {
  const { client, site } = siteOf(state, a);
  return {
    winupdatepolicy: [patchPolicyWire(a.policy, { id: 1000 + a.pk, agent: a.pk, policy: null })],
    status: agentStatus(a),
    timezone: a.time_zone ?? state.defaultTimeZone,
    client: client.name,
    site_name: site.name,
    custom_fields: [],
    patches_last_installed: null,
    last_seen: iso(a.last_seen),
    applied_policies: {
      agent_policy: null,
      site_policy: null,
      client_policy: null,
      default_policy: null,
    },
    effective_patch_policy: patchPolicyWire(a.policy, {
      id: 1000 + a.pk,
      agent: a.pk,
      policy: null,
    }),
    alert_template: null,
    version: '2.9.1',
    operating_system: a.operating_system,
    plat: a.plat,
    goarch: 'amd64',
    hostname: a.hostname,
    agent_id: a.agent_id,
    public_ip: '203.0.113.7',
    boot_time: a.boot_time,
    logged_in_username: 'alice',
    monitoring_type: a.monitoring_type,
    description: '',
    offline_time: 4,
    overdue_time: 30,
    check_interval: 120,
    needs_reboot: a.needs_reboot,
    time_zone: a.time_zone,
    maintenance_mode: false,
    block_policy_inheritance: false,
    site: site.id,
    policy: null,
  };
}

/** WinUpdateSerializer (fields "__all__"). */
export function updateWire(state: FakeTacticalState, u: FakeUpdate) {
  return {
    id: u.id,
    date_installed:
      u.date_installed === null
        ? null
        : formatDateInstalled(u.date_installed, state.defaultTimeZone),
    guid: u.guid,
    kb: u.kb,
    title: u.title,
    installed: u.installed,
    downloaded: u.downloaded,
    description: `Install this update to resolve issues in Windows. ${u.title}`,
    severity: u.severity,
    categories: u.categories,
    category_ids: u.categories.map((_, i) => `cat-${i}`),
    kb_article_ids: [u.kb.slice(2)],
    more_info_urls: [`https://support.microsoft.com/help/${u.kb.slice(2)}`],
    support_url: 'https://support.microsoft.com',
    revision_number: 200,
    action: u.action,
    result: u.result,
    agent: u.agentPk,
  };
}
