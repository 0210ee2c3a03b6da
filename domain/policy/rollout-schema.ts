import { z } from 'zod';
import { durationSchema } from '../duration.js';

/**
 * The rollout half of a policy: rings (who gets patches in which order, and the gates
 * between them) and maintenance windows (when devices may be touched). Validation only;
 * ring planning and window arithmetic live elsewhere in domain/.
 */

const name = z.string().min(1);

// ---- rings -----------------------------------------------------------------------------

export type RingMembers = { groups: string[] } | { percent: number };

const ringMembersSchema = z
  .object({
    groups: z.array(name).min(1).optional(),
    percent: z.number().int().min(1).max(100).optional(),
  })
  .strict()
  .transform((m, ctx): RingMembers => {
    if (m.groups !== undefined && m.percent === undefined) return { groups: m.groups };
    if (m.percent !== undefined && m.groups === undefined) return { percent: m.percent };
    ctx.addIssue({ code: 'custom', message: 'set exactly one of "groups" or "percent"' });
    return z.NEVER;
  });

export const ringSchema = z
  .object({
    name,
    members: ringMembersSchema,
    soak: durationSchema,
    successThreshold: z.number().min(0).max(1).default(0.95),
    promotion: z.enum(['auto', 'manual']).default('auto'),
    // Temporal allows 2,000 pending children per workflow, and the parent's history must
    // have room to drain every running child before it continues as new.
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(1000, 'at most 1000 devices at once per ring')
      .default(25),
  })
  .strict();
export type Ring = z.output<typeof ringSchema>;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const ringsSchema = z
  .array(ringSchema)
  .min(1)
  .max(10)
  .superRefine(
    (rings: unknown, ctx) => {
      // Runs even when a ring has other errors (`when` below) so that every problem is
      // reported at once; hence the defensive reading of possibly-invalid entries.
      if (!Array.isArray(rings)) return;
      const seen = new Set<string>();
      let percentSum = 0;
      rings.forEach((ring: unknown, i) => {
        if (!isRecord(ring)) return;
        if (typeof ring.name === 'string') {
          if (seen.has(ring.name)) {
            ctx.addIssue({
              code: 'custom',
              path: [i, 'name'],
              message: `duplicate ring name "${ring.name}"`,
            });
          }
          seen.add(ring.name);
        }
        if (isRecord(ring.members) && typeof ring.members.percent === 'number') {
          percentSum += ring.members.percent;
        }
      });
      if (percentSum > 100) {
        ctx.addIssue({
          code: 'custom',
          message: `percent rings add up to ${percentSum}%; they are cumulative by order, so the total must be at most 100`,
        });
      }
    },
    { when: () => true },
  );

// ---- maintenance windows ---------------------------------------------------------------

export const weekdaySchema = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
export type Weekday = z.infer<typeof weekdaySchema>;

const monthlySchema = z
  .object({
    nthWeekday: z
      .object({
        n: z.union([z.number().int().min(1).max(5), z.literal('last')], {
          message: 'expected 1, 2, 3, 4, 5 or "last"',
        }),
        weekday: weekdaySchema,
      })
      .strict(),
    /** Days after (or before, when negative) the nth weekday: Patch Tuesday + 2 is n 2, tue, +2. */
    offsetDays: z.number().int().min(-27).max(27).default(0),
  })
  .strict();

export type WindowRule =
  { weekly: { days: Weekday[] } } | { monthly: z.output<typeof monthlySchema> } | { daily: true };

const windowRuleSchema = z
  .object({
    weekly: z
      .object({ days: z.array(weekdaySchema).min(1) })
      .strict()
      .optional(),
    monthly: monthlySchema.optional(),
    daily: z.literal(true).optional(),
  })
  .strict()
  .transform((rule, ctx): WindowRule => {
    const set = [rule.weekly && 'weekly', rule.monthly && 'monthly', rule.daily && 'daily'];
    if (set.filter(Boolean).length === 1) {
      if (rule.weekly) return { weekly: rule.weekly };
      if (rule.monthly) return { monthly: rule.monthly };
      return { daily: true };
    }
    ctx.addIssue({ code: 'custom', message: 'set exactly one of "weekly", "monthly" or "daily"' });
    return z.NEVER;
  });

/** True for names the runtime's time-zone database knows ("Europe/Berlin", "UTC"). */
export function isIanaTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const windowTimezoneSchema = z.string().superRefine((tz, ctx) => {
  if (tz === 'device' || tz === 'site' || isIanaTimeZone(tz)) return;
  ctx.addIssue({
    code: 'custom',
    message: `unknown time zone "${tz}"; use "device", "site" or an IANA name like "Europe/Berlin"`,
  });
});

export const maintenanceWindowSchema = z
  .object({
    name,
    rule: windowRuleSchema,
    start: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'expected a 24-hour time like "02:00"' }),
    duration: durationSchema.refine((ms) => ms > 0, { message: 'must be longer than 0s' }),
    timezone: windowTimezoneSchema,
  })
  .strict();
export type MaintenanceWindow = z.output<typeof maintenanceWindowSchema>;

export const windowsSchema = z.array(maintenanceWindowSchema).superRefine(
  (windows: unknown, ctx) => {
    if (!Array.isArray(windows)) return;
    const seen = new Set<unknown>();
    windows.forEach((w: unknown, i) => {
      if (!isRecord(w) || typeof w.name !== 'string') return;
      if (seen.has(w.name)) {
        ctx.addIssue({
          code: 'custom',
          path: [i, 'name'],
          message: `duplicate window "${w.name}"`,
        });
      }
      seen.add(w.name);
    });
  },
  { when: () => true },
);
