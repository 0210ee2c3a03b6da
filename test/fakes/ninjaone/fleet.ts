/**
 * The fake NinjaOne's seed fleet: two organisations, their locations, Windows and macOS
 * devices (plus a network switch patching cannot reach), OS updates (KBs and one macOS
 * update) and third-party software patches (Chrome, Firefox, Java, Adobe Reader). Field
 * names and vocabularies follow the NinjaOne Public API v2 OpenAPI (see index.ts).
 */

export type Family = 'os' | 'sw';

export interface CatalogPatch {
  /** The fake's own handle: a KB, "macos-15.1", or a product name ("chrome"). */
  key: string;
  family: Family;
  kbNumber?: string;
  /** `name` of an OS patch, `title` of a software patch (version folded in, as NinjaOne does). */
  title: string;
  /** OS patches: `severity`; software patches: `impact`. */
  severity: string;
  type: string;
  productIdentifier?: string;
  /** Installing it makes the agent report `os.needsReboot`. */
  reboot: boolean;
}

export const CATALOG: readonly CatalogPatch[] = [
  {
    key: 'KB5044284',
    family: 'os',
    kbNumber: 'KB5044284',
    title:
      '2024-10 Cumulative Update for Windows 11 Version 24H2 for x64-based Systems (KB5044284)',
    severity: 'CRITICAL',
    type: 'SECURITY_UPDATES',
    reboot: true,
  },
  {
    key: 'KB5043050',
    family: 'os',
    kbNumber: 'KB5043050',
    title: '2024-10 Cumulative Update for .NET Framework 3.5 and 4.8.1 (KB5043050)',
    severity: 'IMPORTANT',
    type: 'SECURITY_UPDATES',
    reboot: false,
  },
  {
    key: 'KB890830',
    family: 'os',
    kbNumber: 'KB890830',
    title: 'Windows Malicious Software Removal Tool x64 - v5.128 (KB890830)',
    severity: 'MODERATE',
    type: 'UPDATE_ROLLUPS',
    reboot: false,
  },
  {
    key: 'KB5046617',
    family: 'os',
    kbNumber: 'KB5046617',
    title:
      '2024-11 Cumulative Update for Windows 11 Version 24H2 for x64-based Systems (KB5046617)',
    severity: 'CRITICAL',
    type: 'SECURITY_UPDATES',
    reboot: true,
  },
  {
    key: 'macos-15.1',
    family: 'os',
    title: 'macOS Sequoia 15.1',
    severity: 'IMPORTANT',
    type: 'SECURITY_UPDATES',
    reboot: true,
  },
  {
    key: 'chrome',
    family: 'sw',
    title: 'Google Chrome 130.0.6723.92',
    severity: 'CRITICAL',
    type: 'PATCH',
    productIdentifier: '2f6a1f0c-6c1e-4a8b-9d4e-0c9b6f1e2a01',
    reboot: false,
  },
  {
    key: 'firefox',
    family: 'sw',
    title: 'Mozilla Firefox 132.0.1',
    severity: 'IMPORTANT',
    type: 'PATCH',
    productIdentifier: '7d3b9e44-1f2a-4c6d-8e0f-3a5b7c9d1e02',
    reboot: false,
  },
  {
    key: 'java',
    family: 'sw',
    title: 'Java 8 Update 431',
    severity: 'IMPORTANT',
    type: 'PATCH',
    productIdentifier: 'c1e5a7b9-3d2f-4e6a-9b8c-5d7e9f1a3b03',
    reboot: false,
  },
  {
    key: 'adobe-reader',
    family: 'sw',
    title: 'Adobe Acrobat Reader DC 24.004.20220',
    severity: 'CRITICAL',
    type: 'PATCH',
    productIdentifier: 'e9a3c5d7-5f4b-4a2c-8d1e-7f9a1b3c5d04',
    reboot: false,
  },
];

export interface SeedDevice {
  id: number;
  organizationId: number;
  locationId: number;
  nodeClass: string;
  systemName: string;
  osName?: string;
  /** Catalog keys and their NinjaOne approval status. `hidden` ones appear at the first scan. */
  patches: { key: string; status: 'APPROVED' | 'MANUAL' | 'REJECTED'; hidden?: boolean }[];
}

export const ORGANIZATIONS = [
  {
    id: 1,
    name: 'Acme Dental',
    description: 'Three practices',
    nodeApprovalMode: 'AUTOMATIC',
    tags: [],
  },
  { id: 2, name: 'Globex Logistics', description: 'HQ only', nodeApprovalMode: 'MANUAL', tags: [] },
];

export const LOCATIONS: Record<number, { id: number; name: string; address: string }[]> = {
  1: [
    { id: 10, name: 'Main Office', address: '1 High Street' },
    { id: 11, name: 'Branch', address: '22 Mill Lane' },
  ],
  2: [{ id: 20, name: 'Headquarters', address: '400 Harbour Road' }],
};

const approved = (...keys: string[]) => keys.map((key) => ({ key, status: 'APPROVED' as const }));

export const SEED_DEVICES: readonly SeedDevice[] = [
  {
    id: 101,
    organizationId: 1,
    locationId: 10,
    nodeClass: 'WINDOWS_WORKSTATION',
    systemName: 'ACME-WS-01',
    osName: 'Windows 11 Professional Edition',
    patches: [
      ...approved('KB5044284', 'KB5043050', 'chrome', 'firefox', 'adobe-reader'),
      { key: 'KB890830', status: 'MANUAL' },
      { key: 'KB5046617', status: 'APPROVED', hidden: true },
    ],
  },
  {
    id: 102,
    organizationId: 1,
    locationId: 10,
    nodeClass: 'WINDOWS_SERVER',
    systemName: 'ACME-SRV-01',
    osName: 'Windows Server 2022 Standard Edition',
    patches: approved('KB5043050', 'java'),
  },
  {
    id: 103,
    organizationId: 1,
    locationId: 11,
    nodeClass: 'MAC',
    systemName: 'ACME-MAC-01',
    osName: 'macOS Sonoma 14.7',
    patches: approved('macos-15.1', 'chrome', 'firefox'),
  },
  {
    id: 104,
    organizationId: 1,
    locationId: 11,
    nodeClass: 'WINDOWS_WORKSTATION',
    systemName: 'ACME-WS-02',
    osName: 'Windows 11 Professional Edition',
    patches: approved('KB5044284', 'chrome'),
  },
  {
    id: 105,
    organizationId: 1,
    locationId: 10,
    nodeClass: 'NMS_SWITCH',
    systemName: 'acme-core-sw',
    patches: [],
  },
  {
    id: 201,
    organizationId: 2,
    locationId: 20,
    nodeClass: 'WINDOWS_WORKSTATION',
    systemName: 'GLOBEX-WS-01',
    osName: 'Windows 10 Enterprise Edition',
    patches: approved('KB5044284', 'chrome', 'adobe-reader'),
  },
  {
    id: 202,
    organizationId: 2,
    locationId: 20,
    nodeClass: 'MAC',
    systemName: 'GLOBEX-MAC-01',
    osName: 'macOS Sequoia 15.0',
    patches: approved('macos-15.1', 'firefox'),
  },
];

/** Why the chosen patch fails on the chosen device: a real Windows Update HRESULT. */
export const FAILURE_TEXT = '0x80070643: Fatal error during installation';
