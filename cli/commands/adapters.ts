import { itsmRegistry } from '../../adapters/itsm/registry.js';
import type { AdapterRegistry } from '../../adapters/kit.js';
import { rmmRegistry } from '../../adapters/rmm/registry.js';

const REGISTRIES: ReadonlyArray<AdapterRegistry<unknown>> = [rmmRegistry, itsmRegistry];

/**
 * The README's adapter table, made from the registries: `patchops adapters` prints it and
 * a unit test fails when the README's copy disagrees.
 */
export function adapterTable(): string {
  const rows = REGISTRIES.flatMap((r) =>
    r.definitions.map((d) => {
      const vars = d.env.length
        ? d.env
            .map((v) => `\`${v.name}\`${v.required ? '' : '?'}${v.secret ? ' 🔒' : ''}`)
            .join(', ')
        : '—';
      return `| \`${r.selector}=${d.kind}\` | ${d.vendor} | ${d.summary} | ${vars} |`;
    }),
  );
  return [
    '| choose with | vendor | what it is | its variables (`?` optional, 🔒 secret) |',
    '| --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
