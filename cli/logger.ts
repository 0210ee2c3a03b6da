import { pino, type DestinationStream, type Logger } from 'pino';
import type { Config } from './config.js';

export type { Logger };

/** Paths that may hold secrets anywhere in a log object; pino replaces them with [redacted]. */
const redact = [
  '*.password',
  '*.apiKey',
  '*.token',
  '*.secret',
  '*.databaseUrl',
  '*.connectionString',
  'password',
  'apiKey',
  'token',
  'secret',
  'databaseUrl',
  'connectionString',
  'headers.authorization',
];

/** JSON logs (or pretty ones in dev) with secrets redacted; `destination` is for tests. */
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
    return pino({
      ...options,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' },
      },
    });
  }
  return pino(options);
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
