import { RmmError } from '../types.js';
import { scanCompleted, SKEW_S } from './activities.js';
import type { NinjaOneApi } from './api.js';
import { decodeScan, deviceNumber, encodeScan, type PatchFamily } from './ids.js';

/**
 * Scans: POST …/patch/os/scan and …/patch/software/scan per device (a repeated scan is
 * harmless, so these are retried like reads). A family NinjaOne calls "not applicable" for
 * the device (400) is left out. A scan is done when every device logged a
 * …_SCAN_COMPLETED activity for every family it accepted since the scan started: by the
 * activity log, not by elapsed time, so a slow agent is waited for and a fast one is not.
 */

export async function triggerScan(
  api: NinjaOneApi,
  nowS: number,
  deviceIds: string[],
): Promise<{ scanId: string }> {
  if (deviceIds.length === 0) {
    throw new RmmError('INVALID_ARGUMENT', 'triggerScan needs at least one device id');
  }
  const ids = [...new Set(deviceIds.map(deviceNumber))];
  const t = nowS - SKEW_S;
  const accepted: [number, PatchFamily[]][] = [];
  for (const id of ids) {
    const families: PatchFamily[] = [];
    for (const f of ['os', 'sw'] as const)
      if (await api.patchAction(id, f, 'scan')) families.push(f);
    accepted.push([id, families]);
  }
  return { scanId: encodeScan({ t, s: accepted }) };
}

export async function readScan(api: NinjaOneApi, scanId: string): Promise<{ done: boolean }> {
  const scan = decodeScan(scanId);
  for (const [id, families] of scan.s) {
    if (families.length === 0) continue;
    const log = await api.activitiesSince(id, scan.t);
    if (!families.every((f) => log.some((a) => scanCompleted(a, f)))) return { done: false };
  }
  return { done: true };
}
