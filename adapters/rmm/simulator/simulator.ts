import type { Patch } from '../../../domain/model.js';
import { RmmError, type RmmAdapter, type RmmBulk } from '../types.js';
import { createSimulatorBulk } from './bulk.js';
import { CATALOG } from './catalog.js';
import type { SimDevice } from './fleet.js';
import { jobStatus, settleDue } from './jobs.js';
import { parseSimulatorOptions } from './options.js';
import { openState, readStateFile, saveState, StateSerializer } from './persist.js';
import {
  createState,
  nextId,
  setOf,
  type JobKind,
  type SimJob,
  type SimulatorState,
} from './state.js';
import { requireDevice, submitJob, submitRebootPrompt } from './submit.js';

export interface SimulatorDeps {
  /** Clock that virtual latency is measured on; defaults to `Date.now`. */
  now?: () => number;
  /**
   * An existing RMM to attach to, as a restarted worker would. Must have been built from
   * the same options; by default a fresh state is built from the seed.
   */
  state?: SimulatorState;
  /**
   * A file that keeps the RMM's memory across process crashes, for end-to-end tests that
   * `kill -9` a worker. Loaded when it exists (it must have been written with the same
   * options, else `CONFIG_INVALID`), otherwise created from the seed; rewritten
   * atomically after every call that changes anything. Not together with `state`.
   */
  statePath?: string;
}

export interface SimulatorStats {
  /** Calls to `deploy` per idempotency key, including replays. */
  deployCalls: ReadonlyMap<string, number>;
  /** Real installs per "deviceId|patchId". */
  installsPerDevicePatch: ReadonlyMap<string, number>;
  /**
   * Reboot jobs per device id, whether from `reboot` or a `promptReboot` that answered
   * `rebooting`; replays add nothing, so a correct caller can prove it rebooted once.
   */
  rebootsPerDevice: ReadonlyMap<string, number>;
  /**
   * Deploy jobs per patch id, whatever became of them (a job that failed on the device
   * counts too): the proof that a patch was never sent, which installs cannot give.
   */
  deployJobsPerPatch: ReadonlyMap<string, number>;
}

/** The simulated RMM plus the hooks tests and `patchops dev` use to steer it. */
export interface Simulator extends RmmAdapter {
  readonly kind: 'simulator';
  /**
   * Bulk calls that settle due jobs and save the state file once per call, not per entry.
   * Always there on a built simulator; optional so that a test can drop it and play a
   * vendor with single calls only.
   */
  readonly bulk?: RmmBulk;
  /** The RMM's memory; pass it to another `createSimulator` to survive a worker restart. */
  readonly state: SimulatorState;
  /** Every patch the simulated vendors have released, whether or not any device lacks it. */
  catalog(): Patch[];
  /** Takes a device off the network or brings it back. */
  setOnline(deviceId: string, online: boolean): void;
  /**
   * Makes the device's user always postpone (`true`) or always accept (`false`) reboot
   * prompts that allow deferring; `undefined` returns to the seed's decisions. Prompts
   * already answered keep their answer.
   */
  setUserDefers(deviceId: string, alwaysDefer: boolean | undefined): void;
  /** Patch ids installed on the device that wait for a reboot. */
  pendingReboot(deviceId: string): string[];
  /** Counters that let tests prove nothing was installed twice. */
  stats(): SimulatorStats;
}

/** Builds the RMM's memory from validated options; throws `CONFIG_INVALID`. */
export function createSimulatorState(config: unknown = {}): SimulatorState {
  return createState(parseSimulatorOptions(config));
}

// The executor turns a synchronous throw into a rejection, as a network call would.
const later = <T>(fn: () => T): Promise<T> => new Promise<T>((resolve) => resolve(fn()));
const clonePatch = (p: Patch): Patch => ({ ...p, cveIds: [...p.cveIds] });

function decodeCursor(cursor: string | undefined, total: number): number {
  if (cursor === undefined) return 0;
  const match = /^o:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const offset = match ? Number(match[1]) : NaN;
  if (!(offset >= 0 && offset <= total)) {
    throw new RmmError('INVALID_ARGUMENT', `page.cursor "${cursor}" is not a cursor from here`);
  }
  return offset;
}

function jobCounts(
  jobs: Iterable<Pick<SimJob, 'kind' | 'deviceId' | 'patchIds'>>,
): Pick<SimulatorStats, 'rebootsPerDevice' | 'deployJobsPerPatch'> {
  const reboots = new Map<string, number>();
  const deploys = new Map<string, number>();
  const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  for (const job of jobs) {
    if (job.kind === 'reboot') bump(reboots, job.deviceId);
    if (job.kind === 'deploy') for (const patchId of job.patchIds) bump(deploys, patchId);
  }
  return { rebootsPerDevice: reboots, deployJobsPerPatch: deploys };
}

/**
 * The stats saved in a `statePath` file, without building a fleet or an adapter: for a
 * test process checking what workers in other processes did. Throws `CONFIG_INVALID`
 * naming the path when the file is missing or damaged.
 */
export function readSimulatorStats(statePath: string): SimulatorStats {
  const file = readStateFile(statePath);
  return {
    deployCalls: new Map(file.deployCalls),
    installsPerDevicePatch: new Map(
      file.devices.flatMap((d) => d.installs.map(([p, n]) => [`${d.id}|${p}`, n] as const)),
    ),
    ...jobCounts(file.jobs),
  };
}

/**
 * The simulated RMM: a seed-driven virtual fleet behind the RmmAdapter contract, used by
 * `patchops dev` and the tests. Throws `CONFIG_INVALID` for bad options.
 */
export function createSimulator(
  config: unknown = {},
  deps: SimulatorDeps = {},
): Simulator & { readonly bulk: RmmBulk } {
  const options = parseSimulatorOptions(config);
  const { statePath } = deps;
  if (deps.state && statePath !== undefined) {
    throw new RmmError(
      'CONFIG_INVALID',
      `Pass either a shared simulator state or statePath "${statePath}", not both`,
    );
  }
  if (deps.state && JSON.stringify(deps.state.options) !== JSON.stringify(options)) {
    throw new RmmError(
      'CONFIG_INVALID',
      'The shared simulator state was built with different options; pass the same config',
    );
  }
  if (statePath === '') throw new RmmError('CONFIG_INVALID', 'statePath must not be empty');
  const state =
    deps.state ?? (statePath === undefined ? createState(options) : openState(options, statePath));
  const now = deps.now ?? Date.now;
  const serializer = statePath === undefined ? undefined : new StateSerializer(state);
  const save = (): void => {
    if (serializer && statePath !== undefined) saveState(serializer, statePath);
  };
  /** For reads: running a due job changes the devices, so only then is the state saved. */
  const settle = (): void => {
    if (settleDue(state, now()) > 0) save();
  };
  /**
   * For calls that change state: the body settles due jobs itself and the state is saved
   * once at the end, even when the call is refused (a refused deploy still counts).
   */
  const mutate = <T>(body: () => T): T => {
    try {
      return body();
    } finally {
      save();
    }
  };

  const device = (deviceId: string): SimDevice => requireDevice(state, deviceId);
  const clientDevices = (clientId: string): SimDevice[] => {
    const devices = state.fleet.devices.get(clientId);
    if (!devices) throw new RmmError('CLIENT_NOT_FOUND', `No client "${clientId}"`);
    return devices;
  };
  const submit = (kind: JobKind, deviceId: string, patchIds: string[], key: string): string =>
    submitJob(state, now(), { kind, deviceId, patchIds, idempotencyKey: key });

  return {
    kind: 'simulator',
    state,
    bulk: createSimulatorBulk({ state, now, save }),

    testConnection: () =>
      later(() => ({
        ok: true as const,
        detail: `Simulated RMM: ${state.fleet.clients.length} clients, ${state.fleet.byId.size} devices, ${CATALOG.length} patches (seed ${options.seed})`,
      })),

    listClients: () => later(() => state.fleet.clients.map((c) => ({ ...c }))),

    listSites: (clientId) =>
      later(() => {
        clientDevices(clientId);
        return (state.fleet.sites.get(clientId) ?? []).map((s) => ({ ...s }));
      }),

    listDevices: (clientId, page) =>
      later(() => {
        const all = clientDevices(clientId);
        if (!Number.isInteger(page.limit) || page.limit < 1) {
          throw new RmmError('INVALID_ARGUMENT', `page.limit must be a whole number ≥ 1`);
        }
        const start = decodeCursor(page.cursor, all.length);
        const end = Math.min(all.length, start + page.limit);
        const devices = all.slice(start, end).map(({ device: d }) => ({
          ...d,
          tags: [...d.tags],
          online: state.online.get(d.id) ?? false,
        }));
        if (end >= all.length) return { devices };
        return { devices, nextCursor: Buffer.from(`o:${end}`).toString('base64url') };
      }),

    triggerScan: (deviceIds) =>
      later(() => {
        if (deviceIds.length === 0) {
          throw new RmmError('INVALID_ARGUMENT', 'triggerScan needs at least one device id');
        }
        deviceIds.forEach(device);
        return mutate(() => {
          const id = nextId(state, 'scan');
          state.scans.set(id, { id, deviceIds: [...deviceIds], startedAt: now() });
          return { scanId: id };
        });
      }),

    readScan: (scanId) =>
      later(() => {
        const scan = state.scans.get(scanId);
        if (!scan) throw new RmmError('SCAN_NOT_FOUND', `No scan "${scanId}"`);
        return { done: now() - scan.startedAt >= options.latencyMs.scan };
      }),

    missingPatches: (deviceId) =>
      later(() => {
        settle();
        device(deviceId);
        const missing = setOf(state.missing, deviceId);
        return CATALOG.filter((e) => missing.has(e.patch.id)).map((e) => clonePatch(e.patch));
      }),

    installedPatches: (deviceId) =>
      later(() => {
        settle();
        device(deviceId);
        return [...setOf(state.installed, deviceId)].sort();
      }),

    deploy: (deviceId, patchIds, key) =>
      later(() =>
        mutate(() => {
          settleDue(state, now());
          state.deployCalls.set(key, (state.deployCalls.get(key) ?? 0) + 1);
          return { jobId: submit('deploy', deviceId, patchIds, key) };
        }),
      ),

    readJob: (jobId) =>
      later(() => {
        settle();
        const job = state.jobs.get(jobId);
        if (!job) throw new RmmError('JOB_NOT_FOUND', `No job "${jobId}"`);
        return jobStatus(state, job, now());
      }),

    reboot: (deviceId, key) =>
      later(() =>
        mutate(() => {
          settleDue(state, now());
          return { jobId: submit('reboot', deviceId, [], key) };
        }),
      ),

    promptReboot: (deviceId, key, opts) =>
      later(() =>
        mutate(() => {
          settleDue(state, now());
          return submitRebootPrompt(state, now(), {
            deviceId,
            idempotencyKey: key,
            allowDefer: opts.allowDefer,
          });
        }),
      ),

    uninstall: (deviceId, patchIds, key) =>
      later(() =>
        mutate(() => {
          settleDue(state, now());
          return { jobId: submit('uninstall', deviceId, patchIds, key) };
        }),
      ),

    isOnline: (deviceId) =>
      later(() => {
        device(deviceId);
        return state.online.get(deviceId) ?? false;
      }),

    catalog: () => CATALOG.map((e) => clonePatch(e.patch)),

    setOnline: (deviceId, online) => {
      device(deviceId);
      mutate(() => state.online.set(deviceId, online));
    },

    setUserDefers: (deviceId, alwaysDefer) => {
      device(deviceId);
      mutate(() => {
        if (alwaysDefer === undefined) state.userDefers.delete(deviceId);
        else state.userDefers.set(deviceId, alwaysDefer);
      });
    },

    pendingReboot: (deviceId) => {
      settle();
      device(deviceId);
      return [...setOf(state.pendingReboot, deviceId)].sort();
    },

    stats: () => ({
      deployCalls: new Map(state.deployCalls),
      installsPerDevicePatch: new Map(state.installs),
      ...jobCounts(state.jobs.values()),
    }),
  };
}
