import { randomUUID } from 'node:crypto';
import { CATALOG, FAILURE_TEXT, SEED_DEVICES, type CatalogPatch, type Family } from './fleet.js';

/**
 * The fake NinjaOne's memory and the work its agents do: scans reveal patches, applies
 * install every APPROVED patch of a family (NinjaOne has no per-patch apply), a reboot
 * completes pending installs. Work finishes after a configurable delay, only while the
 * device is online, and is written to the device's activity log with NinjaOne's status codes.
 */

export interface FakeDevice {
  id: number;
  organizationId: number;
  locationId: number;
  nodeClass: string;
  systemName: string;
  displayName: string;
  offline: boolean;
  os?: { name: string; needsReboot: boolean; lastBootTime: number };
  maintenance?: { status: 'PENDING' | 'IN_MAINTENANCE' | 'FAILED'; start: number; end: number };
  /** Features the maintenance window switches off (ALERTS, PATCHING, AVSCANS, TASKS). */
  disabledFeatures?: string[];
  patches: Map<string, { status: string; hidden: boolean; rowId: string; timestamp: number }>;
}

export interface InstallRecord {
  deviceId: number;
  key: string;
  rowId: string;
  status: 'INSTALLED' | 'FAILED';
  installedAt: number;
}

export interface Activity {
  id: number;
  activityTime: number;
  deviceId: number;
  severity: string;
  priority: string;
  seriesUid: string;
  activityType: string;
  statusCode: string;
  status: string;
  activityResult: string;
  subject?: string;
  message: string;
  type: string;
}

export interface Delays {
  scanDelayMs: number;
  applyDelayMs: number;
  rebootDelayMs: number;
}

const PREFIX: Record<Family, string> = { os: 'PATCH_MANAGEMENT', sw: 'SOFTWARE_PATCH_MANAGEMENT' };
const nowS = () => Date.now() / 1000;
export const catalogEntry = (key: string): CatalogPatch => CATALOG.find((c) => c.key === key)!;

export class FakeNinjaState {
  readonly devices = new Map<number, FakeDevice>();
  readonly installs: InstallRecord[] = [];
  readonly activities: Activity[] = [];
  readonly applyLog: { deviceId: number; family: Family; at: number }[] = [];
  private nextActivity = 5_000;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly delays: Delays,
    /** "deviceId|key" pairs whose install fails. */
    private readonly failures: ReadonlySet<string>,
    offline: readonly number[],
  ) {
    const boot = nowS() - 86_400;
    for (const s of SEED_DEVICES) {
      this.devices.set(s.id, {
        id: s.id,
        organizationId: s.organizationId,
        locationId: s.locationId,
        nodeClass: s.nodeClass,
        systemName: s.systemName,
        displayName: s.systemName,
        offline: offline.includes(s.id),
        ...(s.osName ? { os: { name: s.osName, needsReboot: false, lastBootTime: boot } } : {}),
        patches: new Map(
          s.patches.map((p) => [
            p.key,
            { status: p.status, hidden: !!p.hidden, rowId: randomUUID(), timestamp: boot },
          ]),
        ),
      });
    }
  }

  /** Patch management reaches computers only; network gear answers 400 "not applicable". */
  applicable(d: FakeDevice): boolean {
    return !d.nodeClass.startsWith('NMS_');
  }

  log(
    deviceId: number,
    a: Partial<Activity> & { activityType: string; statusCode: string; message: string },
  ): Activity {
    const act: Activity = {
      id: this.nextActivity++,
      activityTime: nowS(),
      deviceId,
      severity: 'NONE',
      priority: 'NONE',
      seriesUid: randomUUID(),
      status: a.statusCode.toLowerCase().replaceAll('_', ' '),
      activityResult: 'SUCCESS',
      type: a.activityType,
      ...a,
    };
    this.activities.push(act);
    return act;
  }

  /** Runs `work` after `ms`, waiting while the device is offline (its agent is unreachable). */
  private later(deviceId: number, ms: number, work: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.devices.get(deviceId)?.offline) this.later(deviceId, ms, work);
      else work();
    }, ms);
    this.timers.add(t);
  }

  scan(d: FakeDevice, family: Family): void {
    const series = this.log(d.id, {
      activityType: PREFIX[family],
      statusCode: `${PREFIX[family]}_SCAN_STARTED`,
      message: 'Patch scan started',
    }).seriesUid;
    this.later(d.id, this.delays.scanDelayMs, () => {
      for (const [key, p] of d.patches) {
        if (catalogEntry(key).family !== family) continue;
        p.hidden = false;
        p.timestamp = nowS();
      }
      this.log(d.id, {
        activityType: PREFIX[family],
        statusCode: `${PREFIX[family]}_SCAN_COMPLETED`,
        message: 'Patch scan completed',
        seriesUid: series,
      });
    });
  }

  apply(d: FakeDevice, family: Family): void {
    this.applyLog.push({ deviceId: d.id, family, at: Date.now() });
    const series = this.log(d.id, {
      activityType: PREFIX[family],
      statusCode: `${PREFIX[family]}_APPLY_PATCH_STARTED`,
      message: 'Patch apply started',
    }).seriesUid;
    this.later(d.id, this.delays.applyDelayMs, () => {
      let failed = 0;
      for (const [key, p] of [...d.patches]) {
        const c = catalogEntry(key);
        if (c.family !== family || p.hidden || p.status !== 'APPROVED') continue;
        const ok = !this.failures.has(`${d.id}|${key}`);
        this.installs.push({
          deviceId: d.id,
          key,
          rowId: p.rowId,
          status: ok ? 'INSTALLED' : 'FAILED',
          installedAt: nowS(),
        });
        d.patches.delete(key); // the current feed lists patches with no install attempt
        if (!ok) {
          failed++;
          this.log(d.id, {
            activityType: PREFIX[family],
            statusCode: `${PREFIX[family]}_INSTALL_FAILED`,
            activityResult: 'FAILURE',
            message: `${c.kbNumber ?? c.title} failed to install: ${FAILURE_TEXT}`,
            seriesUid: series,
          });
        } else if (c.reboot && d.os) d.os.needsReboot = true;
      }
      this.log(d.id, {
        activityType: PREFIX[family],
        statusCode: `${PREFIX[family]}_APPLY_PATCH_COMPLETED`,
        activityResult: failed ? 'FAILURE' : 'SUCCESS',
        message: failed
          ? `Patch apply completed with ${failed} failure(s)`
          : 'Patch apply completed',
        seriesUid: series,
      });
    });
  }

  reboot(d: FakeDevice, mode: string, reason: string): void {
    this.log(d.id, {
      activityType: 'ACTION',
      statusCode: 'START_REQUESTED',
      subject: 'Reboot',
      message: `Reboot (${mode}) requested. Reason: ${reason}`,
    });
    this.later(d.id, this.delays.rebootDelayMs, () => {
      if (d.os) d.os = { ...d.os, needsReboot: false, lastBootTime: nowS() };
      this.log(d.id, {
        activityType: 'SYSTEM',
        statusCode: 'SYSTEM_REBOOTED',
        message: 'System rebooted',
      });
    });
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
