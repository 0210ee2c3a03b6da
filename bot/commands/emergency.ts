import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { emergencyRolloutId, type EmergencySource } from '../../domain/emergency.js';
import type { Store } from '../../store/index.js';
import type { patchCycle } from '../../workflows/index.js';

/** What asking for an emergency did, per client the CVE is still open on. */
export interface EmergencyOutcome {
  cve: string;
  /** Rollouts started now, or found already running (or done) for that client and CVE. */
  rollouts: Array<{ clientId: string; rolloutId: string; devices: number; started: boolean }>;
  /** Clients with affected devices the person may not start rollouts for. */
  refused: string[];
}

/**
 * Starts the emergency rollouts for one CVE — the same for `/patch emergency`, Teams and
 * `patchops emergency`: one per client with devices still missing a patch that fixes it
 * (from the last scans), each with the workflow id of its client and CVE, so a repeat (a
 * retried delivery, a second technician, the daily KEV refresh) finds it instead of
 * starting another. `mayStart` is the caller's authorisation (approvers per client).
 */
export async function startEmergency(
  deps: { temporal: Client; taskQueue: string; store: Store },
  a: {
    cve: string;
    clientId?: string | undefined;
    source: EmergencySource;
    actor: string;
    mayStart: (clientId: string) => boolean;
    /** Audit data beside the actor (the CLI's OS user …). */
    audit?: Record<string, unknown>;
  },
): Promise<EmergencyOutcome> {
  const targets = (await deps.store.inventory.openByCve(a.cve)).filter(
    (t) => !a.clientId || t.clientId === a.clientId,
  );
  const out: EmergencyOutcome = { cve: a.cve, rollouts: [], refused: [] };
  for (const t of targets) {
    if (!a.mayStart(t.clientId)) {
      out.refused.push(t.clientId);
      continue;
    }
    const rolloutId = emergencyRolloutId(t.clientId, a.cve);
    const started = await deps.temporal.workflow
      .start<typeof patchCycle>('patchCycle', {
        taskQueue: deps.taskQueue,
        workflowId: rolloutId,
        args: [
          {
            rolloutId,
            clientId: t.clientId,
            startedBy: a.actor,
            emergency: { cve: a.cve, source: a.source, requestedBy: a.actor },
          },
        ],
      })
      .then(
        () => true,
        (err: unknown) => {
          if (err instanceof WorkflowExecutionAlreadyStartedError) return false;
          throw err;
        },
      );
    await deps.store.audit.append({
      idempotencyKey: `${rolloutId}:emergency-requested:${a.actor}`,
      actor: a.actor,
      action: 'rollout.emergency.requested',
      subjectType: 'rollout',
      subjectId: rolloutId,
      clientId: t.clientId,
      rolloutId,
      data: { cve: a.cve, source: a.source, started, devices: t.devices, ...a.audit },
    });
    out.rollouts.push({ clientId: t.clientId, rolloutId, devices: t.devices, started });
  }
  return out;
}

/** One paragraph for chat and the CLI. */
export function describeEmergency(o: EmergencyOutcome): string {
  const lines = o.rollouts.map(
    (r) =>
      `${r.started ? 'Started' : 'Already running'} emergency rollout ${r.rolloutId} for ${r.clientId} (${r.devices} device${r.devices === 1 ? '' : 's'} missing the fix).`,
  );
  if (o.refused.length)
    lines.push(
      `Not started for ${o.refused.join(', ')}: you are not an approver for ${o.refused.length === 1 ? 'that client' : 'those clients'}.`,
    );
  if (!lines.length)
    lines.push(
      `No managed device is missing a patch for ${o.cve} (as of the last scans): nothing to start.`,
    );
  return lines.join('\n');
}
