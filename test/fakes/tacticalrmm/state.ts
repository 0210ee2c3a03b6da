/**
 * The fake Tactical RMM's memory and seed: clients with sites, agents (Windows and one
 * Linux), each agent's effective patch policy, Windows update rows and automation
 * policies. Field names and values follow the Django models of
 * github.com/amidaware/tacticalrmm (api/tacticalrmm/{clients,agents,winupdate}/models.py).
 */

export type Approval = 'manual' | 'approve' | 'ignore' | 'inherit';
export type UpdateAction = 'inherit' | 'approve' | 'ignore' | 'nothing';

export interface FakePatchPolicy {
  critical: Approval;
  important: Approval;
  moderate: Approval;
  low: Approval;
  other: Approval;
  run_time_frequency: 'daily' | 'monthly' | 'inherit';
  reboot_after_install: 'never' | 'required' | 'always' | 'inherit';
}

export interface FakeSite {
  id: number;
  name: string;
  server_policy: number | null;
  workstation_policy: number | null;
  block_policy_inheritance: boolean;
}

export interface FakeClient {
  id: number;
  name: string;
  server_policy: number | null;
  workstation_policy: number | null;
  block_policy_inheritance: boolean;
  sites: FakeSite[];
}

export interface FakeAgent {
  pk: number;
  agent_id: string;
  hostname: string;
  siteId: number;
  plat: 'windows' | 'linux' | 'darwin';
  operating_system: string;
  monitoring_type: 'server' | 'workstation';
  online: boolean;
  needs_reboot: boolean;
  /** Epoch seconds. */
  boot_time: number;
  /** Epoch ms. */
  last_seen: number;
  time_zone: string | null;
  /** The merge Agent.get_patch_policy() returns (what GET /agents/{id}/ shows as effective). */
  policy: FakePatchPolicy;
}

export interface FakeUpdate {
  id: number;
  agentPk: number;
  guid: string;
  kb: string;
  title: string;
  severity: string;
  categories: string[];
  installed: boolean;
  downloaded: boolean;
  action: UpdateAction;
  result: string;
  /** Epoch ms. */
  date_installed: number | null;
  /** Not on the wire: whether Windows asks for a reboot after installing it. */
  rebootRequired: boolean;
  /** Not on the wire: the agent's install of it fails. */
  fails: boolean;
}

export interface FakeAutomationPolicy {
  id: number;
  name: string;
  active: boolean;
  patch: FakePatchPolicy | null;
}

export interface FakeTacticalState {
  clients: FakeClient[];
  agents: FakeAgent[];
  updates: FakeUpdate[];
  policies: FakeAutomationPolicy[];
  defaultTimeZone: string;
  nextUpdateId: number;
}

export const MANUAL: FakePatchPolicy = {
  critical: 'manual',
  important: 'manual',
  moderate: 'manual',
  low: 'manual',
  other: 'manual',
  run_time_frequency: 'inherit',
  reboot_after_install: 'never',
};

/**
 * A common MSP profile: approve Critical and Important, install daily, reboot when required.
 * (Tactical's own default approves nothing: every severity "inherit", no schedule.)
 */
export const AUTO_CRITICAL_IMPORTANT: FakePatchPolicy = {
  ...MANUAL,
  critical: 'approve',
  important: 'approve',
  run_time_frequency: 'daily',
  reboot_after_install: 'required',
};

export function addUpdate(
  state: FakeTacticalState,
  a: FakeAgent,
  u: Pick<FakeUpdate, 'kb' | 'title' | 'severity' | 'categories' | 'rebootRequired'> & {
    installed?: boolean;
  },
): FakeUpdate {
  const id = state.nextUpdateId++;
  const row: FakeUpdate = {
    id,
    agentPk: a.pk,
    guid: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`,
    kb: u.kb,
    title: u.title,
    severity: u.severity,
    categories: u.categories,
    installed: u.installed ?? false,
    downloaded: u.installed ?? false,
    action: 'nothing',
    result: 'n/a', // a scan reports installed updates without an install result
    date_installed: null,
    rebootRequired: u.rebootRequired,
    fails: false,
  };
  state.updates.push(row);
  return row;
}
