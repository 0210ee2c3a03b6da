import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { RmmError } from '../types.js';
import { CATALOG_BY_ID } from './catalog.js';
import type { SimDevice } from './fleet.js';
import type { SimulatorOptions } from './options.js';
import {
  createState,
  type SimJob,
  type SimPrompt,
  type SimScan,
  type SimulatorState,
} from './state.js';

/**
 * The simulated RMM's memory on disk, so it survives a `kill -9` of the worker that
 * hosts it. Only what calls have changed is written: the fleet itself is rebuilt from the
 * options (same seed, same fleet), and a device whose patches, reachability and reboot
 * state still match the seed is left out. Files are replaced atomically (write a
 * temporary file, then rename), so a crash of the process leaves either the old state or
 * the new one. There is no fsync: a killed process is covered, a power cut is not.
 *
 * Saving after every call has to stay cheap for big fleets, so a `StateSerializer` keeps
 * the JSON of everything that cannot change any more (settled jobs, answered prompts,
 * scans) and of every device no job has touched since the last save, and rebuilds only
 * the rest.
 *
 * There is no locking: one live simulator per file at a time, as with one RMM tenant per
 * worker. A second simulator on the same file simply takes over from the last save.
 */

const FORMAT = 'patchops-simulator-state';
const VERSION = 1;

const id = z.string().min(1);
const count = z.number().int().min(0);
const entries = <V extends z.ZodType>(value: V) => z.array(z.tuple([id, value]));

const jobStatusSchema = z.strictObject({
  state: z.enum(['queued', 'running', 'succeeded', 'failed']),
  results: z.array(
    z.strictObject({
      patchId: id,
      outcome: z.enum(['installed', 'failed', 'pending_reboot', 'uninstalled']),
      error: z.string().optional(),
    }),
  ),
});

const stateFileSchema = z.strictObject({
  format: z.literal(FORMAT),
  version: z.literal(VERSION),
  /** The parsed options the state was built from; compared as a whole on load. */
  options: z.record(z.string(), z.unknown()),
  counters: z.strictObject({ scan: count, job: count }),
  /** Devices whose reachability differs from the seed's. */
  online: entries(z.boolean()),
  /** Devices whose patch sets differ from the seed's (in full) or that had installs. */
  devices: z.array(
    z.strictObject({
      id,
      missing: z.array(id),
      installed: z.array(id),
      pendingReboot: z.array(id),
      /** Real installs per patch id, for `stats().installsPerDevicePatch`. */
      installs: entries(count),
    }),
  ),
  scans: z.array(z.strictObject({ id, deviceIds: z.array(id), startedAt: z.number() })),
  /** In creation order; the idempotency index is rebuilt from their keys. */
  jobs: z.array(
    z.strictObject({
      id,
      kind: z.enum(['deploy', 'reboot', 'uninstall']),
      idempotencyKey: id,
      deviceId: id,
      patchIds: z.array(id),
      createdAt: z.number(),
      outcome: jobStatusSchema.optional(),
    }),
  ),
  prompts: entries(
    z.strictObject({
      deviceId: id,
      allowDefer: z.boolean(),
      answer: z.discriminatedUnion('outcome', [
        z.strictObject({ outcome: z.literal('rebooting'), jobId: id }),
        z.strictObject({ outcome: z.literal('deferred') }),
      ]),
    }),
  ),
  userDefers: entries(z.boolean()),
  deployCalls: entries(count),
});

/** The decoded, shape-checked contents of a state file. */
export type StateFile = z.infer<typeof stateFileSchema>;

function sameItems(set: ReadonlySet<string> | undefined, items: readonly string[]): boolean {
  if ((set?.size ?? 0) !== items.length) return false;
  return items.every((item) => set?.has(item) === true);
}

type DeviceEntry = StateFile['devices'][number];

/** The device's file entry, or undefined when it is exactly as the seed built it. */
function deviceEntry(state: SimulatorState, sim: SimDevice): DeviceEntry | undefined {
  const deviceId = sim.device.id;
  const missing = state.missing.get(deviceId) ?? new Set<string>();
  const installed = state.installed.get(deviceId) ?? new Set<string>();
  const pendingReboot = state.pendingReboot.get(deviceId) ?? new Set<string>();
  // A patch is only ever installed where it applies, and the seed listed every patch
  // that applies as either missing or installed.
  const installs: [string, number][] = [];
  for (const list of [sim.initiallyMissing, sim.initiallyInstalled]) {
    for (const patchId of list) {
      const n = state.installs.get(`${deviceId}|${patchId}`);
      if (n !== undefined) installs.push([patchId, n]);
    }
  }
  const unchanged =
    pendingReboot.size === 0 &&
    installs.length === 0 &&
    sameItems(missing, sim.initiallyMissing) &&
    sameItems(installed, sim.initiallyInstalled);
  if (unchanged) return undefined;
  return {
    id: deviceId,
    missing: [...missing],
    installed: [...installed],
    pendingReboot: [...pendingReboot],
    installs,
  };
}

const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');
const COMMA = utf8(',');

/** Items per cached block: few enough pieces per save, little to redo per change. */
const BLOCK = 256;

/** The items' JSON joined by commas, without brackets. */
function joined(items: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const item of items) {
    if (parts.length > 0) parts.push(COMMA);
    parts.push(item);
  }
  return Buffer.concat(parts);
}

/**
 * A list that only grows (the state's jobs, scans and prompts are never removed), written
 * in blocks of `BLOCK` items. A full block whose items are all final is kept and reused
 * as long as the very same objects are still at its positions.
 */
class GrowingList<T extends object> {
  readonly #item = new WeakMap<T, Buffer>();
  readonly #blocks: { items: T[]; json: Buffer }[] = [];

  constructor(
    private readonly json: (item: T) => string,
    private readonly final: (item: T) => boolean,
  ) {}

  /** Non-empty comma-joined blocks, in order. */
  blocks(items: readonly T[]): Buffer[] {
    const out: Buffer[] = [];
    for (let start = 0; start < items.length; start += BLOCK) {
      const slice = items.slice(start, start + BLOCK);
      const cached = this.#blocks[start / BLOCK];
      if (cached && cached.items.every((item, i) => slice[i] === item)) {
        out.push(cached.json);
        continue;
      }
      const json = joined(slice.map((item) => this.#itemJson(item)));
      if (slice.length === BLOCK && slice.every((item) => this.final(item))) {
        this.#blocks[start / BLOCK] = { items: slice, json };
      }
      out.push(json);
    }
    return out;
  }

  #itemJson(item: T): Buffer {
    const kept = this.#item.get(item);
    if (kept) return kept;
    const json = utf8(this.json(item));
    if (this.final(item)) this.#item.set(item, json);
    return json;
  }
}

/**
 * Turns one state into the bytes of a state file, again and again. The output is always
 * what `JSON.stringify` of the whole file would give; the caches only skip work, so that
 * a save after one call costs little more than writing the file:
 *
 * - settled jobs, scans and answered prompts never change, so their JSON is kept, in
 *   blocks once a block is full (see `GrowingList`);
 * - a device's patch sets and installs change only when one of its jobs settles, so its
 *   JSON, and its block's, is kept until a job on it is seen settled for the first time.
 */
export class StateSerializer {
  readonly #state: SimulatorState;
  readonly #fleet: readonly SimDevice[];
  readonly #index = new Map<string, number>();
  readonly #settledSeen = new WeakSet<SimJob>();
  /** Device id → its entry's JSON, or null when it matches the seed. */
  readonly #device = new Map<string, Buffer | null>();
  readonly #deviceBlocks: (Buffer | undefined)[] = [];
  readonly #scans = new GrowingList<SimScan>(
    (scan) => JSON.stringify(scan),
    () => true,
  );
  readonly #jobs = new GrowingList<SimJob>(
    (job) => JSON.stringify(job),
    (job) => job.outcome !== undefined,
  );
  // An answered prompt is a new object, stored under one key and never changed.
  readonly #prompts = new GrowingList<[string, SimPrompt]>(
    (entry) => JSON.stringify(entry),
    () => true,
  );
  readonly #promptEntries = new WeakMap<SimPrompt, [string, SimPrompt]>();

  constructor(state: SimulatorState) {
    this.#state = state;
    this.#fleet = [...state.fleet.byId.values()];
    this.#fleet.forEach((sim, i) => this.#index.set(sim.device.id, i));
  }

  /** The state file's bytes. */
  serialize(): Buffer {
    const state = this.#state;
    for (const job of state.jobs.values()) {
      if (job.outcome && !this.#settledSeen.has(job)) {
        this.#settledSeen.add(job);
        this.#device.delete(job.deviceId);
        this.#deviceBlocks[Math.floor((this.#index.get(job.deviceId) ?? 0) / BLOCK)] = undefined;
      }
    }
    const online: [string, boolean][] = [];
    for (const sim of this.#fleet) {
      const isOnline = state.online.get(sim.device.id) ?? false;
      if (isOnline !== sim.device.online) online.push([sim.device.id, isOnline]);
    }
    // The same entry object for a prompt every time, so GrowingList can recognise it.
    const prompts = [...state.prompts].map(([key, prompt]) => {
      let entry = this.#promptEntries.get(prompt);
      if (entry?.[0] !== key) {
        entry = [key, prompt];
        this.#promptEntries.set(prompt, entry);
      }
      return entry;
    });

    const parts: Buffer[] = [];
    const text = (t: string): void => void parts.push(utf8(t));
    const array = (blocks: readonly Buffer[]): void => {
      text('[');
      let first = true;
      for (const block of blocks) {
        if (block.length === 0) continue;
        if (!first) parts.push(COMMA);
        parts.push(block);
        first = false;
      }
      text(']');
    };
    // Keys in the order of the schema, so the bytes equal JSON.stringify of the file.
    const head = {
      format: FORMAT,
      version: VERSION,
      options: state.options,
      counters: state.counters,
      online,
    };
    text(`${JSON.stringify(head).slice(0, -1)},"devices":`);
    array(this.#devices());
    text(',"scans":');
    array(this.#scans.blocks([...state.scans.values()]));
    text(',"jobs":');
    array(this.#jobs.blocks([...state.jobs.values()]));
    text(',"prompts":');
    array(this.#prompts.blocks(prompts));
    text(`,"userDefers":${JSON.stringify([...state.userDefers])}`);
    text(`,"deployCalls":${JSON.stringify([...state.deployCalls])}}`);
    return Buffer.concat(parts);
  }

  #devices(): Buffer[] {
    const blocks: Buffer[] = [];
    for (let start = 0; start < this.#fleet.length; start += BLOCK) {
      let block = this.#deviceBlocks[start / BLOCK];
      if (!block) {
        const items: Buffer[] = [];
        for (const sim of this.#fleet.slice(start, start + BLOCK)) {
          let json = this.#device.get(sim.device.id);
          if (json === undefined) {
            const entry = deviceEntry(this.#state, sim);
            json = entry ? utf8(JSON.stringify(entry)) : null;
            this.#device.set(sim.device.id, json);
          }
          if (json) items.push(json);
        }
        block = joined(items);
        this.#deviceBlocks[start / BLOCK] = block;
      }
      blocks.push(block);
    }
    return blocks;
  }
}

/** The state as the JSON a state file holds. */
export function serializeState(state: SimulatorState): string {
  return new StateSerializer(state).serialize().toString('utf8');
}

/** `CONFIG_INVALID` naming the file; `fresh` adds how to start over. */
function invalid(statePath: string, problem: string, cause?: unknown, fresh = true): RmmError {
  const hint = fresh ? '; delete the file to start again from the seed' : '';
  return new RmmError(
    'CONFIG_INVALID',
    `Simulator statePath "${statePath}" ${problem}${hint}`,
    cause === undefined ? undefined : { cause },
  );
}

/** Parses and shape-checks a state file's text; throws `CONFIG_INVALID` naming the path. */
export function parseStateFile(text: string, statePath: string): StateFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw invalid(statePath, 'is not valid JSON (truncated or not a state file?)', error);
  }
  const head = z.looseObject({ format: z.literal(FORMAT) }).safeParse(json);
  if (!head.success) throw invalid(statePath, 'is not a patchops simulator state file');
  const version = (json as { version?: unknown }).version;
  if (version !== VERSION) {
    throw invalid(
      statePath,
      `has format version ${JSON.stringify(version)}, but this build reads version ${VERSION}`,
    );
  }
  const parsed = stateFileSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw invalid(statePath, `is damaged (${problems.join('; ')})`, parsed.error);
  }
  return parsed.data;
}

/** Reads and shape-checks a state file; throws `CONFIG_INVALID` naming the path. */
export function readStateFile(statePath: string): StateFile {
  let text: string;
  try {
    text = readFileSync(statePath, 'utf8');
  } catch (error) {
    throw invalid(statePath, `cannot be read (${(error as Error).message})`, error, false);
  }
  return parseStateFile(text, statePath);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** "path: file has X, config has Y" for each leaf that differs. */
function differences(saved: unknown, wanted: unknown, path: string): string[] {
  if (isRecord(saved) && isRecord(wanted)) {
    const keys = new Set([...Object.keys(saved), ...Object.keys(wanted)]);
    return [...keys].flatMap((k) => differences(saved[k], wanted[k], path ? `${path}.${k}` : k));
  }
  if (isDeepStrictEqual(saved, wanted)) return [];
  const show = (v: unknown) => (v === undefined ? 'nothing' : JSON.stringify(v));
  return [`${path || '(root)'}: file has ${show(saved)}, config has ${show(wanted)}`];
}

/**
 * Rebuilds the state a file describes. The file must have been written for the same
 * options, since the fleet is regenerated from them; throws `CONFIG_INVALID` naming
 * `statePath` otherwise or when the file is damaged.
 */
export function deserializeState(
  text: string,
  options: SimulatorOptions,
  statePath: string,
): SimulatorState {
  const file = parseStateFile(text, statePath);
  const diff = differences(file.options, options, '');
  if (diff.length > 0) {
    throw invalid(statePath, `was written with different simulator options (${diff.join('; ')})`);
  }
  const state = createState(options);
  const knownDevice = (deviceId: string, where: string): void => {
    if (!state.fleet.byId.has(deviceId)) {
      throw invalid(statePath, `names unknown device "${deviceId}" in ${where}`);
    }
  };
  const knownPatches = (patchIds: readonly string[], where: string): void => {
    for (const patchId of patchIds) {
      if (!CATALOG_BY_ID.has(patchId)) {
        throw invalid(statePath, `names unknown patch "${patchId}" in ${where}`);
      }
    }
  };

  state.counters.scan = file.counters.scan;
  state.counters.job = file.counters.job;
  for (const [deviceId, online] of file.online) {
    knownDevice(deviceId, 'online');
    state.online.set(deviceId, online);
  }
  for (const d of file.devices) {
    knownDevice(d.id, 'devices');
    knownPatches([...d.missing, ...d.installed, ...d.pendingReboot], `devices (${d.id})`);
    state.missing.set(d.id, new Set(d.missing));
    state.installed.set(d.id, new Set(d.installed));
    state.pendingReboot.set(d.id, new Set(d.pendingReboot));
    for (const [patchId, n] of d.installs) state.installs.set(`${d.id}|${patchId}`, n);
  }
  for (const scan of file.scans) {
    scan.deviceIds.forEach((deviceId) => knownDevice(deviceId, `scan ${scan.id}`));
    state.scans.set(scan.id, scan);
  }
  for (const job of file.jobs) {
    knownDevice(job.deviceId, `job ${job.id}`);
    knownPatches(job.patchIds, `job ${job.id}`);
    if (state.jobs.has(job.id) || state.idempotency.has(job.idempotencyKey)) {
      throw invalid(statePath, `repeats job ${job.id} or its key "${job.idempotencyKey}"`);
    }
    state.jobs.set(job.id, job satisfies SimJob);
    state.idempotency.set(job.idempotencyKey, job.id);
  }
  for (const [key, prompt] of file.prompts) {
    knownDevice(prompt.deviceId, `prompt "${key}"`);
    if (prompt.answer.outcome === 'rebooting' && !state.jobs.has(prompt.answer.jobId)) {
      throw invalid(statePath, `has prompt "${key}" pointing at missing job`);
    }
    state.prompts.set(key, prompt);
  }
  for (const [deviceId, defers] of file.userDefers) {
    knownDevice(deviceId, 'userDefers');
    state.userDefers.set(deviceId, defers);
  }
  for (const [key, calls] of file.deployCalls) state.deployCalls.set(key, calls);
  return state;
}

/**
 * Writes the state so that a crash at any moment leaves a whole file: the temporary file
 * is per process, and `rename` replaces the old file in one step.
 */
export function saveState(state: SimulatorState | StateSerializer, statePath: string): void {
  const serializer = state instanceof StateSerializer ? state : new StateSerializer(state);
  const tmp = `${statePath}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, serializer.serialize());
    renameSync(tmp, statePath);
  } catch (error) {
    throw new Error(
      `Could not save the simulator state to "${statePath}": ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/**
 * The state saved at `statePath`, or a fresh one from the seed (saved at once) when
 * there is no file yet.
 */
export function openState(options: SimulatorOptions, statePath: string): SimulatorState {
  let text: string | undefined;
  try {
    text = readFileSync(statePath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw invalid(statePath, `cannot be read (${(error as Error).message})`, error, false);
    }
  }
  if (text !== undefined) return deserializeState(text, options, statePath);
  const state = createState(options);
  saveState(state, statePath);
  return state;
}
