import { Context } from '@temporalio/activity';
import type { AuditEventInput } from '../store/index.js';
import type { ActivityDeps } from './index.js';

export function createAuditActivities({ store, log }: ActivityDeps) {
  return {
    /**
     * Records an audit event. The idempotency key comes from the workflow (workflow id +
     * step), so a retried activity or a re-run of the workflow writes the row once.
     */
    async recordAuditEvent(event: AuditEventInput): Promise<{ written: boolean }> {
      const written = await store.audit.append(event);
      const info = Context.current().info;
      log.debug(
        {
          key: event.idempotencyKey,
          written,
          workflowId: info.workflowExecution?.workflowId,
          attempt: info.attempt,
        },
        'audit event',
      );
      return { written };
    },
  };
}
