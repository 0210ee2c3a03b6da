import type { Notifier } from '../../adapters/chat/types.js';
import { createSlackNotifier, slackWebClient } from '../../bot/slack/notifier.js';
import { postSlackImage } from '../../bot/slack/upload.js';
import type { SlackConfig } from '../../cli/config-chat.js';
import type { Store } from '../../store/index.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * A small fleet whose compliance numbers are worked out by hand in the tests, every date an
 * offset from `t` (the moment the numbers describe):
 *
 * client acme, site s1: d1, d2, d3; site s2: d4. client beta, site b: b1.
 * patches: pK (KEV-listed), pC, pL. Rollout r1 of acme plans pK forensic, pC act, pL upgrade
 * (BOD 26-04 tiers); d1's pairs carry the same tiers themselves, as planning writes them,
 * the others fall back to r1's (so d2 pK counts as forensic only through that fallback).
 *
 * | pair   | state          | detected | installed | due      |
 * | d1 pK  | installed      | t−21d    | t−19d     | t−18d    |
 * | d1 pC  | missing        | t−11d    |           | t−6d     |
 * | d2 pK  | installed      | t−21d    | t−15d     | t−18d    |
 * | d2 pL  | pending_reboot | t−5d     |           | t+19d    |
 * | d3 pK  | failed (t−1d)  | t−10d    |           | t+12h    |
 * | d3 pL  | excluded       | t−61d    |           |          |
 * | d4 pC  | installed      | t−61d    | t−42d     | t−47d    |
 * | d4 pL  | missing        | t−30d    |           | (none)   |
 * | b1 pK  | missing        | t−1d     |           | t−12h    |
 *
 * Every device was last seen at t−1h except d4 (t−10d).
 */
export async function seedComplianceFleet(store: Store, t: Date): Promise<void> {
  const at = (ms: number) => new Date(t.getTime() + ms);
  const inv = store.inventory;
  await inv.upsertClients([
    { id: 'acme', name: 'Acme' },
    { id: 'beta', name: 'Beta' },
  ]);
  await inv.upsertSites([
    { id: 's1', clientId: 'acme', name: 'HQ', timezone: 'UTC' },
    { id: 's2', clientId: 'acme', name: 'Branch', timezone: 'UTC' },
    { id: 'b', clientId: 'beta', name: 'Beta HQ', timezone: 'UTC' },
  ]);
  const device = (id: string, clientId: string, siteId: string) => ({
    id,
    clientId,
    siteId,
    hostname: `${id}.example`,
    osFamily: 'linux' as const,
    osVersion: 'Debian 12',
    tags: [],
    criticality: 'medium' as const,
    internetExposed: false,
    timezone: null,
    online: true,
    rmmKind: 'simulator',
    rmmRef: id,
  });
  await inv.upsertDevices([
    device('d1', 'acme', 's1'),
    device('d2', 'acme', 's1'),
    device('d3', 'acme', 's1'),
    device('d4', 'acme', 's2'),
    device('b1', 'beta', 'b'),
  ]);
  const patch = (id: string, kev: boolean) => ({
    id,
    vendorRef: id,
    title: `Patch ${id}`,
    product: 'Debian',
    kind: 'os' as const,
    category: 'security' as const,
    vendorSeverity: 'important' as const,
    cvss: 7.5,
    epss: 0.1,
    kev,
    cveIds: [],
    releaseDate: null,
    rebootRequired: false,
    uninstallable: false,
  });
  await inv.upsertPatches([patch('pK', true), patch('pC', false), patch('pL', false)]);
  await store.pool.query(
    `update devices set last_seen_at = case when id = 'd4' then $1::timestamptz else $2::timestamptz end`,
    [at(-10 * DAY), at(-HOUR)],
  );
  await store.pool.query(
    `insert into rollouts (id, client_id, status, started_by, created_at) values ('r1', 'acme', 'completed', 'test', $1)`,
    [at(-25 * DAY)],
  );
  await store.pool.query(
    `insert into rollout_patches (rollout_id, patch_id, decision, reason, risk_tier, due_at) values
       ('r1', 'pK', 'auto', 'test', 'forensic', $1), ('r1', 'pC', 'auto', 'test', 'act', $1),
       ('r1', 'pL', 'auto', 'test', 'upgrade', null)`,
    [at(-18 * DAY)],
  );
  const pairs: Array<[string, string, string, number, number | null, number | null]> = [
    ['d1', 'pK', 'installed', -21 * DAY, -19 * DAY, -18 * DAY],
    ['d1', 'pC', 'missing', -11 * DAY, null, -6 * DAY],
    ['d2', 'pK', 'installed', -21 * DAY, -15 * DAY, -18 * DAY],
    ['d2', 'pL', 'pending_reboot', -5 * DAY, null, 19 * DAY],
    ['d3', 'pK', 'failed', -10 * DAY, null, 12 * HOUR],
    ['d3', 'pL', 'excluded', -61 * DAY, null, null],
    ['d4', 'pC', 'installed', -61 * DAY, -42 * DAY, -47 * DAY],
    ['d4', 'pL', 'missing', -30 * DAY, null, null],
    ['b1', 'pK', 'missing', -1 * DAY, null, -12 * HOUR],
  ];
  for (const [d, p, state, detected, installed, due] of pairs) {
    await store.pool.query(
      `insert into device_patches (device_id, patch_id, state, rollout_id, detected_at, state_changed_at, installed_at, due_at, last_error, risk_tier)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        d,
        p,
        state,
        d.startsWith('d') ? 'r1' : null,
        at(detected),
        at(state === 'failed' ? -DAY : (installed ?? detected)),
        installed === null ? null : at(installed),
        due === null ? null : at(due),
        state === 'failed' ? 'exit code 100' : null,
        d === 'd1' ? { pK: 'forensic', pC: 'act', pL: 'upgrade' }[p] : null,
      ],
    );
  }
}

/**
 * A Slack notifier that also shares images, as createSlackNotifier would with the
 * `postImage` of bot/slack/upload.ts wired in.
 */
export function slackNotifierWithImages(config: SlackConfig): Notifier {
  const client = slackWebClient(config);
  return {
    ...createSlackNotifier(config, client),
    postImage: (conversation, image, notice, opts) =>
      postSlackImage(client, conversation, image, notice.text, opts),
  };
}

/** A Slack config whose every client posts to `channel` of the fake at `apiUrl`. */
export const slackConfigFor = (apiUrl: string, channel = 'C0001'): SlackConfig => ({
  botToken: 'xoxb-test',
  signingSecret: 'unused',
  appToken: undefined,
  mode: 'http',
  apiUrl,
  channels: { '*': channel },
  allowedChannels: [],
  allowedTeams: ['T0001'],
});
