import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { adapterTable } from '../../../cli/commands/adapters.js';
import { PROJECT_ROOT } from '../../../cli/runtime.js';

/** Cells of a Markdown table, so prettier's column alignment does not matter. */
const cells = (table: string) =>
  table
    .trim()
    .split('\n')
    .map((line) =>
      line
        .split('|')
        .map((c) => c.trim())
        .map((c) => (/^:?-+:?$/.test(c) ? '---' : c)),
    );

describe('README adapter table', () => {
  it('is the table the registries make (regenerate with `npm run patchops -- adapters`)', () => {
    const readme = readFileSync(`${PROJECT_ROOT}/README.md`, 'utf8');
    const m = /<!-- adapters:start -->\n([\s\S]*?)\n<!-- adapters:end -->/.exec(readme);
    assert.ok(m, 'README.md lacks the <!-- adapters:start --> … <!-- adapters:end --> block');
    assert.deepEqual(cells(m[1]!), cells(adapterTable()));
  });
});
