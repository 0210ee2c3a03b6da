import type {
  Client,
  Device,
  Patch,
  PatchCategory,
  PatchKind,
  Severity,
  Site,
} from '../../../domain/model.js';
import type { WireAgentRow, WireClient, WireWinUpdate } from './wire.js';

/**
 * Tactical's records in patchops' words. Patch ids are "win:KB…" so one patch has one id
 * across every device (the simulator uses the same form); Tactical's own update rows are
 * per agent and are found again by KB.
 */

export const KIND = 'tacticalrmm';

export const toClient = (c: WireClient): Client => ({ id: String(c.id), name: c.name });

export const toSite = (c: WireClient, s: WireClient['sites'][number], timezone: string): Site => ({
  id: String(s.id),
  clientId: String(c.id),
  name: s.name,
  timezone,
});

/** Only Windows agents are listed: Tactical patches Windows only (scan answers 400 for others). */
export const isWindows = (a: { plat: string }): boolean => a.plat.toLowerCase() === 'windows';

export function toDevice(a: WireAgentRow, client: WireClient): Device | undefined {
  // The agent table names its site; names are unique within a client in practice, and the
  // lowest id wins when they are not so the answer is at least stable.
  const site = [...client.sites].sort((x, y) => x.id - y.id).find((s) => s.name === a.site_name);
  if (!site) return undefined;
  return {
    id: a.agent_id,
    clientId: String(client.id),
    siteId: String(site.id),
    hostname: a.hostname,
    osFamily: 'windows',
    osVersion: a.operating_system?.trim() || 'Windows',
    tags: [`tactical:${a.monitoring_type}`],
    // Tactical has no criticality or exposure; servers get "high" so policies can tell them apart.
    criticality: a.monitoring_type === 'server' ? 'high' : 'medium',
    internetExposed: false,
    // The agent table carries no time zone; the site's (Tactical's default) applies.
    timezone: null,
    online: a.status === 'online',
    rmmKind: KIND,
    rmmRef: a.agent_id,
  };
}

export const patchIdOf = (kb: string): string => `win:${kb.toUpperCase()}`;

/** The KB a patch id names, or undefined when it is not one of ours. */
export function kbOf(patchId: string): string | undefined {
  const m = /^win:(KB\d+)$/i.exec(patchId);
  return m ? m[1]!.toUpperCase() : undefined;
}

const SEVERITY: Record<string, Severity> = {
  critical: 'critical',
  important: 'important',
  moderate: 'moderate',
  low: 'low',
};

export const severityOf = (s: string | null): Severity =>
  SEVERITY[(s ?? '').toLowerCase()] ?? 'none';

/** Microsoft's update classifications, as WUA reports them among the categories. */
const CLASSIFICATION: Array<[string, PatchCategory]> = [
  ['Security Updates', 'security'],
  ['Critical Updates', 'critical_update'],
  ['Definition Updates', 'definition'],
  ['Drivers', 'driver'],
  ['Feature Packs', 'feature_pack'],
  ['Upgrades', 'feature_pack'],
  ['Update Rollups', 'update'],
  ['Service Packs', 'update'],
  ['Updates', 'update'],
];

export function toPatch(u: WireWinUpdate & { kb: string }): Patch {
  const cats = (u.categories ?? []).filter((c): c is string => !!c);
  const category = CLASSIFICATION.find(([name]) => cats.includes(name))?.[1] ?? 'update';
  const products = cats.filter((c) => !CLASSIFICATION.some(([name]) => name === c));
  const kind: PatchKind = category === 'driver' ? 'driver' : 'os';
  const text = `${u.title ?? ''} ${u.description ?? ''}`;
  return {
    id: patchIdOf(u.kb),
    vendorRef: u.kb.toUpperCase(),
    title: u.title?.trim() || u.kb,
    product: products[0] ?? 'Microsoft Windows',
    kind,
    category,
    vendorSeverity: severityOf(u.severity),
    cvss: null,
    epss: null,
    kev: false,
    cveIds: [...new Set(text.match(/CVE-\d{4}-\d{4,}/g) ?? [])],
    releaseDate: null,
    // WUA tells only after installing; cumulative and security updates almost always need one.
    rebootRequired: category !== 'definition' && category !== 'driver',
    // Tactical offers no uninstall of Windows updates.
    uninstallable: false,
  };
}

/** Rows with a KB (Tactical always sets one; a null one cannot be matched to a patch). */
export const withKb = (rows: WireWinUpdate[]): Array<WireWinUpdate & { kb: string }> =>
  rows.filter((u): u is WireWinUpdate & { kb: string } => !!u.kb);
