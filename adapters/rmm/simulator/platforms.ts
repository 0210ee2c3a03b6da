import type { OsFamily } from '../../../domain/model.js';

/**
 * The operating systems in the simulated fleet. The catalog says which platforms a patch
 * applies to; the fleet builder draws devices from these with the weights below, which
 * land near 65% Windows, 10% macOS and 25% Linux.
 */
export type Role = 'workstation' | 'server';

export interface Platform {
  family: OsFamily;
  /** What `Device.osVersion` shows. */
  version: string;
  role: Role;
  /** Relative share of the fleet. */
  weight: number;
}

export const PLATFORMS = {
  'win11-25h2': {
    family: 'windows',
    version: 'Windows 11 Pro 25H2',
    role: 'workstation',
    weight: 18,
  },
  'win11-24h2': {
    family: 'windows',
    version: 'Windows 11 Pro 24H2',
    role: 'workstation',
    weight: 20,
  },
  'win10-22h2': {
    family: 'windows',
    version: 'Windows 10 Pro 22H2',
    role: 'workstation',
    weight: 12,
  },
  ws2022: { family: 'windows', version: 'Windows Server 2022 Standard', role: 'server', weight: 9 },
  ws2019: { family: 'windows', version: 'Windows Server 2019 Standard', role: 'server', weight: 6 },
  'macos-26': { family: 'macos', version: 'macOS Tahoe 26.6', role: 'workstation', weight: 6 },
  'macos-15': { family: 'macos', version: 'macOS Sequoia 15.7', role: 'workstation', weight: 4 },
  debian12: {
    family: 'linux',
    version: 'Debian GNU/Linux 12 (bookworm)',
    role: 'server',
    weight: 12,
  },
  'ubuntu-2404': { family: 'linux', version: 'Ubuntu 24.04.3 LTS', role: 'server', weight: 5 },
  'ubuntu-2404-desktop': {
    family: 'linux',
    version: 'Ubuntu 24.04.3 LTS',
    role: 'workstation',
    weight: 4,
  },
  'ubuntu-2204': { family: 'linux', version: 'Ubuntu 22.04.5 LTS', role: 'server', weight: 4 },
} as const satisfies Record<string, Platform>;

export type PlatformId = keyof typeof PLATFORMS;

export const PLATFORM_IDS = Object.keys(PLATFORMS) as PlatformId[];

export const WINDOWS_DESKTOPS = ['win11-25h2', 'win11-24h2', 'win10-22h2'] as const;
export const WINDOWS = [...WINDOWS_DESKTOPS, 'ws2022', 'ws2019'] as const;
export const MACOS = ['macos-26', 'macos-15'] as const;
export const NOBLE = ['ubuntu-2404', 'ubuntu-2404-desktop'] as const;
