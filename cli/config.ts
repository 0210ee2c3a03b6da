import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { chatConfig, chatEnv, type ChatConfig } from './config-chat.js';
import { intelConfig, type IntelConfig } from './config-intel.js';
import { itsmRegistry } from '../adapters/itsm/registry.js';
import { rmmRegistry } from '../adapters/rmm/registry.js';
import type { AdapterRegistry } from '../adapters/kit.js';

/**
 * The one place that reads environment variables. Everything else receives a Config.
 * Values are validated once at start-up; a bad value ends the process with a message
 * naming the variable and what is expected, never echoing a secret.
 */

const secret = z.string().min(1, 'must not be empty when set');
const port = z.coerce
  .number({ message: 'expected a port number' })
  .int('expected a whole number')
  .min(0, 'expected a port between 0 and 65535')
  .max(65535, 'expected a port between 0 and 65535');
const postgresUrl = z.string().refine((v) => /^postgres(ql)?:\/\/.+/.test(v), {
  message: 'expected a PostgreSQL URL like postgres://user:password@host:5432/database',
});

export const envSchema = z.object({
  PATCHOPS_DATA_DIR: z.string().min(1).default('.data'),
  DATABASE_URL: postgresUrl.optional(),
  DATABASE_OWNER_URL: postgresUrl.optional(),
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:]+:\d+$/, 'expected host:port, e.g. 127.0.0.1:7233 or my-ns.tmprl.cloud:7233')
    .optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('patchops'),
  TEMPORAL_API_KEY: secret.optional(),
  TEMPORAL_TLS_CERT: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY: z.string().min(1).optional(),
  TEMPORAL_CLI: z.string().min(1).optional(),
  TEMPORAL_DEV_PORT: port.default(7233),
  TEMPORAL_DEV_UI_PORT: port.default(8233),
  PATCHOPS_POLICY_DIR: z.string().min(1).default('policies'),
  // The registries are the single source of the kinds; each adapter's own variables are
  // validated by its registry entry below.
  PATCHOPS_RMM: z.enum(rmmRegistry.kinds).default('simulator'),
  PATCHOPS_ITSM: z.enum(itsmRegistry.kinds).default('log'),
  ...chatEnv,
  PATCHOPS_WORKER_MAX_ACTIVITIES: z.coerce
    .number({ message: 'expected a whole number' })
    .int()
    .min(1)
    .optional(),
  PATCHOPS_WORKER_MAX_WORKFLOW_TASKS: z.coerce
    .number({ message: 'expected a whole number' })
    .int()
    .min(2)
    .optional(),
  PATCHOPS_WORKER_MAX_CACHED_WORKFLOWS: z.coerce
    .number({ message: 'expected a whole number' })
    .int()
    .min(0)
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['pretty', 'json']).optional(),
  NODE_ENV: z.string().optional(),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  dataDir: string;
  /** Folder of active policy YAML files (global.yaml, one per client/site/group). */
  policyDir: string;
  /** Explicit PostgreSQL URL; when absent, `dev` starts an embedded PostgreSQL. */
  databaseUrl: string | undefined;
  /**
   * The role that owns the tables, for `patchops migrate` only (DATABASE_OWNER_URL); when
   * absent, migrate uses DATABASE_URL and warns that the app can then rewrite the audit trail.
   */
  databaseOwnerUrl: string | undefined;
  temporal: {
    /** Explicit cluster address; when absent, `dev` starts a Temporal dev server. */
    address: string | undefined;
    namespace: string;
    taskQueue: string;
    apiKey: string | undefined;
    tls: { certPath: string; keyPath: string } | undefined;
    cliPath: string | undefined;
    devPort: number;
    devUiPort: number;
  };
  adapters: {
    /** The RMM (PATCHOPS_RMM) and its settings, as its registry entry parsed them. */
    rmm: AdapterChoice;
    /** The ITSM (PATCHOPS_ITSM) and its settings. */
    itsm: AdapterChoice;
  };
  log: { level: Env['LOG_LEVEL']; format: 'pretty' | 'json' };
  /** Worker concurrency (bench/rollout measured 200 / 100 / 1000 for 10,000 devices on 2 cores). */
  worker: {
    maxConcurrentActivityTaskExecutions: number | undefined;
    maxConcurrentWorkflowTaskExecutions: number | undefined;
    maxCachedWorkflows: number | undefined;
  };
  /** Slack and Teams front doors and notifiers; each undefined unless configured. */
  chat: ChatConfig;
  /** Vulnerability intelligence sources (PATCHOPS_INTEL_*), each a URL, a file or off. */
  intel: IntelConfig;
}

export interface AdapterChoice {
  kind: string;
  /** Validated by the adapter's registry entry; only its factory reads them. */
  settings: unknown;
}

/** One adapter's variables, validated by its registry entry; problems name the variable. */
function adapterChoice(
  registry: AdapterRegistry<unknown>,
  kind: string,
  env: Record<string, string | undefined>,
  problems: string[],
): AdapterChoice {
  const r = registry.parseSettings(kind, env);
  if (!r.ok) {
    problems.push(...r.problems.map((p) => `${p} (needed by ${registry.selector}=${kind})`));
    return { kind, settings: undefined };
  }
  return { kind, settings: r.settings };
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Parses an environment into a Config, collecting every problem before failing. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  // Empty strings mean "unset", as in most shells' `VAR= cmd` usage.
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = envSchema.safeParse(cleaned);
  const problems: string[] = parsed.success
    ? []
    : parsed.error.issues.map(
        (issue) => `${String(issue.path[0] ?? '(environment)')}: ${issue.message}`,
      );
  // Cross-field and file checks run on the raw values too, so every problem is reported at once.
  if (Boolean(cleaned.TEMPORAL_TLS_CERT) !== Boolean(cleaned.TEMPORAL_TLS_KEY)) {
    problems.push(
      'TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY: set both (paths to the client certificate and key) or neither',
    );
  }
  for (const name of ['TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY', 'TEMPORAL_CLI'] as const) {
    const file = cleaned[name];
    if (file && !existsSync(file)) problems.push(`${name}: no file at ${file}`);
  }
  if (parsed.success) problems.push(...chatConfig(parsed.data).problems);
  const intel = intelConfig(cleaned);
  problems.push(...intel.problems);
  const rmm = parsed.success
    ? adapterChoice(rmmRegistry, parsed.data.PATCHOPS_RMM, cleaned, problems)
    : undefined;
  const itsm = parsed.success
    ? adapterChoice(itsmRegistry, parsed.data.PATCHOPS_ITSM, cleaned, problems)
    : undefined;
  if (!parsed.success || problems.length || !rmm || !itsm) throw new ConfigError(problems);
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  return {
    dataDir: path.resolve(cwd, e.PATCHOPS_DATA_DIR),
    policyDir: path.resolve(cwd, e.PATCHOPS_POLICY_DIR),
    databaseUrl: e.DATABASE_URL,
    databaseOwnerUrl: e.DATABASE_OWNER_URL,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      apiKey: e.TEMPORAL_API_KEY,
      tls:
        e.TEMPORAL_TLS_CERT && e.TEMPORAL_TLS_KEY
          ? { certPath: e.TEMPORAL_TLS_CERT, keyPath: e.TEMPORAL_TLS_KEY }
          : undefined,
      cliPath: e.TEMPORAL_CLI,
      devPort: e.TEMPORAL_DEV_PORT,
      devUiPort: e.TEMPORAL_DEV_UI_PORT,
    },
    adapters: { rmm, itsm },
    chat: chatConfig(e).config,
    intel: intel.config,
    worker: {
      maxConcurrentActivityTaskExecutions: e.PATCHOPS_WORKER_MAX_ACTIVITIES,
      maxConcurrentWorkflowTaskExecutions: e.PATCHOPS_WORKER_MAX_WORKFLOW_TASKS,
      maxCachedWorkflows: e.PATCHOPS_WORKER_MAX_CACHED_WORKFLOWS,
    },
    log: {
      level: e.LOG_LEVEL,
      format: e.LOG_FORMAT ?? (production || !process.stdout.isTTY ? 'json' : 'pretty'),
    },
  };
}

/** Reads the TLS material named by the config (kept out of loadConfig so it stays pure of secrets). */
export function readTls(config: Config): { crt: Buffer; key: Buffer } | undefined {
  const tls = config.temporal.tls;
  return tls ? { crt: readFileSync(tls.certPath), key: readFileSync(tls.keyPath) } : undefined;
}

/** Where `patchops dev` records the addresses of what it started, for other commands to find. */
export function devStatePath(config: Config): string {
  return path.join(config.dataDir, 'dev.json');
}

export const devStateSchema = z.object({
  pid: z.number().int(),
  databaseUrl: z.string(),
  temporalAddress: z.string(),
  temporalUi: z.string().optional(),
  namespace: z.string(),
  taskQueue: z.string(),
});
export type DevState = z.infer<typeof devStateSchema>;
