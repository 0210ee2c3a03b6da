import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';

const { scanClient } = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '1 minute',
});

/** Scans one client's fleet; run on demand (`patchops scan`) or by a Temporal Schedule. */
export async function clientScan(input: { clientId: string }): Promise<{ devices: number }> {
  return scanClient({ clientId: input.clientId, scanId: workflowInfo().workflowId });
}
