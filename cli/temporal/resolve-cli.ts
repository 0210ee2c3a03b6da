import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';

/** The Temporal CLI tag that can still be built with `go install` (later tags use replace directives). */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

export type TemporalCliSource = 'TEMPORAL_CLI' | 'PATH' | '.tools' | 'go install';

export interface ResolvedCli {
  path: string;
  source: TemporalCliSource;
}

export class TemporalCliNotFound extends Error {
  readonly code = 'TEMPORAL_CLI_NOT_FOUND';
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, envPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

export interface ResolveOptions {
  /** TEMPORAL_CLI from the config, if set. */
  explicit?: string | undefined;
  /** Project root; `.tools/temporal` lives below it. */
  root: string;
  /** Build with Go when nothing else is found (default true). */
  build?: boolean;
  log?: Logger;
}

/**
 * Finds a Temporal CLI binary: TEMPORAL_CLI, then PATH, then .tools/temporal, else builds
 * it with `go install` into .tools where Go exists. Returns undefined only when none of
 * these is possible, so the caller may fall back to the SDK's cached download.
 */
export async function resolveTemporalCli(opts: ResolveOptions): Promise<ResolvedCli | undefined> {
  if (opts.explicit) {
    if (!isExecutable(opts.explicit)) {
      throw new TemporalCliNotFound(`TEMPORAL_CLI: ${opts.explicit} is not an executable file`);
    }
    return { path: opts.explicit, source: 'TEMPORAL_CLI' };
  }
  const fromPath = onPath('temporal');
  if (fromPath) return { path: fromPath, source: 'PATH' };
  const tools = path.join(opts.root, '.tools', 'temporal');
  if (isExecutable(tools)) return { path: tools, source: '.tools' };
  if (opts.build === false) return undefined;
  const go =
    onPath('go') ?? (isExecutable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!go) return undefined;
  await buildWithGo(go, path.dirname(tools), opts.log);
  if (!isExecutable(tools))
    throw new TemporalCliNotFound(`go install finished but ${tools} is missing`);
  return { path: tools, source: 'go install' };
}

/** `GOBIN=.tools go install …` — takes a few minutes the first time (module download + compile). */
export async function buildWithGo(go: string, gobin: string, log?: Logger): Promise<void> {
  mkdirSync(gobin, { recursive: true });
  log?.info(
    { module: TEMPORAL_CLI_MODULE, gobin },
    'building the Temporal CLI with go install (first run only, takes a few minutes)',
  );
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(go, ['install', TEMPORAL_CLI_MODULE], {
      env: { ...process.env, GOBIN: gobin, CGO_ENABLED: process.env.CGO_ENABLED ?? '0' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0
        ? resolve()
        : reject(
            new TemporalCliNotFound(
              `go install ${TEMPORAL_CLI_MODULE} failed (code ${code}, signal ${signal})`,
            ),
          ),
    );
  });
  log?.info({ seconds: Math.round((Date.now() - started) / 1000) }, 'Temporal CLI built');
}

/** The CLI's own version line, for `doctor` and start-up logs. */
export function temporalCliVersion(cli: string): string | undefined {
  if (!existsSync(cli)) return undefined;
  const out = spawnSync(cli, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return out.status === 0 ? out.stdout.trim() : undefined;
}
