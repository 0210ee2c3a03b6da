export { KNOWN_BAD_ERROR, KNOWN_BAD_PATCH_ID } from './catalog.js';
export {
  parseSimulatorOptions,
  simulatorOptionsSchema,
  type SimulatorOptions,
  type SimulatorOptionsInput,
} from './options.js';
export {
  createSimulator,
  createSimulatorState,
  readSimulatorStats,
  type Simulator,
  type SimulatorDeps,
  type SimulatorStats,
} from './simulator.js';
export type { SimulatorState } from './state.js';
export {
  createRemoteSimulator,
  type RemoteSimulator,
  type RemoteSimulatorHooks,
} from './remote.js';
export { serveSimulator, type ServeSimulatorOptions, type ServedSimulator } from './server.js';
