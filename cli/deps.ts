import type { Logger } from 'pino';
import type { ActivityDeps } from '../activities/index.js';
import { createLogNotifier } from '../adapters/chat/log.js';
import type { Notice } from '../adapters/chat/types.js';
import { createIntelLoaders } from '../adapters/intel/registry.js';
import { createItsm } from '../adapters/itsm/registry.js';
import { adapterDeps } from '../adapters/kit.js';
import { createRmm } from '../adapters/rmm/registry.js';
import type { Store } from '../store/index.js';
import type { Config } from './config.js';
import { loadPolicyFiles, policyFiles } from './policies.js';
import { chatNotifiers } from './chat.js';
import { CardPublisher } from '../bot/cards/publisher.js';

/** The real adapters for a worker, from configuration. The only place they are built. */
export function buildActivityDeps(
  config: Config,
  store: Store,
  log: Logger,
  onNotice?: (n: Notice) => void,
): ActivityDeps {
  const policies = loadPolicyFiles(policyFiles(config.policyDir));
  const notifiers = [
    createLogNotifier(log, onNotice),
    ...chatNotifiers(config, store, log, policies),
  ];
  const adapters = adapterDeps(log, config.dataDir);
  return {
    store,
    log,
    rmm: createRmm(config.adapters.rmm.kind, config.adapters.rmm.settings, adapters),
    itsm: createItsm(config.adapters.itsm.kind, config.adapters.itsm.settings, adapters),
    notifiers,
    publisher: new CardPublisher({
      store,
      notifiers,
      log,
      updateIntervalMs: config.chat.updateIntervalMs,
    }),
    policies,
    intel: createIntelLoaders(config.intel.sources, adapters),
  };
}
