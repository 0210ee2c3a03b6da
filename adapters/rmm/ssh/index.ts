import { defineAdapter } from '../../kit.js';
import { createSshRmm, type SshRmm } from './adapter.js';
import { SSH_ENV, sshSettingsSchema, type SshSettings } from './settings.js';

export { createSshRmm, type SshDeps, type SshRmm } from './adapter.js';
export { checkHosts, type HostCheck } from './doctor.js';
export { parseInventory, type Inventory, type InventoryHost } from './inventory.js';
export { sshSettingsSchema, type SshSettings } from './settings.js';

/** Registry entry: `PATCHOPS_RMM=ssh`. */
export const sshDefinition = defineAdapter<SshRmm, SshSettings>({
  kind: 'ssh',
  vendor: 'SSH (apt/dnf)',
  summary:
    'patches Linux servers directly over SSH with apt (Debian/Ubuntu) and dnf (RHEL family), host keys verified',
  env: SSH_ENV,
  settings: sshSettingsSchema,
  create: (settings, deps) => createSshRmm(settings, deps),
});
