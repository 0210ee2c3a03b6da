import type { Client, Criticality, Device, Site } from '../../../domain/model.js';
import { CATALOG } from './catalog.js';
import {
  CITIES,
  CLIENT_NAMES,
  DEPARTMENTS,
  LINUX_SERVER_ROLES,
  WINDOWS_SERVER_ROLES,
  type ServerRole,
} from './names.js';
import type { SimulatorOptions } from './options.js';
import { PLATFORMS, type PlatformId } from './platforms.js';
import { chance, stream, type Stream } from './random.js';

/**
 * Builds the virtual fleet from the options alone. Structure (sites, platforms, hostnames)
 * comes from one PRNG stream per client; anything a rate controls (offline, broken, pilot,
 * missing patches) comes from `chance()` per device, so changing a rate never renames
 * devices and adding a client never changes the others.
 */

export interface SimDevice {
  /** As first reported; `online` here is the starting value, the state tracks changes. */
  device: Device;
  platform: PlatformId;
  /** Fails every install (broken update agent, full disk); decided by `perDevice`. */
  broken: boolean;
  /** Patch ids the device lacks when the fleet is built. */
  initiallyMissing: string[];
  /** Patch ids that apply to the device and are already installed. */
  initiallyInstalled: string[];
}

export interface Fleet {
  clients: Client[];
  sites: Map<string, Site[]>;
  devices: Map<string, SimDevice[]>;
  byId: Map<string, SimDevice>;
}

export function buildFleet(options: SimulatorOptions): Fleet {
  const fleet: Fleet = { clients: [], sites: new Map(), devices: new Map(), byId: new Map() };
  for (let index = 0; index < options.clients; index++) {
    const client = clientAt(index);
    const rng = stream(options.seed, 'client', client.id);
    const sites = pickSites(rng, client.id);
    const devices: SimDevice[] = [];
    const width = Math.max(4, String(options.devicesPerClient).length);
    const roleCounts = new Map<string, number>();
    for (let n = 1; n <= options.devicesPerClient; n++) {
      const id = `${client.id}-${String(n).padStart(width, '0')}`;
      const rmmRef = String(index * 1_000_000 + n);
      const sim = buildDevice(options, rng, { client, sites, id, rmmRef, n, roleCounts });
      devices.push(sim);
      fleet.byId.set(id, sim);
    }
    fleet.clients.push(client);
    fleet.sites.set(client.id, sites);
    fleet.devices.set(client.id, devices);
  }
  return fleet;
}

function clientAt(index: number): Client {
  const [id, name] = CLIENT_NAMES[index % CLIENT_NAMES.length] ?? ['client', 'Client'];
  const round = Math.floor(index / CLIENT_NAMES.length);
  // Past the named list, reuse names with a suffix so any client count stays unique.
  return round === 0 ? { id, name } : { id: `${id}-${round + 1}`, name: `${name} ${round + 1}` };
}

function pickSites(rng: Stream, clientId: string): Site[] {
  const pool = [...CITIES];
  const count = rng.int(2, 3);
  const sites: Site[] = [];
  for (let i = 0; i < count; i++) {
    const city = pool.splice(Math.floor(rng.next() * pool.length), 1)[0];
    if (!city) break;
    sites.push({
      id: `${clientId}-${city.code}`,
      clientId,
      name: i === 0 ? `${city.name} HQ` : city.name,
      timezone: city.timezone,
    });
  }
  return sites;
}

interface DeviceSeed {
  client: Client;
  sites: Site[];
  id: string;
  rmmRef: string;
  n: number;
  roleCounts: Map<string, number>;
}

const PLATFORM_WEIGHTS = Object.fromEntries(
  Object.entries(PLATFORMS).map(([id, p]) => [id, p.weight]),
) as Record<PlatformId, number>;

function buildDevice(options: SimulatorOptions, rng: Stream, seed: DeviceSeed): SimDevice {
  const { client, sites, id, n } = seed;
  const platformId = rng.weighted(PLATFORM_WEIGHTS);
  const platform = PLATFORMS[platformId];
  // The first site is headquarters and holds most of the devices.
  const site = rng.next() < 0.6 ? sites[0] : rng.pick(sites.slice(1));
  if (!site) throw new Error(`client ${client.id} has no sites`);
  const siteCode = site.id.slice(client.id.length + 1);
  const prefix = client.id.replace(/[^a-z0-9]/g, '').slice(0, 8);
  const tags: string[] = [platform.role];
  let hostname: string;
  let criticality: Criticality;
  let internetExposed = false;
  let laptop = false;

  if (platform.role === 'server') {
    const windows = platform.family === 'windows';
    const role: ServerRole = rng.pick(windows ? WINDOWS_SERVER_ROLES : LINUX_SERVER_ROLES);
    const count = (seed.roleCounts.get(role.stem) ?? 0) + 1;
    seed.roleCounts.set(role.stem, count);
    const nn = String(count).padStart(2, '0');
    hostname = windows
      ? `${prefix}-${siteCode}-${role.stem}${nn}`.toUpperCase()
      : `${role.stem}${nn}.${siteCode}.${prefix}.internal`;
    tags.push(role.tag);
    criticality = role.critical ? 'critical' : rng.next() < 0.6 ? 'high' : 'medium';
    internetExposed = role.internetFacing || chance(options.seed, id, 'exposed') < 0.05;
  } else {
    const department = rng.weighted(DEPARTMENTS);
    if (department !== 'none') tags.push(department);
    laptop = platform.family === 'macos' || rng.next() < 0.6;
    const nnn = String(n).padStart(3, '0');
    if (platform.family === 'windows') {
      hostname = `${prefix}-${siteCode}-${laptop ? 'LT' : 'DT'}${nnn}`.toUpperCase();
    } else if (platform.family === 'macos') {
      hostname = `${prefix}-mbp-${nnn}`;
    } else {
      hostname = `${prefix}-${siteCode}-ubuntu${nnn}`;
    }
    const finance = department === 'finance';
    criticality = finance ? 'high' : rng.next() < 0.7 ? 'low' : 'medium';
  }
  if (laptop) tags.push('laptop');
  if (chance(options.seed, id, 'pilot') < 0.1) tags.push('pilot');

  // A few laptops travel and report their own zone instead of their site's.
  const travelling = laptop && chance(options.seed, id, 'travelling') < 0.05;
  const timezone = travelling ? rng.pick(CITIES).timezone : null;

  const applicable = CATALOG.filter((e) => e.platforms.includes(platformId));
  const missing = applicable.filter(
    (e) => chance(options.seed, id, e.patch.id, 'missing') < e.prevalence,
  );
  const missingIds = new Set(missing.map((e) => e.patch.id));

  return {
    device: {
      id,
      clientId: client.id,
      siteId: site.id,
      hostname,
      osFamily: platform.family,
      osVersion: platform.version,
      tags,
      criticality,
      internetExposed,
      timezone,
      online: chance(options.seed, id, 'offline') >= options.offlineRate,
      rmmKind: 'simulator',
      rmmRef: seed.rmmRef,
    },
    platform: platformId,
    broken: chance(options.seed, id, 'broken') < options.failureRate.perDevice,
    initiallyMissing: [...missingIds],
    initiallyInstalled: applicable.map((e) => e.patch.id).filter((p) => !missingIds.has(p)),
  };
}
