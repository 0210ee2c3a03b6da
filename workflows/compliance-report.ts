import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { AlertSettings } from '../activities/alerts.js';
import { isoWeek } from '../domain/compliance-report.js';

const { complianceClients, postComplianceReport, sendComplianceAlerts, takeComplianceSnapshots } =
  proxyActivities<Activities>({
    startToCloseTimeout: '5 minutes',
    retry: { maximumAttempts: 5 },
  });

/**
 * The weekly report: each client's KPIs and chart to its chat conversations. The period is
 * the ISO week the workflow started in, fixed once, so a retried activity — or a second run
 * in the same week — finds its posts claimed and posts nothing again.
 */
export async function complianceReport(
  input: { period?: string } = {},
): Promise<{ period: string; clients: number; posted: number }> {
  // Date.now() in a workflow is the deterministic time of the current workflow task.
  const period = input.period ?? isoWeek(new Date(Date.now()));
  let posted = 0;
  const clients = await complianceClients();
  for (const clientId of clients) {
    posted += (await postComplianceReport({ clientId, period })).posted;
  }
  return { period, clients: clients.length, posted };
}

/** The daily run: a snapshot of every client and site, then each client's new alerts. */
export async function complianceDaily(
  input: AlertSettings = {},
): Promise<{ snapshots: number; alerts: number }> {
  const { rows } = await takeComplianceSnapshots();
  let alerts = 0;
  for (const clientId of await complianceClients()) {
    alerts += (await sendComplianceAlerts({ clientId, ...input })).sent;
  }
  return { snapshots: rows, alerts };
}
