import { z } from 'zod';
import { AdapterRegistry, defineAdapter, type AdapterDeps } from '../kit.js';
import { createSimulator } from './simulator/index.js';
import { tacticalrmmDefinition } from './tacticalrmm/index.js';
import { ninjaoneDefinition } from './ninjaone/index.js';
import { sshDefinition } from './ssh/index.js';
import { RmmError, type RmmAdapter } from './types.js';

const json = z.string().transform((text, ctx) => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    ctx.addIssue({
      code: 'custom',
      message: 'expected JSON, e.g. {"seed":7,"devicesPerClient":50}',
    });
    return z.NEVER;
  }
});

/**
 * Every RMM adapter patchops can drive. Adding a vendor is one folder and one line here;
 * configuration (PATCHOPS_RMM), doctor and the README's table all read this list.
 */
export const rmmRegistry = new AdapterRegistry<RmmAdapter>(
  'RMM',
  'PATCHOPS_RMM',
  [
    defineAdapter({
      kind: 'simulator',
      vendor: 'patchops simulator',
      summary: 'a virtual fleet with realistic patches, latency and failures (the default)',
      env: [
        {
          name: 'PATCHOPS_RMM_CONFIG',
          description:
            'JSON settings of the simulator, e.g. {"clients":3,"devicesPerClient":100,"seed":7}',
        },
      ],
      settings: z
        .object({ PATCHOPS_RMM_CONFIG: json.optional() })
        .transform((e) => (e.PATCHOPS_RMM_CONFIG ?? {}) as Record<string, unknown>),
      // `statePath` is where the simulated RMM keeps its memory (so it survives a worker restart).
      create: (settings) => {
        const { statePath, ...options } = settings;
        return createSimulator(options, typeof statePath === 'string' ? { statePath } : {});
      },
    }),
    ninjaoneDefinition,
    sshDefinition,
    tacticalrmmDefinition,
  ],
  (code, message) => new RmmError(code, message),
);

/** The kinds PATCHOPS_RMM accepts, in a stable order for messages and `--help`. */
export const RMM_KINDS: readonly string[] = rmmRegistry.kinds;

/**
 * Builds an RMM adapter from settings. An unknown kind is a set-up mistake, so it fails
 * loudly with `UNKNOWN_ADAPTER` and the list of known kinds instead of returning nothing.
 */
export function createRmm(kind: string, settings: unknown, deps: AdapterDeps): RmmAdapter {
  return rmmRegistry.create(kind, settings, deps);
}
