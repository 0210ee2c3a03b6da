import { z } from 'zod';
import { AdapterRegistry, defineAdapter, type AdapterDeps } from '../kit.js';
import { createSimulator } from './simulator/index.js';
import { createRemoteSimulator } from './simulator/remote.js';
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Why `{"url": …}` cannot reach a served simulator, or undefined when it can. The fleet's
 * options belong to the process that serves it, so nothing may stand beside `url`.
 */
function servedSimulatorProblem(config: Record<string, unknown>): string | undefined {
  const others = Object.keys(config).filter((k) => k !== 'url');
  if (others.length > 0) {
    return `"${others[0]}" cannot stand beside "url": a served simulator takes its options where it runs (\`patchops simulator\`), so give only {"url":"http://127.0.0.1:PORT"}`;
  }
  const { url } = config;
  if (typeof url !== 'string' || !/^https?:\/\/[^/\s]+\/?$/.test(url)) {
    return `"url" must be the served simulator's address, e.g. {"url":"http://127.0.0.1:7410"} as \`patchops simulator\` prints it`;
  }
  return undefined;
}

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
      settings: z.object({ PATCHOPS_RMM_CONFIG: json.optional() }).transform((e, ctx) => {
        const config = (e.PATCHOPS_RMM_CONFIG ?? {}) as Record<string, unknown>;
        if (!isRecord(config) || !('url' in config)) return config;
        const problem = servedSimulatorProblem(config);
        if (problem)
          ctx.addIssue({ code: 'custom', path: ['PATCHOPS_RMM_CONFIG'], message: problem });
        return config;
      }),
      // `url` points at a simulator served by `patchops simulator`, shared by every worker;
      // `statePath` is where an in-process simulator keeps its memory (so it survives a
      // worker restart).
      create: (settings, deps) => {
        if ('url' in settings) {
          const problem = servedSimulatorProblem(settings);
          if (problem) throw new RmmError('CONFIG_INVALID', `PATCHOPS_RMM_CONFIG: ${problem}`);
          return createRemoteSimulator(String(settings.url), deps);
        }
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
