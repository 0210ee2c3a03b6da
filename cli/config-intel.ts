import { intelRegistry, type IntelSettings } from '../adapters/intel/registry.js';
import { INTEL_SOURCES, type IntelSourceName } from '../adapters/intel/types.js';

/**
 * Vulnerability-intelligence sources (CISA KEV, FIRST EPSS, NVD, Debian security tracker);
 * cli/config.ts merges them. Every source is on by default, reading its public URL;
 * PATCHOPS_INTEL_<SOURCE> points it at another URL or a local file, or switches it off.
 */
export interface IntelConfig {
  sources: Record<IntelSourceName, IntelSettings>;
}

export function intelConfig(env: Readonly<Record<string, string | undefined>>): {
  config: IntelConfig;
  problems: string[];
} {
  const problems: string[] = [];
  const sources = {} as Record<IntelSourceName, IntelSettings>;
  for (const name of INTEL_SOURCES) {
    const r = intelRegistry.parseSettings(name, env);
    if (r.ok) sources[name] = r.settings as IntelSettings;
    else {
      problems.push(...r.problems);
      sources[name] = { enabled: false };
    }
  }
  return { config: { sources }, problems };
}
