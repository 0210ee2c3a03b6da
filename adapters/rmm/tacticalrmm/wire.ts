import { z } from 'zod';

/**
 * Tactical RMM's wire format, read from its Django REST Framework source
 * (github.com/amidaware/tacticalrmm, api/tacticalrmm/*): serializers decide the fields,
 * views the status codes. Only the fields patchops reads are declared; zod drops the rest.
 * Action endpoints and `notify_error` answers are bare JSON strings.
 */

const approval = z.enum(['manual', 'approve', 'ignore', 'inherit']);

/** winupdate.serializers.WinUpdatePolicySerializer (fields "__all__"). */
export const winUpdatePolicySchema = z.object({
  id: z.number().int().optional(),
  agent: z.number().int().nullable().optional(),
  policy: z.number().int().nullable().optional(),
  critical: approval,
  important: approval,
  moderate: approval,
  low: approval,
  other: approval,
  run_time_frequency: z.enum(['daily', 'monthly', 'inherit']),
  run_time_hour: z.number().int().optional(),
  run_time_days: z.array(z.number().int()).nullable().optional(),
  run_time_day: z.number().int().optional(),
  reboot_after_install: z.enum(['never', 'required', 'always', 'inherit']),
});
export type WireWinUpdatePolicy = z.infer<typeof winUpdatePolicySchema>;

/** clients.serializers.SiteSerializer, as nested in ClientSerializer.sites. */
export const siteSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  client: z.number().int(),
  server_policy: z.number().int().nullable(),
  workstation_policy: z.number().int().nullable(),
  block_policy_inheritance: z.boolean().optional(),
});

/** GET /clients/ → clients.serializers.ClientSerializer, ordered by name. */
export const clientsSchema = z.array(
  z.object({
    id: z.number().int(),
    name: z.string(),
    server_policy: z.number().int().nullable(),
    workstation_policy: z.number().int().nullable(),
    block_policy_inheritance: z.boolean().optional(),
    sites: z.array(siteSchema),
  }),
);
export type WireClient = z.infer<typeof clientsSchema>[number];

const agentStatus = z.enum(['online', 'offline', 'overdue']);
const plat = z.string();

/** GET /agents/?client=… → agents.serializers.AgentTableSerializer (detail=true). */
export const agentTableSchema = z.array(
  z.object({
    agent_id: z.string(),
    hostname: z.string(),
    site_name: z.string(),
    client_name: z.string(),
    monitoring_type: z.string(),
    status: agentStatus,
    needs_reboot: z.boolean(),
    plat,
    operating_system: z.string().nullable(),
  }),
);
export type WireAgentRow = z.infer<typeof agentTableSchema>[number];

/** GET /agents/{agent_id}/ → agents.serializers.AgentSerializer. */
export const agentDetailSchema = z.object({
  agent_id: z.string(),
  hostname: z.string(),
  status: agentStatus,
  plat,
  needs_reboot: z.boolean(),
  /** Epoch seconds of the last boot, as the agent reports it. */
  boot_time: z.number().nullable(),
  /** ISO 8601 (DRF's JSON encoder). */
  last_seen: z.string().nullable(),
  time_zone: z.string().nullable(),
  /** The agent's own zone or Tactical's default. */
  timezone: z.string(),
  site: z.number().int(),
  effective_patch_policy: winUpdatePolicySchema,
});
export type WireAgent = z.infer<typeof agentDetailSchema>;

/** GET /winupdate/{agent_id}/ → winupdate.serializers.WinUpdateSerializer, newest first. */
export const winUpdatesSchema = z.array(
  z.object({
    id: z.number().int(),
    guid: z.string().nullable(),
    kb: z.string().nullable(),
    title: z.string().nullable(),
    installed: z.boolean(),
    downloaded: z.boolean(),
    severity: z.string().nullable(),
    categories: z.array(z.string().nullable()).nullable(),
    description: z.string().nullable().optional(),
    action: z.enum(['inherit', 'approve', 'ignore', 'nothing']),
    /** "n/a", "success" or "failed" (set by the agent after an install attempt). */
    result: z.string(),
    /** "%m %d %Y %H:%M" in Tactical's default time zone, or null. */
    date_installed: z.string().nullable(),
  }),
);
export type WireWinUpdate = z.infer<typeof winUpdatesSchema>[number];

/** GET /automation/policies/ → automation.serializers.PolicyTableSerializer. */
export const policiesSchema = z.array(
  z.object({
    id: z.number().int(),
    name: z.string(),
    active: z.boolean(),
    winupdatepolicy: z.array(winUpdatePolicySchema),
  }),
);

/** GET /core/settings/ → core.serializers.CoreSettingsSerializer (only the zone is read). */
export const coreSettingsSchema = z.object({ default_time_zone: z.string() });

/** Action endpoints answer a sentence, e.g. "ok" or "Approved patches will now be installed on X". */
export const messageSchema = z.string();
