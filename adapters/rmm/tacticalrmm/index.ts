import { defineAdapter } from '../../kit.js';
import { createTacticalRmm, type TacticalRmm } from './adapter.js';
import { tacticalSettingsSchema } from './settings.js';

export { createTacticalRmm, type TacticalRmm } from './adapter.js';
export type { TacticalSettings } from './settings.js';
export { reviewPatchPolicy, type PatchPolicyReview } from './policy.js';
export type { PolicyFinding, PolicyTarget } from './policy-check.js';

/** The registry entry: PATCHOPS_RMM=tacticalrmm. */
export const tacticalrmmDefinition = defineAdapter<
  TacticalRmm,
  ReturnType<typeof tacticalSettingsSchema.parse>
>({
  kind: 'tacticalrmm',
  vendor: 'Tactical RMM',
  summary:
    'Windows updates of Tactical RMM agents through its REST API (set the patch policy to Manual)',
  env: [
    {
      name: 'TACTICAL_API_URL',
      description: 'API address of your Tactical RMM, e.g. https://api.example.com',
      required: true,
    },
    {
      name: 'TACTICAL_API_KEY',
      description: 'API key (Settings > Global Settings > API Keys), sent as X-API-KEY',
      secret: true,
      required: true,
    },
    {
      name: 'TACTICAL_TIME_ZONE',
      description:
        "Tactical's default time zone (Global Settings > General); read from the server when unset",
    },
  ],
  settings: tacticalSettingsSchema,
  create: (settings, deps) => createTacticalRmm(settings, deps),
});
