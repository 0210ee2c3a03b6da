import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';

const { recordAuditEvent } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 5 },
});

export interface SmokeInput {
  actor: string;
  note?: string;
}

/**
 * Proves the whole path works: worker → activity → PostgreSQL. The audit key derives from
 * the workflow id, so running the same id again never writes a second row.
 */
export async function smokeWorkflow(input: SmokeInput): Promise<{ written: boolean }> {
  const { workflowId } = workflowInfo();
  return recordAuditEvent({
    idempotencyKey: `${workflowId}:smoke`,
    actor: input.actor,
    action: 'smoke.completed',
    subjectType: 'workflow',
    subjectId: workflowId,
    data: { note: input.note ?? null },
  });
}
