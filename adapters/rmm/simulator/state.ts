import type { JobStatus, RebootPromptResult } from '../types.js';
import { buildFleet, type Fleet } from './fleet.js';
import type { SimulatorOptions } from './options.js';

/**
 * Everything the simulated RMM remembers. It lives outside the adapter object on purpose:
 * the real RMM outlives a patchops worker, so a test that "restarts the worker" builds a
 * new adapter over the same state and must still find its jobs and idempotency keys.
 */

export type JobKind = 'deploy' | 'reboot' | 'uninstall';

export interface SimJob {
  id: string;
  kind: JobKind;
  idempotencyKey: string;
  deviceId: string;
  /** Sorted and de-duplicated; empty for reboots. */
  patchIds: string[];
  /** Clock reading when the RMM accepted the job. */
  createdAt: number;
  /** Set once the job has run; the effects on the device were applied exactly then. */
  outcome?: JobStatus;
}

/** A reboot prompt the user has answered, kept so a replayed key gets the same answer. */
export interface SimPrompt {
  deviceId: string;
  allowDefer: boolean;
  answer: RebootPromptResult;
}

export interface SimScan {
  id: string;
  deviceIds: string[];
  startedAt: number;
}

export interface SimulatorState {
  readonly options: SimulatorOptions;
  readonly fleet: Fleet;
  /** Current reachability by device id (starts from the fleet's seed-driven value). */
  readonly online: Map<string, boolean>;
  readonly missing: Map<string, Set<string>>;
  readonly installed: Map<string, Set<string>>;
  /** Installed but waiting for a reboot: neither missing nor installed yet. */
  readonly pendingReboot: Map<string, Set<string>>;
  readonly scans: Map<string, SimScan>;
  /** In creation order, which is also the order jobs take effect. */
  readonly jobs: Map<string, SimJob>;
  /** Idempotency key → job id, shared by deploy, reboot and uninstall. */
  readonly idempotency: Map<string, string>;
  /** Idempotency key → answered reboot prompt; its keys are never reused for jobs. */
  readonly prompts: Map<string, SimPrompt>;
  /** Per-device override of the user's answer to reboot prompts; absent = seed decides. */
  readonly userDefers: Map<string, boolean>;
  /** Calls per deploy idempotency key, including replays and refusals. */
  readonly deployCalls: Map<string, number>;
  /** Real installs per "deviceId|patchId"; a correct caller never drives one above 1. */
  readonly installs: Map<string, number>;
  readonly counters: { scan: number; job: number };
}

/** A fresh RMM: the seed's fleet with nothing deployed yet. */
export function createState(options: SimulatorOptions): SimulatorState {
  const fleet = buildFleet(options);
  const state: SimulatorState = {
    options,
    fleet,
    online: new Map(),
    missing: new Map(),
    installed: new Map(),
    pendingReboot: new Map(),
    scans: new Map(),
    jobs: new Map(),
    idempotency: new Map(),
    prompts: new Map(),
    userDefers: new Map(),
    deployCalls: new Map(),
    installs: new Map(),
    counters: { scan: 0, job: 0 },
  };
  for (const [id, sim] of fleet.byId) {
    state.online.set(id, sim.device.online);
    state.missing.set(id, new Set(sim.initiallyMissing));
    state.installed.set(id, new Set(sim.initiallyInstalled));
    state.pendingReboot.set(id, new Set());
  }
  return state;
}

/** The per-device set from one of the state's maps; ids are checked by the caller. */
export function setOf(map: Map<string, Set<string>>, deviceId: string): Set<string> {
  let set = map.get(deviceId);
  if (!set) {
    set = new Set();
    map.set(deviceId, set);
  }
  return set;
}

export function nextId(state: SimulatorState, kind: 'scan' | 'job'): string {
  state.counters[kind] += 1;
  return `sim-${kind}-${String(state.counters[kind]).padStart(6, '0')}`;
}
