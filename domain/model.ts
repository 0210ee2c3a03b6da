import { z } from 'zod';

/**
 * The fleet and its patches, as every layer sees them. Pure data and zod schemas only:
 * workflows import this module, so it must stay deterministic and free of I/O.
 */

export const osFamilySchema = z.enum(['windows', 'macos', 'linux']);
export type OsFamily = z.infer<typeof osFamilySchema>;

export const criticalitySchema = z.enum(['low', 'medium', 'high', 'critical']);
export type Criticality = z.infer<typeof criticalitySchema>;

export const clientSchema = z.object({ id: z.string().min(1), name: z.string().min(1) });
export type Client = z.infer<typeof clientSchema>;

export const siteSchema = z.object({
  id: z.string().min(1),
  clientId: z.string().min(1),
  name: z.string().min(1),
  /** IANA time zone, e.g. "Europe/Berlin". */
  timezone: z.string().min(1),
});
export type Site = z.infer<typeof siteSchema>;

export const deviceSchema = z.object({
  id: z.string().min(1),
  clientId: z.string().min(1),
  siteId: z.string().min(1),
  hostname: z.string().min(1),
  osFamily: osFamilySchema,
  osVersion: z.string().min(1),
  /** Groups/tags used by policy cascades and explicit ring membership. */
  tags: z.array(z.string()),
  criticality: criticalitySchema,
  internetExposed: z.boolean(),
  /** IANA time zone of the device; falls back to its site's when null. */
  timezone: z.string().nullable(),
  online: z.boolean(),
  /** Which RMM manages it and the RMM's own id for it. */
  rmmKind: z.string().min(1),
  rmmRef: z.string().min(1),
});
export type Device = z.infer<typeof deviceSchema>;

export const patchKindSchema = z.enum(['os', 'application', 'driver', 'firmware']);
export type PatchKind = z.infer<typeof patchKindSchema>;

/** Vendor severity, normalised to Microsoft's MSRC scale (which most RMMs use). */
export const severitySchema = z.enum(['none', 'low', 'moderate', 'important', 'critical']);
export type Severity = z.infer<typeof severitySchema>;

/** Patch categories as approval matrices name them. */
export const patchCategorySchema = z.enum([
  'security',
  'critical_update',
  'update',
  'feature_pack',
  'driver',
  'firmware',
  'definition',
  'third_party',
]);
export type PatchCategory = z.infer<typeof patchCategorySchema>;

export const patchSchema = z.object({
  /** Stable id within patchops, e.g. "win:KB5044284" or "deb:openssl:3.0.15-1~deb12u1". */
  id: z.string().min(1),
  /** What the vendor calls it: a KB number, or "package=version". */
  vendorRef: z.string().min(1),
  title: z.string().min(1),
  product: z.string().min(1),
  kind: patchKindSchema,
  category: patchCategorySchema,
  vendorSeverity: severitySchema,
  cvss: z.number().min(0).max(10).nullable(),
  epss: z.number().min(0).max(1).nullable(),
  kev: z.boolean(),
  cveIds: z.array(z.string().regex(/^CVE-\d{4}-\d{4,}$/)),
  /** ISO date (YYYY-MM-DD). */
  releaseDate: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .nullable(),
  rebootRequired: z.boolean(),
  uninstallable: z.boolean(),
});
export type Patch = z.infer<typeof patchSchema>;

export const devicePatchStateSchema = z.enum([
  'missing',
  'approved',
  'scheduled',
  'installing',
  'installed',
  'failed',
  'rolled_back',
  'excluded',
  'pending_reboot',
]);
export type DevicePatchState = z.infer<typeof devicePatchStateSchema>;
