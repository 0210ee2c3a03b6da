import { z } from 'zod';

/**
 * NinjaOne Public API v2 answers patchops reads, as zod schemas. Source: the vendor's
 * OpenAPI (2.0.9-draft) in shared/reference/ninjaone-api-v2-patching.openapi.json, plus
 * the device `os` block and `/v2/organization/{id}/locations`, which that excerpt leaves
 * out (taken from the full spec as used by public clients). Only the fields patchops uses
 * are required; free-form vocabularies (patch status, severity, activity status codes)
 * are plain strings, because NinjaOne adds values between releases.
 */

/** RFC 6749 §5.1 client-credentials answer of POST /ws/oauth/token. */
export const tokenSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string(),
  expires_in: z.number().positive(),
  scope: z.string().optional(),
});

export const organizationSchema = z.object({
  id: z.number().int(),
  name: z.string(),
});
export const organizationsSchema = z.array(organizationSchema);

export const locationSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  description: z.string().optional(),
});
export const locationsSchema = z.array(locationSchema);

const osSchema = z.object({
  name: z.string().optional(),
  /** The agent's reboot-pending flag (device level; NinjaOne has none per patch). */
  needsReboot: z.boolean().optional(),
  /** Epoch seconds. */
  lastBootTime: z.number().optional(),
});

export const deviceSchema = z.object({
  id: z.number().int(),
  organizationId: z.number().int(),
  locationId: z.number().int(),
  nodeClass: z.string(),
  offline: z.boolean().optional(),
  displayName: z.string().optional(),
  systemName: z.string().optional(),
  dnsName: z.string().optional(),
  tags: z.array(z.string()).optional(),
  os: osSchema.optional(),
});
export type WireDevice = z.infer<typeof deviceSchema>;
export const devicesSchema = z.array(deviceSchema);

export const activitySchema = z.object({
  id: z.number().int(),
  /** Epoch seconds (double). */
  activityTime: z.number(),
  deviceId: z.number().int().optional(),
  activityType: z.string().optional(),
  statusCode: z.string().optional(),
  status: z.string().optional(),
  activityResult: z.string().optional(),
  seriesUid: z.string().optional(),
  subject: z.string().optional(),
  message: z.string().optional(),
});
export type WireActivity = z.infer<typeof activitySchema>;
export const activitiesSchema = z.object({
  lastActivityId: z.number().optional(),
  activities: z.array(activitySchema),
});

/** The cursor of /v2/queries/*: `name` is a server-side handle, `offset` moves per page. */
const queryCursorSchema = z.object({
  name: z.string(),
  offset: z.number().optional(),
  count: z.number().optional(),
  expires: z.number().optional(),
});

export const osPatchRowSchema = z.object({
  id: z.string(),
  name: z.string(),
  severity: z.string().optional(),
  status: z.string(),
  type: z.string().optional(),
  installedAt: z.number().optional(),
  deviceId: z.number().int(),
  timestamp: z.number().optional(),
  kbNumber: z.string().optional(),
});
export type WireOsPatch = z.infer<typeof osPatchRowSchema>;

export const softwarePatchRowSchema = z.object({
  id: z.string(),
  productIdentifier: z.string(),
  title: z.string(),
  impact: z.string().optional(),
  status: z.string(),
  type: z.string().optional(),
  installedAt: z.number().optional(),
  deviceId: z.number().int(),
  timestamp: z.number().optional(),
});
export type WireSoftwarePatch = z.infer<typeof softwarePatchRowSchema>;

export const queryPage = <T extends z.ZodType>(row: T) =>
  z.object({ cursor: queryCursorSchema.nullish(), results: z.array(row) });

/** 204 No Content (the HTTP client hands an empty body over as null). */
export const noContentSchema = z.unknown();
