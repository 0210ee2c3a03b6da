import type { Logger } from 'pino';
import { serveSimulator, type ServedSimulator } from '../../adapters/rmm/simulator/server.js';
import type { Config } from '../config.js';
import { CliError } from '../errors.js';

export interface SimulatorCommandOptions {
  port?: number;
  host?: string;
  /** State file; overrides `statePath` in PATCHOPS_RMM_CONFIG. */
  state?: string;
  out?: (line: string) => void;
  /** Resolves when the server should stop; SIGINT/SIGTERM by default. */
  until?: Promise<unknown>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|::1)$/;

/** The simulator's options from PATCHOPS_RMM_CONFIG, as the worker would read them. */
export function simulatorOptions(config: Config): {
  options: Record<string, unknown>;
  statePath?: string;
} {
  const { kind, settings } = config.adapters.rmm;
  if (kind !== 'simulator') {
    throw new CliError(
      'NOT_SIMULATOR',
      `PATCHOPS_RMM is "${kind}": only the simulated RMM can be served (unset PATCHOPS_RMM or set it to simulator)`,
    );
  }
  const { statePath, ...options } = (settings ?? {}) as Record<string, unknown>;
  if ('url' in options) {
    throw new CliError(
      'ALREADY_SERVED',
      `PATCHOPS_RMM_CONFIG points at a served simulator (${String(options.url)}); give the fleet's options instead, e.g. {"devicesPerClient":500}`,
    );
  }
  return typeof statePath === 'string' ? { options, statePath } : { options };
}

/**
 * `patchops simulator`: serves one simulated RMM for several `patchops worker` processes
 * until SIGINT/SIGTERM, and prints the PATCHOPS_RMM_CONFIG line the workers need.
 */
export async function runSimulator(
  config: Config,
  log: Logger,
  opts: SimulatorCommandOptions = {},
): Promise<void> {
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const { options, statePath: configured } = simulatorOptions(config);
  const statePath = opts.state ?? configured;
  const host = opts.host ?? '127.0.0.1';
  let served: ServedSimulator;
  try {
    served = await serveSimulator({
      config: options,
      ...(statePath ? { statePath } : {}),
      host,
      port: opts.port ?? 0,
      log,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE' || e.code === 'EADDRNOTAVAIL' || e.code === 'EACCES') {
      throw new CliError(
        'LISTEN_FAILED',
        `cannot listen on ${host}:${opts.port ?? 0}: ${e.message}`,
      );
    }
    if ((err as { name?: string }).name === 'RmmError') {
      throw new CliError('CONFIG_INVALID', e.message, 78, { cause: err });
    }
    throw err;
  }
  const check = await served.simulator.testConnection();
  out(`${check.detail}`);
  out(`Served at ${served.url}${statePath ? `, state in ${statePath}` : ''}`);
  if (!LOOPBACK.test(host)) {
    out(`Warning: ${host} is not loopback and the simulator API has no authentication.`);
  }
  out('Point each worker at it with:');
  out('  PATCHOPS_RMM=simulator');
  out(`  PATCHOPS_RMM_CONFIG=${JSON.stringify({ url: served.url })}`);
  out('Press Ctrl-C to stop.');

  const until =
    opts.until ??
    new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
  const signal = await until;
  log.info({ signal }, 'stopping the served simulator');
  await served.close();
}
