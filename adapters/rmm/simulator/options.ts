import { z } from 'zod';
import { RmmError } from '../types.js';

const rate = z
  .number()
  .min(0, 'expected a probability between 0 and 1')
  .max(1, 'expected a probability between 0 and 1');
const millis = z.number().int('expected whole milliseconds').min(0, 'expected 0 or more ms');

/**
 * Settings of the simulated RMM. Every field has a default, so `{}` gives the standard
 * demo fleet: three clients of 100 devices, instant scans and jobs, a few failures.
 */
export const simulatorOptionsSchema = z.strictObject({
  /** Same seed, same fleet, catalog and failure decisions. */
  seed: z.number().int('expected a whole number').default(42),
  clients: z.number().int().min(1, 'expected at least 1 client').max(1000).default(3),
  devicesPerClient: z.number().int().min(0).max(100_000).default(100),
  /** Virtual duration of scans and jobs, measured on the injected clock; 0 = instant. */
  latencyMs: z.strictObject({ scan: millis.default(0), job: millis.default(0) }).prefault({}),
  failureRate: z
    .strictObject({
      /** Chance that one patch fails on one device. */
      perPatch: rate.default(0.02),
      /** Chance that a device fails every install (broken update agent, full disk). */
      perDevice: rate.default(0.01),
    })
    .prefault({}),
  /** Chance that a device starts offline. */
  offlineRate: rate.default(0.03),
  /**
   * Chance that the logged-on user postpones a reboot prompt that allows it, decided per
   * device and idempotency key.
   */
  userDeferRate: rate.default(0.3),
  /** Whether the one known-bad patch fails on every device it is sent to. */
  knownBadPatch: z.boolean().default(true),
});

export type SimulatorOptions = z.infer<typeof simulatorOptionsSchema>;
export type SimulatorOptionsInput = z.input<typeof simulatorOptionsSchema>;

/** Validates simulator config, naming each bad field; throws `CONFIG_INVALID`. */
export function parseSimulatorOptions(config: unknown): SimulatorOptions {
  const parsed = simulatorOptionsSchema.safeParse(config ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map(
    (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
  );
  throw new RmmError(
    'CONFIG_INVALID',
    `Invalid simulator RMM config:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    { cause: parsed.error },
  );
}
