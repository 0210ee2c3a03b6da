import { Context, sleep } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Patch } from '../domain/model.js';
import type { ScanResult } from '../store/inventory.js';
import { rethrow } from './failures.js';
import type { ActivityDeps } from './index.js';

/**
 * Scanning: a client's inventory (sites, devices) and each device's missing and installed
 * patches, read from the RMM and recorded in PostgreSQL. An RMM error that retrying cannot
 * fix (bad credentials, an unknown client) fails the scan at once instead of retrying it
 * for the activity's two hours.
 */

/** How many devices' scan results are read from the RMM at once. */
const SCAN_READS_AT_ONCE = 10;

export function createScanActivities(deps: ActivityDeps) {
  const { store, rmm } = deps;
  const syncClient = async (clientId: string): Promise<void> => {
    try {
      await syncClientOnce(clientId);
    } catch (err) {
      rethrow(err);
    }
  };
  const syncClientOnce = async (clientId: string): Promise<void> => {
    const client = (await rmm.listClients()).find((c) => c.id === clientId);
    if (!client) {
      throw ApplicationFailure.create({
        type: 'CLIENT_NOT_FOUND',
        message: `client ${clientId} is not known to the ${rmm.kind} RMM`,
        nonRetryable: true,
      });
    }
    await store.inventory.upsertClients([client]);
    await store.inventory.upsertSites(await rmm.listSites(clientId));
  };

  const scanDevices = async (clientId: string): Promise<number> => {
    try {
      return await scanPages(clientId);
    } catch (err) {
      return rethrow(err);
    }
  };
  /** Lists the client's devices page by page, scans each page and records what it found. */
  const scanPages = async (clientId: string): Promise<number> => {
    const ctx = Context.current();
    let cursor: string | undefined;
    let devices = 0;
    do {
      const page = await rmm.listDevices(clientId, { limit: 200, ...(cursor ? { cursor } : {}) });
      await store.inventory.upsertDevices(page.devices);
      const { scanId } = await rmm.triggerScan(page.devices.map((d) => d.id));
      while (!(await rmm.readScan(scanId)).done) {
        ctx.heartbeat({ devices });
        await sleep(500);
      }
      // Devices' results are read a few at a time: over SSH each read is a round trip
      // to the host, and one after another they made the scan the slowest step. The
      // page's results are written together: three statements per page, not per device.
      const found: ScanResult[] = [];
      const patches: Patch[] = [];
      for (let i = 0; i < page.devices.length; i += SCAN_READS_AT_ONCE) {
        const batch = page.devices.slice(i, i + SCAN_READS_AT_ONCE);
        const results = await Promise.all(
          batch.map((d) => Promise.all([rmm.missingPatches(d.id), rmm.installedPatches(d.id)])),
        );
        for (const [j, [missing, installed]] of results.entries()) {
          patches.push(...missing);
          found.push({ deviceId: batch[j]!.id, missing: missing.map((p) => p.id), installed });
        }
      }
      await store.inventory.upsertPatches(patches);
      await store.inventory.recordScans(found);
      devices += page.devices.length;
      ctx.heartbeat({ devices });
      cursor = page.nextCursor;
    } while (cursor);
    return devices;
  };

  return {
    /** Creates the rollout row, syncs the client's inventory from the RMM and scans it. */
    async prepareRollout(a: {
      rolloutId: string;
      clientId: string;
      startedBy: string;
    }): Promise<{ devices: number }> {
      await syncClient(a.clientId);
      await store.rollouts.create({
        id: a.rolloutId,
        clientId: a.clientId,
        startedBy: a.startedBy,
        policy: {},
      });
      const devices = await scanDevices(a.clientId);
      await store.audit.append({
        idempotencyKey: `${a.rolloutId}:scanned`,
        actor: a.startedBy,
        action: 'rollout.scanned',
        subjectType: 'rollout',
        subjectId: a.rolloutId,
        clientId: a.clientId,
        rolloutId: a.rolloutId,
        data: { devices },
      });
      return { devices };
    },

    /** A scan on its own (scheduled or `patchops scan`): inventory and device × patch state. */
    async scanClient(a: { clientId: string; scanId: string }): Promise<{ devices: number }> {
      await syncClient(a.clientId);
      const devices = await scanDevices(a.clientId);
      await store.compliance.takeSnapshots({ clientId: a.clientId });
      await store.audit.append({
        idempotencyKey: `${a.scanId}:scanned`,
        actor: 'patchops',
        action: 'client.scanned',
        subjectType: 'client',
        subjectId: a.clientId,
        clientId: a.clientId,
        data: { devices, scanId: a.scanId },
      });
      return { devices };
    },
  };
}
