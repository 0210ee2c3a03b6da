import { z } from 'zod';

/** What the SSH adapter needs to run, parsed from its environment variables. */
export interface SshSettings {
  inventoryPath: string;
  knownHostsPath: string;
  /** Accept and record unknown host keys (never changed ones). Off unless asked for. */
  trustOnFirstUse: boolean;
  /** Most commands running at once across all hosts. */
  concurrency: number;
  connectTimeoutMs: number;
  /** Longest a single command may run (apt-get update, a scan); jobs run detached. */
  commandTimeoutMs: number;
  /** How long apt waits for another apt/dpkg to release its lock (DPkg::Lock::Timeout). */
  lockTimeoutSeconds: number;
  /** Where job records live on each host. */
  stateDir: string;
}

export const SSH_ENV = [
  {
    name: 'PATCHOPS_SSH_INVENTORY',
    required: true,
    description: 'Path to the inventory YAML (clients → sites → hosts)',
  },
  {
    name: 'PATCHOPS_SSH_KNOWN_HOSTS',
    required: true,
    description: 'Path to the OpenSSH known_hosts file host keys are verified against',
  },
  {
    name: 'PATCHOPS_SSH_TRUST_ON_FIRST_USE',
    description:
      'true to accept and record the key of a host not yet in known_hosts (default false)',
  },
  {
    name: 'PATCHOPS_SSH_CONCURRENCY',
    description: 'Most SSH commands at once across all hosts (default 10)',
  },
  {
    name: 'PATCHOPS_SSH_CONNECT_TIMEOUT_SECONDS',
    description: 'SSH connect + handshake timeout (default 10)',
  },
  {
    name: 'PATCHOPS_SSH_COMMAND_TIMEOUT_SECONDS',
    description: 'Longest one scan command may run (default 600)',
  },
  {
    name: 'PATCHOPS_SSH_LOCK_TIMEOUT_SECONDS',
    description: "How long apt waits for another package manager's lock (default 300)",
  },
  {
    name: 'PATCHOPS_SSH_STATE_DIR',
    description: 'Folder on each host for job records (default /var/lib/patchops)',
  },
] as const;

const whole = (fallback: number, max: number, unit = '') =>
  z
    .string()
    .regex(/^\d+$/, `expected a whole number${unit}`)
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1').max(max, `must be at most ${max}`))
    .optional()
    .transform((v) => v ?? fallback);

export const sshSettingsSchema = z
  .object({
    PATCHOPS_SSH_INVENTORY: z.string({ error: 'required: the path of the inventory YAML' }).min(1),
    PATCHOPS_SSH_KNOWN_HOSTS: z
      .string({ error: 'required: the path of a known_hosts file (create it with ssh-keyscan)' })
      .min(1),
    PATCHOPS_SSH_TRUST_ON_FIRST_USE: z
      .enum(['true', 'false'], { error: 'expected true or false' })
      .optional(),
    PATCHOPS_SSH_CONCURRENCY: whole(10, 256),
    PATCHOPS_SSH_CONNECT_TIMEOUT_SECONDS: whole(10, 300, ' of seconds'),
    PATCHOPS_SSH_COMMAND_TIMEOUT_SECONDS: whole(600, 7200, ' of seconds'),
    PATCHOPS_SSH_LOCK_TIMEOUT_SECONDS: whole(300, 7200, ' of seconds'),
    PATCHOPS_SSH_STATE_DIR: z
      .string()
      .regex(/^\/[A-Za-z0-9._/-]+$/, 'expected an absolute path of letters, digits, ".", "_", "-"')
      .optional(),
  })
  .transform((e): SshSettings => ({
    inventoryPath: e.PATCHOPS_SSH_INVENTORY,
    knownHostsPath: e.PATCHOPS_SSH_KNOWN_HOSTS,
    trustOnFirstUse: e.PATCHOPS_SSH_TRUST_ON_FIRST_USE === 'true',
    concurrency: e.PATCHOPS_SSH_CONCURRENCY,
    connectTimeoutMs: e.PATCHOPS_SSH_CONNECT_TIMEOUT_SECONDS * 1000,
    commandTimeoutMs: e.PATCHOPS_SSH_COMMAND_TIMEOUT_SECONDS * 1000,
    lockTimeoutSeconds: e.PATCHOPS_SSH_LOCK_TIMEOUT_SECONDS,
    stateDir: e.PATCHOPS_SSH_STATE_DIR ?? '/var/lib/patchops',
  }));
