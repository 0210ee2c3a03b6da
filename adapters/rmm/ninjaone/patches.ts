import type { OsFamily, Patch } from '../../../domain/model.js';
import type { NinjaOneApi } from './api.js';
import { osPatchId, softwarePatchId, type PatchFamily } from './ids.js';
import { osFamilyOf, osPatch, softwarePatch } from './mapping.js';
import type { WireDevice } from './wire.js';

/**
 * A device's patches as NinjaOne reports them, from two kinds of report per family: the
 * current feed (/v2/queries/{os,software}-patches: MANUAL, APPROVED, REJECTED; patches with
 * no install attempt yet) and the install history (…-patch-installs: INSTALLED, FAILED).
 *
 * - missing: in the current feed, or whose latest install attempt FAILED.
 * - pending reboot: NinjaOne flags reboots per device (`os.needsReboot`), not per patch, so
 *   every OS patch installed since the last boot of a flagged device waits for the reboot.
 *   Third-party application updates never wait for one.
 * - installed: the latest attempt is INSTALLED and not pending a reboot.
 */
export interface InstallRecord {
  patchId: string;
  family: PatchFamily;
  vendorRef: string;
  /** INSTALLED or FAILED (upper-cased; NinjaOne declares no enum). */
  status: string;
  /** Epoch seconds. */
  at: number;
}

export interface DevicePatches {
  missing: Patch[];
  /** Latest install attempt per patch id. */
  latest: Map<string, InstallRecord>;
  installed: string[];
  pendingReboot: string[];
}

export async function readDevicePatches(
  api: NinjaOneApi,
  device: WireDevice,
  families: readonly PatchFamily[] = ['os', 'sw'],
): Promise<DevicePatches> {
  const osFamily: OsFamily = osFamilyOf(device.nodeClass) ?? 'windows';
  const wantOs = families.includes('os');
  const wantSw = families.includes('sw');
  const [osCurrent, swCurrent, osInstalls, swInstalls] = await Promise.all([
    wantOs ? api.osPatches(device.id) : [],
    wantSw ? api.softwarePatches(device.id) : [],
    wantOs ? api.osPatchInstalls(device.id) : [],
    wantSw ? api.softwarePatchInstalls(device.id) : [],
  ]);

  const latest = new Map<string, InstallRecord>();
  const keep = (r: InstallRecord) => {
    const seen = latest.get(r.patchId);
    if (!seen || r.at >= seen.at) latest.set(r.patchId, r);
  };
  for (const r of osInstalls) {
    keep({
      patchId: osPatchId(r),
      family: 'os',
      vendorRef: r.kbNumber || r.name,
      status: r.status.toUpperCase(),
      at: r.installedAt ?? 0,
    });
  }
  for (const r of swInstalls) {
    keep({
      patchId: softwarePatchId(r),
      family: 'sw',
      vendorRef: r.title,
      status: r.status.toUpperCase(),
      at: r.installedAt ?? 0,
    });
  }

  const missing = new Map<string, Patch>();
  for (const r of osCurrent)
    if (r.status.toUpperCase() !== 'INSTALLED') add(missing, osPatch(r, osFamily));
  for (const r of swCurrent)
    if (r.status.toUpperCase() !== 'INSTALLED') add(missing, softwarePatch(r));
  // A failed attempt leaves the current feed but the patch is still missing.
  for (const r of osInstalls)
    if (latest.get(osPatchId(r))?.status === 'FAILED') add(missing, osPatch(r, osFamily));
  for (const r of swInstalls)
    if (latest.get(softwarePatchId(r))?.status === 'FAILED') add(missing, softwarePatch(r));

  const lastBoot = device.os?.lastBootTime ?? 0;
  const waits = (r: InstallRecord) =>
    r.family === 'os' && device.os?.needsReboot === true && r.at >= lastBoot;
  const installed: string[] = [];
  const pendingReboot: string[] = [];
  for (const r of latest.values()) {
    if (r.status !== 'INSTALLED' || missing.has(r.patchId)) continue;
    (waits(r) ? pendingReboot : installed).push(r.patchId);
  }
  return {
    missing: [...missing.values()].sort((a, b) => a.id.localeCompare(b.id)),
    latest,
    installed: installed.sort(),
    pendingReboot: pendingReboot.sort(),
  };
}

function add(map: Map<string, Patch>, p: Patch): void {
  if (!map.has(p.id)) map.set(p.id, p);
}
