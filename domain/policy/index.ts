/** The patch policy model: schema and parsing of policy files, defaults and the cascade. */
export * from './schema.js';
export * from './rollout-schema.js';
export { DEFAULT_GLOBAL_POLICY } from './defaults.js';
export { parsePolicy, formatPath, type ParsePolicyResult } from './parse.js';
export * from './cascade.js';
export { blocklistMatch, globMatch, type BlocklistMatch } from './blocklist.js';
