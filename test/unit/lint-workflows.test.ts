import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';
import { PROJECT_ROOT } from '../../cli/runtime.js';

// A workflow file that breaks every purity rule, linted as if it lived in workflows/.
const BAD_WORKFLOW = `
import { readFileSync } from 'node:fs';
import pg from 'pg';
import axios from 'axios';
import { createActivities } from '../activities/index.js';
import { startEmbeddedPostgres } from '../store/embedded.js';
import { proxyActivities } from '@temporalio/workflow';

const acts = proxyActivities<ReturnType<typeof createActivities>>({ startToCloseTimeout: '1 minute' });
export async function badWorkflow(): Promise<void> {
  acts.recordAuditEvent({ idempotencyKey: 'k', actor: 'a', action: 'x', subjectType: 't', subjectId: 'i' });
  void readFileSync; void pg; void axios; void startEmbeddedPostgres;
}
`;

const GOOD_WORKFLOW = `
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';

const acts = proxyActivities<Activities>({ startToCloseTimeout: '1 minute' });
export async function goodWorkflow(): Promise<void> {
  await acts.recordAuditEvent({ idempotencyKey: 'k', actor: 'a', action: 'x', subjectType: 't', subjectId: 'i' });
}
`;

// The type-aware rules need a file the TypeScript project can see, so the probe is written
// into workflows/ for the duration of one lint and removed again.
async function lint(code: string, name: string) {
  const file = path.join(PROJECT_ROOT, 'workflows', `lint-probe-${process.pid}-${name}.ts`);
  writeFileSync(file, code);
  try {
    const eslint = new ESLint({ cwd: PROJECT_ROOT });
    const [result] = await eslint.lintFiles([file]);
    assert.ok(result);
    return result.messages;
  } finally {
    rmSync(file, { force: true });
  }
}

describe('workflow purity lint', () => {
  it('rejects Node built-ins, I/O libraries, value imports of I/O layers and floating promises', async () => {
    const messages = await lint(BAD_WORKFLOW, 'bad');
    const restricted = messages
      .filter((m) => m.ruleId === 'no-restricted-imports')
      .map((m) => m.line);
    // node:fs, pg, axios, ../activities (value import), ../store
    assert.deepEqual(restricted, [2, 3, 4, 5, 6]);
    assert.ok(
      messages.some((m) => m.ruleId === '@typescript-eslint/no-floating-promises' && m.line === 11),
    );
  });

  it('accepts a workflow that imports only types from the I/O layers', async () => {
    const messages = await lint(GOOD_WORKFLOW, 'good');
    assert.deepEqual(
      messages.map((m) => `${m.ruleId}: ${m.message}`),
      [],
    );
  });
});
