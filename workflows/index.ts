// Every workflow the worker registers. Keep this file to re-exports only.
export { smokeWorkflow } from './smoke.js';
export { patchCycle } from './patch-cycle.js';
export { deviceRollout } from './device-rollout.js';
export { clientScan } from './scan.js';
export { intelRefresh } from './intel-refresh.js';
export { complianceReport, complianceDaily } from './compliance-report.js';
