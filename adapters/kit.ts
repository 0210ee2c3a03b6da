import type { Logger } from 'pino';
import type { z } from 'zod';
import { createHttpClient, type HttpClient, type HttpClientOptions } from './http/client.js';
import { HttpFailure } from './http/errors.js';

/** What every adapter factory receives; no adapter builds its own logger, HTTP client or clock. */
export interface AdapterDeps {
  log: Logger;
  /** Builds the adapter's one HTTP client with the shared plumbing (timeouts, retries, redaction). */
  http: (options: Omit<HttpClientOptions, 'log'>) => HttpClient;
  clock: () => Date;
  /** patchops' data folder (PATCHOPS_DATA_DIR), for adapters that keep files. */
  dataDir: string;
}

/** One environment variable an adapter reads; the README's configuration table lists these. */
export interface AdapterEnvVar {
  name: string;
  description: string;
  /** Never printed; redacted from logs and errors. */
  secret?: boolean;
  required?: boolean;
}

/**
 * A vendor's registry entry: its kind name, the variables it reads, the zod schema that
 * turns them into settings (issues name the variable), and its factory.
 */
export interface AdapterDefinition<A, S = unknown> {
  kind: string;
  /** The vendor as people name it: "ServiceNow". */
  vendor: string;
  /** One line for the README's adapter table. */
  summary: string;
  env: readonly AdapterEnvVar[];
  /** Parses `{ VAR: value }` of the variables above (unset ones absent). */
  settings: z.ZodType<S>;
  create(settings: S, deps: AdapterDeps): A;
}

/** Keeps the settings type of a definition checked against its factory. */
export function defineAdapter<A, S>(d: AdapterDefinition<A, S>): AdapterDefinition<A, unknown> {
  return d;
}

/**
 * The single source of one kind's adapters (rmm, itsm, intel): names configuration
 * accepts, settings per vendor, factories. An unknown kind fails loudly, never `null`.
 */
export class AdapterRegistry<A> {
  private readonly byKind: ReadonlyMap<string, AdapterDefinition<A>>;

  constructor(
    /** "rmm", "itsm": used in messages. */
    readonly family: string,
    /** The variable that picks the adapter, e.g. PATCHOPS_RMM. */
    readonly selector: string,
    definitions: readonly AdapterDefinition<A>[],
    private readonly fail: (code: 'UNKNOWN_ADAPTER' | 'CONFIG_INVALID', message: string) => Error,
  ) {
    this.byKind = new Map(definitions.map((d) => [d.kind, d]));
  }

  /** Kind names in a stable order, for zod enums, messages and `--help`. */
  get kinds(): [string, ...string[]] {
    return [...this.byKind.keys()].sort() as [string, ...string[]];
  }

  get definitions(): AdapterDefinition<A>[] {
    return this.kinds.map((k) => this.byKind.get(k)!);
  }

  definition(kind: string): AdapterDefinition<A> {
    const d = this.byKind.get(kind);
    if (!d) {
      throw this.fail(
        'UNKNOWN_ADAPTER',
        `Unknown ${this.family} adapter "${kind}". Known kinds: ${this.kinds.join(', ')} (set ${this.selector} to one of them)`,
      );
    }
    return d;
  }

  /**
   * Reads one adapter's variables out of an environment and validates them. Every
   * problem is returned as "VARIABLE: what is wrong", for the config module to report.
   */
  parseSettings(
    kind: string,
    env: Readonly<Record<string, string | undefined>>,
  ): { ok: true; settings: unknown } | { ok: false; problems: string[] } {
    const d = this.definition(kind);
    const input = Object.fromEntries(
      d.env.flatMap((v) => (env[v.name] ? [[v.name, env[v.name]]] : [])),
    );
    const r = d.settings.safeParse(input);
    if (r.success) return { ok: true, settings: r.data };
    return {
      ok: false,
      problems: r.error.issues.map(
        (i) => `${String(i.path[0] ?? d.env.find((v) => v.required)?.name ?? kind)}: ${i.message}`,
      ),
    };
  }

  /**
   * Builds an adapter from the settings `parseSettings` returned (already validated and
   * transformed, so they are not parsed again here).
   */
  create(kind: string, settings: unknown, deps: AdapterDeps): A {
    return this.definition(kind).create(settings, deps);
  }

  /** Every secret variable of every adapter, for redaction lists. */
  secretNames(): string[] {
    return this.definitions.flatMap((d) => d.env.filter((v) => v.secret).map((v) => v.name));
  }
}

/** Production dependencies for adapter factories. */
export function adapterDeps(log: Logger, dataDir: string): AdapterDeps {
  return {
    log,
    http: (options) => createHttpClient({ ...options, log }),
    clock: () => new Date(),
    dataDir,
  };
}

export { HttpFailure };
