import { addUpdate, AUTO_CRITICAL_IMPORTANT, MANUAL } from './state.js';
import type { FakeAgent, FakeClient, FakeTacticalState, FakeUpdate } from './state.js';

/**
 * The fake's starting fleet: two clients, six agents (one Linux, one whose effective patch
 * policy auto-approves Critical and Important), and five real-looking Windows updates per
 * Windows agent, the last already installed (reported by a scan, so no install date).
 */

/** Agent ids are 40 random characters in Tactical; these are recognisable in test output. */
export const agentIdOf = (name: string): string => `${name}-${'x'.repeat(40)}`.slice(0, 40);

const CATALOG: Array<
  Omit<
    FakeUpdate,
    | 'id'
    | 'agentPk'
    | 'guid'
    | 'installed'
    | 'downloaded'
    | 'action'
    | 'result'
    | 'date_installed'
    | 'fails'
  >
> = [
  {
    kb: 'KB5044284',
    title:
      '2024-10 Cumulative Update for Windows 11 Version 24H2 for x64-based Systems (KB5044284)',
    severity: 'Critical',
    categories: ['Security Updates', 'Windows 11'],
    rebootRequired: true,
  },
  {
    kb: 'KB5043080',
    title: '2024-09 Cumulative Update for .NET Framework 3.5 and 4.8.1 for Windows 11 (KB5043080)',
    severity: 'Important',
    categories: ['Security Updates', 'Windows 11'],
    rebootRequired: true,
  },
  {
    kb: 'KB890830',
    title: 'Windows Malicious Software Removal Tool x64 - v5.128 (KB890830)',
    severity: '',
    categories: ['Update Rollups', 'Windows 11'],
    rebootRequired: false,
  },
  {
    kb: 'KB2267602',
    title:
      'Security Intelligence Update for Microsoft Defender Antivirus - KB2267602 (Version 1.419.163.0)',
    severity: '',
    categories: ['Definition Updates', 'Microsoft Defender Antivirus'],
    rebootRequired: false,
  },
  {
    kb: 'KB5045935',
    title: '2024-10 Cumulative Update Preview for .NET Framework (KB5045935)',
    severity: 'Moderate',
    categories: ['Updates', 'Windows 11'],
    rebootRequired: false,
  },
];

export function seedState(now: number, defaultTimeZone: string): FakeTacticalState {
  const clients: FakeClient[] = [
    {
      id: 1,
      name: 'Acme',
      server_policy: 2,
      workstation_policy: null,
      block_policy_inheritance: false,
      sites: [
        {
          id: 11,
          name: 'Berlin HQ',
          server_policy: null,
          workstation_policy: 1,
          block_policy_inheritance: false,
        },
        {
          id: 12,
          name: 'Munich',
          server_policy: null,
          workstation_policy: null,
          block_policy_inheritance: false,
        },
      ],
    },
    {
      id: 2,
      name: 'Globex',
      server_policy: null,
      workstation_policy: null,
      block_policy_inheritance: false,
      sites: [
        {
          id: 21,
          name: 'Main',
          server_policy: null,
          workstation_policy: null,
          block_policy_inheritance: false,
        },
      ],
    },
  ];
  const bootTime = Math.floor(now / 1000) - 86_400;
  let pk = 0;
  const agent = (name: string, siteId: number, extra: Partial<FakeAgent> = {}): FakeAgent => ({
    pk: ++pk,
    agent_id: agentIdOf(name),
    hostname: name.toUpperCase(),
    siteId,
    plat: 'windows',
    operating_system: 'Windows 11 Pro, 64 bit v24H2 (build 26100.1742)',
    monitoring_type: 'workstation',
    online: true,
    needs_reboot: false,
    boot_time: bootTime,
    last_seen: now,
    time_zone: null,
    policy: { ...MANUAL },
    ...extra,
  });
  const agents = [
    agent('ws-berlin-01', 11),
    agent('ws-berlin-02', 11, { policy: { ...AUTO_CRITICAL_IMPORTANT } }),
    agent('srv-berlin-01', 11, {
      monitoring_type: 'server',
      operating_system: 'Windows Server 2022 Standard, 64 bit (build 20348.2700)',
    }),
    agent('lnx-berlin-01', 11, { plat: 'linux', operating_system: 'Debian 12 bookworm' }),
    agent('ws-munich-01', 12),
    agent('ws-globex-01', 21),
  ];
  const state: FakeTacticalState = {
    clients,
    agents,
    updates: [],
    policies: [
      { id: 1, name: 'Workstations (auto)', active: true, patch: { ...AUTO_CRITICAL_IMPORTANT } },
      { id: 2, name: 'Servers (manual)', active: true, patch: { ...MANUAL } },
    ],
    defaultTimeZone,
    nextUpdateId: 100,
  };
  for (const a of agents.filter((x) => x.plat === 'windows')) {
    for (const [i, c] of CATALOG.entries()) {
      addUpdate(state, a, { ...c, installed: i === CATALOG.length - 1 });
    }
  }
  return state;
}
