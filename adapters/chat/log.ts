import type { Logger } from 'pino';
import type { Notice, Notifier } from './types.js';

/** Notices as log lines (and, through onNotice, to the terminal of `patchops dev`). */
export function createLogNotifier(log: Logger, onNotice?: (n: Notice) => void): Notifier {
  return {
    platform: 'cli',
    targets: () => Promise.resolve(['log']),
    post(conversation, notice, { key }) {
      log.info({ rolloutId: notice.rolloutId, kind: notice.kind }, notice.text);
      onNotice?.(notice);
      return Promise.resolve({ conversation, messageRef: key });
    },
    update(message, notice) {
      log.debug({ rolloutId: notice.rolloutId, message: message.messageRef }, 'card updated');
      return Promise.resolve();
    },
  };
}
