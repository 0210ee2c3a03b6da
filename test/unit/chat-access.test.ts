import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  PRIVATE,
  mayDecide,
  mayRead,
  policyUsergroups,
  readableClients,
  slackPlace,
  teamsPlace,
  type ChatUser,
} from '../../bot/commands/access.js';
import {
  CHAT_LIMITS,
  overLimit,
  parseCommand,
  payloadOverLimit,
} from '../../bot/commands/parse.js';
import { invokeProblem } from '../../bot/teams/bot.js';
import { CARD_CONVERSATION_TYPES } from '../../bot/teams/notifier.js';
import { policy } from '../helpers/deps.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const OTHER_TENANT = '0e1d2c3b-4a59-4687-9a6b-5c4d3e2f1a0b';
const ADA = 'c33aafc4-646d-4543-9d4c-abd28e4d2110';
const BEA = 'b0b0b0b0-646d-4543-9d4c-abd28e4d2110';

const policies = [
  policy(`
scope: { level: global }
viewers: { slack: { teamId: T0MSP, users: [U0NOC] } }
`),
  policy(`
scope: { level: client, id: acme }
approvers:
  slack: { teamId: T0MSP, users: [U0ACME], usergroups: [S0ACME] }
  teams: { tenantId: ${TENANT}, users: [${ADA}] }
viewers: { slack: { teamId: T0MSP, users: [U0AVIEW] } }
`),
  policy(`
scope: { level: client, id: globex }
approvers:
  slack: { teamId: T0MSP, users: [U0GLOBEX] }
  teams: { tenantId: ${OTHER_TENANT}, users: [${BEA}] }
viewers: { teams: { tenantId: ${TENANT}, users: [${BEA}] } }
`),
];
const CLIENTS = ['acme', 'globex', 'initech'];
const slack = (id: string, team = 'T0MSP', groups?: string[]): ChatUser => ({
  platform: 'slack',
  id,
  tenant: team,
  ...(groups ? { groups } : {}),
});
const teams = (id: string, tenant = TENANT): ChatUser => ({ platform: 'teams', id, tenant });

describe('who may read which client', () => {
  it('approvers read their own client only, in a DM', () => {
    assert.deepEqual(readableClients(policies, CLIENTS, slack('U0ACME'), PRIVATE), ['acme']);
    assert.deepEqual(readableClients(policies, CLIENTS, slack('U0GLOBEX'), PRIVATE), ['globex']);
    assert.deepEqual(
      readableClients(policies, CLIENTS, slack('U0X', 'T0MSP', ['S0ACME']), PRIVATE),
      ['acme'],
    );
  });

  it("a client's viewers read that client; the global policy's viewers read every client", () => {
    assert.deepEqual(readableClients(policies, CLIENTS, slack('U0AVIEW'), PRIVATE), ['acme']);
    assert.deepEqual(readableClients(policies, CLIENTS, slack('U0NOC'), PRIVATE), CLIENTS);
    assert.deepEqual(readableClients(policies, CLIENTS, teams(BEA), PRIVATE), ['globex']);
    assert.equal(mayDecide(policies, 'globex', teams(BEA)), false, 'a viewer decides nothing');
  });

  it('the same ids from another workspace or tenant read nothing', () => {
    for (const u of [slack('U0ACME', 'T0EVIL'), slack('U0NOC', 'T0EVIL'), teams(ADA, OTHER_TENANT)])
      assert.deepEqual(readableClients(policies, CLIENTS, u, PRIVATE), [], JSON.stringify(u));
    assert.deepEqual(readableClients(policies, CLIENTS, slack('U0STRANGER'), PRIVATE), []);
  });

  it("anyone in a client's Slack card channel reads that client there, and only there", () => {
    const channels = { acme: 'C0ACME', globex: 'C0GLOBEX', '*': 'C0ALL' };
    const stranger = slack('U0STRANGER');
    const at = (ch: string | undefined) =>
      readableClients(policies, CLIENTS, stranger, slackPlace(channels, ch));
    assert.deepEqual(at('C0ACME'), ['acme']);
    assert.deepEqual(at('C0GLOBEX'), ['globex']);
    assert.deepEqual(at('C0ALL'), ['initech'], 'the "*" channel gets clients without their own');
    assert.deepEqual(at('C0OTHER'), []);
    assert.deepEqual(at('D0DIRECT'), [], 'a DM is not a card channel');
    assert.deepEqual(at(undefined), []);
    assert.equal(mayRead(policies, 'acme', stranger, slackPlace(channels, 'C0GLOBEX')), false);
  });

  it("Teams: channels and group chats of the client's approver tenant read it; personal chats do not", () => {
    const stranger = teams('ffffffff-646d-4543-9d4c-abd28e4d2110');
    const place = (conversationType: string, tenantId: string) =>
      teamsPlace(policies, { conversationType, tenantId }, CARD_CONVERSATION_TYPES);
    assert.deepEqual(readableClients(policies, CLIENTS, stranger, place('channel', TENANT)), [
      'acme',
    ]);
    assert.deepEqual(
      readableClients(policies, CLIENTS, stranger, place('groupChat', OTHER_TENANT)),
      ['globex'],
    );
    assert.deepEqual(readableClients(policies, CLIENTS, stranger, place('personal', TENANT)), []);
  });

  it('the front door resolves the user groups of approvers and viewers', () => {
    const withGroups = [
      ...policies,
      policy(`
scope: { level: client, id: initech }
viewers: { slack: { teamId: T0MSP, usergroups: [S0VIEW] } }
`),
    ];
    assert.deepEqual(policyUsergroups(withGroups).sort(), ['S0ACME', 'S0VIEW']);
  });
});

describe('chat input limits', () => {
  it('a too-long id, reason or command names the field and the limit', () => {
    const long = (n: number) => 'x'.repeat(n);
    const cases: Array<[string, RegExp]> = [
      [
        `status ${long(CHAT_LIMITS.rolloutId + 1)}`,
        /^rolloutId is too long: at most 200 characters/,
      ],
      [`report ${long(CHAT_LIMITS.clientId + 1)}`, /^clientId is too long: at most 100 characters/],
      [`scan ${long(101)}`, /^clientId is too long: at most 100/],
      [`approve r1 ${long(CHAT_LIMITS.reason + 1)}`, /^reason is too long: at most 500/],
      [`reject r1 ${long(501)}`, /^reason is too long: at most 500/],
      [`defer r1 3d ${long(501)}`, /^reason is too long: at most 500/],
      [`cancel ${long(201)}`, /^rolloutId is too long/],
      [long(CHAT_LIMITS.text + 1), /^the command is too long: at most 2000 characters/],
    ];
    for (const [text, expected] of cases) {
      const r = parseCommand(text);
      assert.equal(r.ok, false, text.slice(0, 40));
      if (!r.ok) assert.match(r.error, expected);
    }
    assert.equal(parseCommand(`approve r1 ${long(400)}`).ok, true, 'under the limit is fine');
    assert.equal(parseCommand(`status ${long(200)}`).ok, true);
  });

  it('button and card payloads: checked before they are decoded', () => {
    assert.match(
      payloadOverLimit(JSON.stringify({ action: 'approve', rolloutId: 'r'.repeat(201) })) ?? '',
      /^rolloutId is too long: at most 200/,
    );
    assert.match(
      payloadOverLimit({ action: 'promote', rolloutId: 'r1', ring: 'r'.repeat(65) }) ?? '',
      /^ring is too long: at most 64/,
    );
    assert.match(
      payloadOverLimit({ action: 'reject', rolloutId: 'r1', reason: 'y'.repeat(501) }) ?? '',
      /^reason is too long/,
    );
    assert.equal(payloadOverLimit({ action: 'approve', rolloutId: 'r1', round: 2 }), undefined);
    assert.equal(payloadOverLimit('not json'), undefined);
    assert.match(
      overLimit({ conversationId: 'c'.repeat(301) }) ?? '',
      /^conversationId is too long/,
    );
  });

  it('Teams invokes: no name, no action or no verb is a short 400 reason, not a 501', () => {
    const base = { type: 'invoke', id: 'f:1', conversation: { id: '19:x' } } as never;
    assert.match(invokeProblem({ ...(base as object) }) ?? '', /names no action/);
    const card = (value: unknown) =>
      invokeProblem({ ...(base as object), name: 'adaptiveCard/action', value });
    assert.match(card(null) ?? '', /carries no action/);
    assert.match(card({ action: null }) ?? '', /carries no action/);
    assert.match(card({ action: { type: 'Action.Execute' } }) ?? '', /names no verb/);
    assert.equal(
      card({ action: { type: 'Action.Execute', verb: 'approve', data: {} } }),
      undefined,
    );
    assert.equal(invokeProblem({ ...(base as object), name: 'signin/verifyState' }), undefined);
  });
});
