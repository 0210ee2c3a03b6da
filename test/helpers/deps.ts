import type { ActivityDeps } from '../../activities/index.js';
import { createLogNotifier } from '../../adapters/chat/log.js';
import type { Notice } from '../../adapters/chat/types.js';
import { createLogItsm } from '../../adapters/itsm/log.js';
import { createSimulator, type Simulator } from '../../adapters/rmm/simulator/index.js';
import { parsePolicy, type PolicyDocument } from '../../domain/policy/index.js';
import type { Store } from '../../store/index.js';
import { testLog } from './temporal.js';

export interface TestDeps extends ActivityDeps {
  rmm: Simulator;
  notices: Notice[];
}

/** Activity dependencies for tests: a simulator fleet, log ITSM, captured notices. */
export function testDeps(
  store: Store,
  opts: { simulator?: Record<string, unknown>; policies?: PolicyDocument[]; rmm?: Simulator } = {},
): TestDeps {
  const notices: Notice[] = [];
  return {
    store,
    log: testLog,
    rmm: opts.rmm ?? createSimulator(opts.simulator ?? { clients: 1, devicesPerClient: 20 }),
    itsm: createLogItsm(testLog),
    notifiers: [createLogNotifier(testLog, (n) => notices.push(n))],
    policies: opts.policies ?? [],
    timing: { jobPollMs: 50, offlineRetryMs: 1_000 },
    notices,
  };
}

/** Parses policy YAML written inline in a test, failing loudly on mistakes. */
export function policy(yaml: string, name = 'test.yaml'): PolicyDocument {
  const r = parsePolicy(yaml, name);
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.policy;
}
