import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pino, type DestinationStream, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';
import type { Config } from './config.js';

export type { Logger };

/** Paths that may hold secrets anywhere in a log object; pino replaces them with [redacted]. */
const redact = [
  '*.password',
  '*.apiKey',
  '*.token',
  '*.secret',
  '*.databaseUrl',
  '*.databaseOwnerUrl',
  '*.connectionString',
  'password',
  'databaseOwnerUrl',
  'apiKey',
  'token',
  'secret',
  'databaseUrl',
  'connectionString',
  'headers.authorization',
];

/** Most log lines kept while held; past it they are counted, not kept. */
const MAX_HELD_LINES = 10_000;

/**
 * The terminal's log output, which a prompt can hold: lines written while a question waits
 * for its answer are kept and written after it, so they never cut through the prompt line.
 */
export class LogGate extends Writable {
  private holds = 0;
  private held: Buffer[] = [];
  private dropped = 0;

  constructor(
    private readonly target: { write(chunk: Buffer | string): unknown } = process.stdout,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    if (this.holds === 0) this.target.write(chunk);
    else if (this.held.length < MAX_HELD_LINES) this.held.push(chunk);
    else this.dropped++;
    done();
  }

  /** Runs `fn` (a prompt) with log output held, then writes what was held. */
  async hold<T>(fn: () => Promise<T>): Promise<T> {
    this.holds++;
    try {
      return await fn();
    } finally {
      if (--this.holds === 0) this.release();
    }
  }

  private release(): void {
    const lines = this.held;
    this.held = [];
    for (const chunk of lines) this.target.write(chunk);
    if (this.dropped)
      this.target.write(`(${this.dropped} more log lines were dropped while a prompt waited)\n`);
    this.dropped = 0;
  }
}

/** The gate of this process's terminal (stdout): loggers made by createLogger write through it. */
export const terminalLogs = new LogGate();

/**
 * JSON logs (or pretty ones in dev) with secrets redacted, through terminalLogs so a prompt can
 * hold them; `destination` replaces the terminal (tests).
 */
export function createLogger(
  log: Config['log'],
  name = 'patchops',
  destination?: DestinationStream,
): Logger {
  const options = {
    name,
    level: log.level,
    redact: { paths: redact, censor: '[redacted]' },
  };
  if (destination) return pino(options, destination);
  if (log.format === 'pretty') {
    // In this thread, not as a worker transport, so its output goes through the gate too.
    return pino(
      options,
      pinoPretty({
        colorize: true,
        translateTime: 'SYS:HH:MM:ss',
        ignore: 'pid,hostname',
        destination: terminalLogs,
      }),
    );
  }
  return pino(options, terminalLogs);
}

/** Hides the password of a connection URL so it can be printed. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '[unparseable url]';
  }
}

/** The version in package.json: what `patchops --version` prints. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version?: unknown;
  };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}
