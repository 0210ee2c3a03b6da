import { defineAdapter } from '../../kit.js';
import { createNinjaOne } from './adapter.js';
import { ninjaoneSettingsSchema } from './settings.js';

export { createNinjaOne, type NinjaOneAdapter } from './adapter.js';
export { checkPatchPolicy, type PatchPolicyCheck } from './policy.js';
export {
  REGION_HOSTS,
  ninjaoneSettingsSchema,
  type NinjaOneRegion,
  type NinjaOneSettings,
} from './settings.js';

/** The registry entry for PATCHOPS_RMM=ninjaone; the lead adds it to adapters/rmm/registry.ts. */
export const ninjaoneDefinition = defineAdapter({
  kind: 'ninjaone',
  vendor: 'NinjaOne',
  summary:
    'NinjaOne RMM through its Public API v2 (OAuth client credentials); OS and third-party patching',
  env: [
    {
      name: 'NINJAONE_REGION',
      description:
        'Your NinjaOne instance: app (US), us2, eu, oc, ca or fed; or set NINJAONE_BASE_URL',
    },
    {
      name: 'NINJAONE_BASE_URL',
      description:
        'Overrides the region, e.g. https://eu.ninjarmm.com (https only; http for a loopback test server)',
    },
    {
      name: 'NINJAONE_CLIENT_ID',
      description:
        'Client ID of a NinjaOne API client app (client credentials, scopes monitoring + management)',
      required: true,
    },
    {
      name: 'NINJAONE_CLIENT_SECRET',
      description: 'Client secret of that API client app',
      secret: true,
      required: true,
    },
    {
      name: 'NINJAONE_TIMEZONE',
      description: 'IANA time zone for every site (NinjaOne keeps none per location); default UTC',
    },
    { name: 'NINJAONE_TIMEOUT_MS', description: 'Per-request timeout in ms; default 30000' },
    {
      name: 'NINJAONE_PAGE_SIZE',
      description: 'Rows per page of NinjaOne patch reports; default 500',
    },
  ],
  settings: ninjaoneSettingsSchema,
  create: (settings, deps) => createNinjaOne(settings, deps),
});
