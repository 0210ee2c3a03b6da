import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { devStatePath, devStateSchema, type Config, type DevState } from './config.js';

/** Where the other commands find PostgreSQL and Temporal: explicit config first, then a running `patchops dev`. */
export interface Targets {
  databaseUrl: string | undefined;
  databaseSource: 'DATABASE_URL' | 'patchops dev' | 'none';
  temporalAddress: string;
  temporalSource: 'TEMPORAL_ADDRESS' | 'patchops dev' | 'default';
  namespace: string;
  taskQueue: string;
}

export function readDevState(config: Config): DevState | undefined {
  const file = devStatePath(config);
  if (!existsSync(file)) return undefined;
  const parsed = devStateSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success || !processAlive(parsed.data.pid)) return undefined;
  return parsed.data;
}

export function writeDevState(config: Config, state: DevState): void {
  mkdirSync(config.dataDir, { recursive: true });
  // Holds the embedded database password: readable by this user only.
  writeFileSync(devStatePath(config), JSON.stringify(state, null, 2), { mode: 0o600 });
}

export function clearDevState(config: Config): void {
  rmSync(devStatePath(config), { force: true });
}

export function resolveTargets(config: Config): Targets {
  const dev = readDevState(config);
  return {
    databaseUrl: config.databaseUrl ?? dev?.databaseUrl,
    databaseSource: config.databaseUrl ? 'DATABASE_URL' : dev ? 'patchops dev' : 'none',
    temporalAddress:
      config.temporal.address ??
      dev?.temporalAddress ??
      `127.0.0.1:${config.temporal.devPort || 7233}`,
    temporalSource: config.temporal.address ? 'TEMPORAL_ADDRESS' : dev ? 'patchops dev' : 'default',
    namespace: config.temporal.address
      ? config.temporal.namespace
      : (dev?.namespace ?? config.temporal.namespace),
    taskQueue: config.temporal.taskQueue,
  };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The project root (where package.json and .tools live). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
