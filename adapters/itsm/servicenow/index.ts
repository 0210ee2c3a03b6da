import { defineAdapter } from '../../kit.js';
import { createServiceNow } from './adapter.js';
import { SERVICENOW_ENV, serviceNowSettingsSchema } from './settings.js';

export { createServiceNow, type ServiceNowItsm } from './adapter.js';
export { serviceNowSettingsSchema, type ServiceNowSettings } from './settings.js';

/** The registry entry: PATCHOPS_ITSM=servicenow and the SERVICENOW_* variables. */
export const servicenowDefinition = defineAdapter({
  kind: 'servicenow',
  vendor: 'ServiceNow',
  summary:
    'change requests through the Table API (normal or emergency), work notes, state moves, incidents caused by a halted rollout',
  env: SERVICENOW_ENV,
  settings: serviceNowSettingsSchema,
  create: (settings, deps) => createServiceNow(settings, deps),
});
