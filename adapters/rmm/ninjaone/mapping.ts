import type {
  Criticality,
  Device,
  OsFamily,
  Patch,
  PatchCategory,
  Severity,
} from '../../../domain/model.js';
import { osPatchId, softwarePatchId } from './ids.js';
import type { WireDevice, WireOsPatch, WireSoftwarePatch } from './wire.js';

/** NinjaOne node classes patch management covers; network gear, VMs hosts, phones are not. */
export function osFamilyOf(nodeClass: string): OsFamily | undefined {
  if (nodeClass.startsWith('WINDOWS_')) return 'windows';
  if (nodeClass === 'MAC' || nodeClass === 'MAC_SERVER') return 'macos';
  if (nodeClass.startsWith('LINUX_')) return 'linux';
  return undefined;
}

/** NinjaOne has no criticality; servers start higher than workstations until policy says otherwise. */
const criticalityOf = (nodeClass: string): Criticality =>
  nodeClass.endsWith('_SERVER') ? 'high' : 'medium';

/** A NinjaOne device as patchops sees it; undefined for a node patching cannot reach. */
export function toDevice(d: WireDevice): Device | undefined {
  const osFamily = osFamilyOf(d.nodeClass);
  if (!osFamily) return undefined;
  const hostname = d.systemName || d.displayName || d.dnsName || `device-${d.id}`;
  return {
    id: String(d.id),
    clientId: String(d.organizationId),
    siteId: String(d.locationId),
    hostname,
    osFamily,
    osVersion: d.os?.name || d.nodeClass,
    tags: [...(d.tags ?? [])],
    criticality: criticalityOf(d.nodeClass),
    internetExposed: false,
    // NinjaOne records no time zone per device; the site's (NINJAONE_TIMEZONE) applies.
    timezone: null,
    online: d.offline !== true,
    rmmKind: 'ninjaone',
    rmmRef: String(d.id),
  };
}

/**
 * NinjaOne sends two vocabularies on the same field: MSRC words in upper case and its own
 * engine's in lower case ("security", "recommended"). "security" says what a patch is, not
 * how urgent, so it ranks as moderate; unknown words fall to "none".
 */
export function severityOf(raw: string | undefined): Severity {
  switch ((raw ?? '').toUpperCase()) {
    case 'CRITICAL':
      return 'critical';
    case 'IMPORTANT':
    case 'HIGH':
      return 'important';
    case 'MODERATE':
    case 'MEDIUM':
    case 'SECURITY':
      return 'moderate';
    case 'LOW':
    case 'RECOMMENDED':
      return 'low';
    default:
      return 'none';
  }
}

function osCategory(type: string | undefined): PatchCategory {
  const t = (type ?? '').toUpperCase();
  if (t.includes('SECURITY')) return 'security';
  if (t.includes('CRITICAL')) return 'critical_update';
  if (t.includes('FEATURE')) return 'feature_pack';
  if (t.includes('DRIVER')) return 'driver';
  if (t.includes('DEFINITION')) return 'definition';
  return 'update';
}

/** NinjaOne's public API offers no rollback, so no NinjaOne patch is uninstallable here. */
export function osPatch(row: WireOsPatch, family: OsFamily): Patch {
  const category = osCategory(row.type);
  return {
    id: osPatchId(row),
    vendorRef: row.kbNumber || row.name,
    title: row.name,
    product: family === 'macos' ? 'macOS' : family === 'linux' ? 'Linux' : 'Windows',
    kind: category === 'driver' ? 'driver' : 'os',
    category,
    vendorSeverity: severityOf(row.severity),
    cvss: null,
    epss: null,
    kev: false,
    cveIds: [],
    releaseDate: null,
    // NinjaOne does not say per patch; OS updates usually need one and the agent reports it.
    rebootRequired: category !== 'definition',
    uninstallable: false,
  };
}

export function softwarePatch(row: WireSoftwarePatch): Patch {
  return {
    id: softwarePatchId(row),
    vendorRef: row.title,
    title: row.title,
    // "Google Chrome 141.0.7390.55" → "Google Chrome": the version is folded into the title.
    product: row.title.replace(/\s+v?\d[\w.+-]*$/, '') || row.title,
    kind: 'application',
    category: 'third_party',
    vendorSeverity: severityOf(row.impact),
    cvss: null,
    epss: null,
    kev: false,
    cveIds: [],
    releaseDate: null,
    rebootRequired: false,
    uninstallable: false,
  };
}
