import type { ActivityDeps } from './index.js';

/** Where an emergency rollout is needed: per CVE, the clients with devices still missing its fix. */
export interface EmergencyTarget {
  cve: string;
  clientId: string;
  devices: number;
  patches: string[];
}

export function createEmergencyActivities({ store }: ActivityDeps) {
  return {
    /** The clients each CVE is still open on (from the last scans), in client order. */
    async emergencyTargets(a: { cves: string[] }): Promise<EmergencyTarget[]> {
      const out: EmergencyTarget[] = [];
      for (const cve of a.cves)
        for (const t of await store.inventory.openByCve(cve)) out.push({ cve, ...t });
      return out;
    },
  };
}
