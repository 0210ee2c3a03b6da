/**
 * Names the simulated fleet draws from: fictional MSP clients, office cities with their
 * IANA time zones (so maintenance-window code meets real offsets and DST), and the
 * server roles that decide hostnames, criticality and internet exposure.
 */

export const CLIENT_NAMES: readonly (readonly [id: string, name: string])[] = [
  ['acme', 'Acme Corporation'],
  ['globex', 'Globex Corporation'],
  ['initech', 'Initech'],
  ['umbrella', 'Umbrella Health'],
  ['hooli', 'Hooli'],
  ['vandelay', 'Vandelay Industries'],
  ['soylent', 'Soylent Foods'],
  ['wonka', 'Wonka Confectionery'],
  ['tyrell', 'Tyrell Biotech'],
  ['cyberdyne', 'Cyberdyne Systems'],
];

export interface City {
  code: string;
  name: string;
  timezone: string;
}

export const CITIES: readonly City[] = [
  { code: 'nyc', name: 'New York', timezone: 'America/New_York' },
  { code: 'chi', name: 'Chicago', timezone: 'America/Chicago' },
  { code: 'den', name: 'Denver', timezone: 'America/Denver' },
  { code: 'sfo', name: 'San Francisco', timezone: 'America/Los_Angeles' },
  { code: 'tor', name: 'Toronto', timezone: 'America/Toronto' },
  { code: 'lon', name: 'London', timezone: 'Europe/London' },
  { code: 'ber', name: 'Berlin', timezone: 'Europe/Berlin' },
  { code: 'par', name: 'Paris', timezone: 'Europe/Paris' },
  { code: 'ams', name: 'Amsterdam', timezone: 'Europe/Amsterdam' },
  { code: 'tyo', name: 'Tokyo', timezone: 'Asia/Tokyo' },
  { code: 'sgp', name: 'Singapore', timezone: 'Asia/Singapore' },
  { code: 'syd', name: 'Sydney', timezone: 'Australia/Sydney' },
];

export interface ServerRole {
  /** Hostname stem: upper case on Windows, lower case on Linux. */
  stem: string;
  tag: string;
  critical: boolean;
  internetFacing: boolean;
}

export const WINDOWS_SERVER_ROLES: readonly ServerRole[] = [
  { stem: 'DC', tag: 'domain-controller', critical: true, internetFacing: false },
  { stem: 'SQL', tag: 'database', critical: true, internetFacing: false },
  { stem: 'FS', tag: 'file-server', critical: false, internetFacing: false },
  { stem: 'APP', tag: 'app-server', critical: false, internetFacing: false },
  { stem: 'RDS', tag: 'remote-desktop', critical: false, internetFacing: true },
  { stem: 'WEB', tag: 'web', critical: false, internetFacing: true },
  { stem: 'PRN', tag: 'print-server', critical: false, internetFacing: false },
];

export const LINUX_SERVER_ROLES: readonly ServerRole[] = [
  { stem: 'web', tag: 'web', critical: false, internetFacing: true },
  { stem: 'proxy', tag: 'reverse-proxy', critical: false, internetFacing: true },
  { stem: 'db', tag: 'database', critical: true, internetFacing: false },
  { stem: 'app', tag: 'app-server', critical: false, internetFacing: false },
  { stem: 'mon', tag: 'monitoring', critical: false, internetFacing: false },
  { stem: 'ci', tag: 'ci-runner', critical: false, internetFacing: false },
  { stem: 'k8s-node', tag: 'kubernetes', critical: false, internetFacing: false },
];

/** Workstation departments and their weights; `none` means no department tag. */
export const DEPARTMENTS = {
  finance: 10,
  hr: 6,
  sales: 20,
  engineering: 20,
  operations: 14,
  none: 30,
} as const;
