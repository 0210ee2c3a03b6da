import type { Logger } from 'pino';
import type { ItsmAdapter, TicketDraft } from './types.js';

/** The default ITSM: tickets are log lines. Ids derive from the idempotency key, so retries agree. */
export function createLogItsm(log: Logger): ItsmAdapter {
  const idFor = (key: string) => `LOG-${key.replace(/[^a-zA-Z0-9]+/g, '-').slice(-48)}`;
  return {
    kind: 'log',
    open(draft: TicketDraft, key: string) {
      const externalId = idFor(key);
      log.info(
        { itsm: 'log', externalId, title: draft.title, clientId: draft.clientId },
        'ticket opened',
      );
      return Promise.resolve({ externalId, url: null });
    },
    comment(externalId: string, text: string) {
      log.info({ itsm: 'log', externalId }, text);
      return Promise.resolve();
    },
    close(externalId: string, resolution: string) {
      log.info({ itsm: 'log', externalId, resolution }, 'ticket closed');
      return Promise.resolve();
    },
    testConnection: () => Promise.resolve({ ok: true, detail: 'log-only ITSM, nothing to reach' }),
  };
}
