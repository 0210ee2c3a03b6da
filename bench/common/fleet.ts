/** The bench's fleet: one client of N devices, no latency, no offline devices, no failures. */
export function benchFleet(devices: number) {
  return {
    clients: 1,
    devicesPerClient: devices,
    latencyMs: { scan: 0, job: 0 },
    offlineRate: 0,
    knownBadPatch: false,
    failureRate: { perPatch: 0, perDevice: 0 },
  };
}
