// Every workflow the worker registers. Keep this file to re-exports only.
export { smokeWorkflow } from './smoke.js';
