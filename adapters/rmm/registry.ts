import { createSimulator } from './simulator/index.js';
import { RmmError, type RmmAdapter } from './types.js';

/**
 * Which RMM adapters exist. Each factory validates its own config (zod) and throws
 * `CONFIG_INVALID` naming the bad field. Adding a vendor is one line here.
 */
const FACTORIES: Readonly<Record<string, (config: unknown) => RmmAdapter>> = {
  // `statePath` is where the simulated RMM keeps its memory (so it survives a worker restart).
  simulator: (config) => {
    const { statePath, ...options } = (config ?? {}) as Record<string, unknown>;
    return createSimulator(options, typeof statePath === 'string' ? { statePath } : {});
  },
};

/** The kinds `createRmm` accepts, in a stable order for messages and `--help`. */
export const RMM_KINDS: readonly string[] = Object.keys(FACTORIES).sort();

/**
 * Builds the configured RMM adapter. An unknown kind is a set-up mistake, so it fails
 * loudly with `UNKNOWN_ADAPTER` and the list of known kinds instead of returning nothing.
 */
export function createRmm(kind: string, config: unknown): RmmAdapter {
  // hasOwn, so "toString" and friends from Object.prototype are not mistaken for kinds.
  const factory = Object.hasOwn(FACTORIES, kind) ? FACTORIES[kind] : undefined;
  if (!factory) {
    throw new RmmError(
      'UNKNOWN_ADAPTER',
      `Unknown RMM adapter "${kind}". Known kinds: ${RMM_KINDS.join(', ')} (set PATCHOPS_RMM to one of them)`,
    );
  }
  return factory(config);
}
