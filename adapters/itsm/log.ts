import type { Logger } from 'pino';
import type { ItsmAdapter, TicketRef } from './types.js';

/** The default ITSM: tickets are log lines. Ids derive from the correlation key, so retries agree. */
export function createLogItsm(log: Logger): ItsmAdapter {
  const idFor = (key: string) => `LOG-${key.replace(/[^a-zA-Z0-9]+/g, '-').slice(-48)}`;
  const ref = (key: string): TicketRef => ({
    externalId: idFor(key),
    number: idFor(key),
    url: null,
  });
  return {
    kind: 'log',
    open(draft, opts) {
      const t = ref(opts.key);
      log.info(
        { itsm: 'log', externalId: t.externalId, title: draft.title, clientId: draft.clientId },
        'ticket opened',
      );
      return Promise.resolve(t);
    },
    comment(ticket, text) {
      log.info({ itsm: 'log', externalId: ticket.externalId }, text);
      return Promise.resolve();
    },
    advance(ticket, stage, note) {
      log.info({ itsm: 'log', externalId: ticket.externalId, stage }, note);
      return Promise.resolve();
    },
    openIncident(change, draft, opts) {
      const t = ref(opts.key);
      log.warn(
        { itsm: 'log', externalId: t.externalId, change: change.externalId, title: draft.title },
        'incident opened',
      );
      return Promise.resolve(t);
    },
    close(ticket, closure) {
      log.info({ itsm: 'log', externalId: ticket.externalId, code: closure.code }, closure.notes);
      return Promise.resolve();
    },
    testConnection: () => Promise.resolve({ ok: true, detail: 'log-only ITSM, nothing to reach' }),
  };
}
