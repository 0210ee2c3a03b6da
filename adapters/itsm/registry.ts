import { z } from 'zod';
import { AdapterRegistry, defineAdapter, type AdapterDeps } from '../kit.js';
import { createLogItsm } from './log.js';
import { servicenowDefinition } from './servicenow/index.js';
import { githubDefinition } from './github/index.js';
import { jiraDefinition } from './jira/index.js';
import { ItsmError, type ItsmAdapter } from './types.js';

/**
 * Every ITSM patchops can keep tickets in. Adding a vendor is one folder and one line
 * here; configuration (PATCHOPS_ITSM), doctor and the README's table all read this list.
 */
export const itsmRegistry = new AdapterRegistry<ItsmAdapter>(
  'ITSM',
  'PATCHOPS_ITSM',
  [
    defineAdapter({
      kind: 'log',
      vendor: 'log',
      summary: 'tickets are log lines (the default)',
      env: [],
      settings: z.object({}),
      create: (_settings, deps) => createLogItsm(deps.log),
    }),
    servicenowDefinition,
    githubDefinition,
    jiraDefinition,
  ],
  (code, message) => new ItsmError(code, message),
);

export const ITSM_KINDS: readonly string[] = itsmRegistry.kinds;

export function createItsm(kind: string, settings: unknown, deps: AdapterDeps): ItsmAdapter {
  return itsmRegistry.create(kind, settings, deps);
}
