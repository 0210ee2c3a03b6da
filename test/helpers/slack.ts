import { CardPublisher } from '../../bot/cards/publisher.js';
import { CommandRunner } from '../../bot/commands/runner.js';
import { startBotServer, type BotServer } from '../../bot/server.js';
import { createSlackFrontDoor } from '../../bot/slack/app.js';
import { createSlackNotifier, slackWebClient } from '../../bot/slack/notifier.js';
import type { SlackConfig } from '../../cli/config-chat.js';
import type { PolicyDocument } from '../../domain/policy/index.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  blockActions,
  slashCommand,
  viewBlockActions,
  type SlackPayload,
} from '../fakes/slack/payloads.js';
import { postToBolt, type BoltResponse, type PostToBoltOptions } from '../fakes/slack/sign.js';
import type { FakeMessage, FakeView } from '../fakes/slack/state.js';
import { startFakeSlack, type FakeSlack, type FakeSlackOptions } from '../fakes/slack/web-api.js';
import { testDeps, type TestDeps } from './deps.js';
import type { RolloutSuite } from './rollout-suite.js';
import { testLog } from './temporal.js';
import { until } from './until.js';

export const SLACK_SECRET = 'e2e-signing-secret';
/** The channel every client's cards go to ("*" in the front door's config). */
export const SLACK_CHANNEL = 'C0001';

export interface ServedSlack {
  fake: FakeSlack;
  config: SlackConfig;
  /** The Bolt receiver's URL, …/slack/events. */
  events: string;
  /** The front door's own publisher (it re-renders cards after a click). */
  publisher: CardPublisher;
  /**
   * The messages (ts) the front door's publisher updated, one entry per chat.update it made:
   * the fake sees the worker's updates of the same card too and cannot tell them apart.
   */
  frontDoorUpdates: string[];
  /** Sends a payload to the receiver signed with the app's secret, as Slack does. */
  send(payload: SlackPayload, opts?: PostToBoltOptions): Promise<BoltResponse>;
  /** Activity deps whose notifiers include Slack, as `patchops worker` builds them. */
  workerDeps(opts: Parameters<typeof testDeps>[1]): TestDeps;
  close(): Promise<void>;
}

/**
 * A fake Slack Web API and the real Slack front door (Bolt HTTP receiver behind
 * bot/server.ts) for one suite; every client's cards go to SLACK_CHANNEL.
 */
export async function serveSlack(
  s: RolloutSuite,
  o: {
    policies: PolicyDocument[];
    fake?: FakeSlackOptions;
    /** Spacing of chat.update calls per notifier (production: UPDATE_GAP_MS). */
    updateGapMs?: number;
  },
): Promise<ServedSlack> {
  const fake = await startFakeSlack(o.fake);
  const config: SlackConfig = {
    botToken: 'xoxb-test',
    signingSecret: SLACK_SECRET,
    appToken: undefined,
    mode: 'http',
    apiUrl: fake.url,
    channels: { '*': SLACK_CHANNEL },
    allowedChannels: [],
    allowedTeams: ['T0001'],
  };
  // Each process (front door, worker) posts through a notifier of its own.
  const notifier = () =>
    createSlackNotifier(
      config,
      slackWebClient(config),
      o.updateGapMs !== undefined ? { updateGapMs: o.updateGapMs } : {},
    );
  const frontDoorUpdates: string[] = [];
  const frontDoorNotifier = notifier();
  const publisher = new CardPublisher({
    store: s.db.store,
    notifiers: [
      {
        ...frontDoorNotifier,
        update: async (message, notice) => {
          frontDoorUpdates.push(message.messageRef);
          await frontDoorNotifier.update(message, notice);
        },
      },
    ],
    log: testLog,
    updateIntervalMs: 100,
  });
  const runner = new CommandRunner({
    temporal: s.t.client,
    taskQueue: s.t.taskQueue,
    store: s.db.store,
    policies: o.policies,
    log: testLog,
  });
  const front = createSlackFrontDoor({
    config,
    runner,
    publisher,
    store: s.db.store,
    policies: o.policies,
    log: testLog,
  });
  await front.start();
  const server: BotServer = await startBotServer({ slack: front.handler }, '127.0.0.1', 0, (err) =>
    testLog.error({ err }),
  );
  const events = `${server.url}/slack/events`;
  return {
    fake,
    config,
    events,
    publisher,
    frontDoorUpdates,
    send: (payload, opts) => postToBolt(events, SLACK_SECRET, payload, opts),
    workerDeps(opts) {
      const deps = testDeps(s.db.store, opts);
      deps.notifiers.push(notifier());
      deps.timing = { ...deps.timing, cardUpdateMs: 100 };
      return deps;
    },
    close: async () => {
      await server.close();
      await front.stop();
      await publisher.flush();
      await fake.close();
    },
  };
}

/** The rollout's main card: the top-level message in SLACK_CHANNEL whose blocks name it. */
export const mainCard = (fake: FakeSlack, rolloutId: string): FakeMessage | undefined =>
  (fake.messages.get(SLACK_CHANNEL) ?? []).find(
    (m) => !m.thread_ts && JSON.stringify(m.blocks ?? []).includes(rolloutId),
  );

/** A message of SLACK_CHANNEL by its ts, as it stands now. */
export const messageAt = (fake: FakeSlack, ts: string): FakeMessage | undefined =>
  (fake.messages.get(SLACK_CHANNEL) ?? []).find((m) => m.ts === ts);

interface ActionsBlock {
  type: 'actions';
  block_id?: string;
  elements: CardElement[];
}

/** A button or select of a card, as the fake Web API received it. */
export interface CardElement {
  type: string;
  action_id: string;
  value?: string;
  text?: { text: string };
  placeholder?: { text: string };
  options?: Array<{ text: { type: string; text: string }; value: string }>;
}

/** The element with action_id `patchops.<action>` on a message, with its block id. */
export function elementOf(
  m: { blocks?: unknown[] } | undefined,
  action: string,
): { element: CardElement; blockId: string | undefined } | undefined {
  for (const b of (m?.blocks ?? []) as ActionsBlock[]) {
    if (b.type !== 'actions') continue;
    const element = b.elements.find((e) => e.action_id === `patchops.${action}`);
    if (element) return { element, blockId: b.block_id };
  }
  return undefined;
}

/** The `patchops.*` action ids a message carries now. */
export const actionIdsOf = (m: FakeMessage | undefined): string[] =>
  ((m?.blocks ?? []) as ActionsBlock[])
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements.map((e) => e.action_id));

/** Everything a block_actions payload needs about the clicked message. */
function onMessage(m: FakeMessage) {
  return {
    channel: m.channel,
    messageTs: m.ts,
    message: {
      text: m.text,
      blocks: m.blocks,
      ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}),
    },
  };
}

/**
 * `user` clicks the `patchops.<action>` button of message `m`: a block_actions payload whose
 * action_id, block_id, label and value are the ones on the posted card.
 */
export function clickOn(m: FakeMessage, action: string, user: string): SlackPayload {
  const found = elementOf(m, action);
  if (!found || found.element.type !== 'button')
    throw new Error(`message ${m.ts} has no ${action} button: ${JSON.stringify(m.blocks)}`);
  const { element, blockId } = found;
  return blockActions({
    user,
    ...onMessage(m),
    actionId: element.action_id,
    ...(element.value !== undefined ? { value: element.value } : {}),
    ...(blockId ? { blockId } : {}),
    ...(element.text ? { buttonText: element.text.text } : {}),
  });
}

/**
 * `user` picks the option labelled `label` in the `patchops.<action>` static_select of `m`.
 * Slack's block_actions for a select carries `selected_option` (and the same in
 * `state.values`) instead of a button's `value`; see
 * https://docs.slack.dev/reference/interaction-payloads/block_actions-payload and
 * https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element.
 */
export function selectOn(
  m: FakeMessage,
  action: string,
  label: string,
  user: string,
): SlackPayload {
  const found = elementOf(m, action);
  const option = found?.element.options?.find((o) => o.text.text === label);
  if (!found || found.element.type !== 'static_select' || !option)
    throw new Error(`message ${m.ts} has no ${action} select with "${label}"`);
  const { element, blockId } = found;
  const clicked = blockActions({
    user,
    ...onMessage(m),
    actionId: element.action_id,
    ...(blockId ? { blockId } : {}),
  });
  const payload = JSON.parse(new URLSearchParams(clicked.body).get('payload')!) as {
    actions: Array<Record<string, unknown>>;
    state: { values: Record<string, Record<string, unknown>> };
  };
  const button = payload.actions[0]!;
  const selectedOption = { text: { ...option.text, emoji: true }, value: option.value };
  payload.actions[0] = {
    type: 'static_select',
    action_id: button.action_id,
    block_id: button.block_id,
    selected_option: selectedOption,
    ...(element.placeholder
      ? { placeholder: { type: 'plain_text', text: element.placeholder.text, emoji: true } }
      : {}),
    action_ts: button.action_ts,
  };
  payload.state.values = {
    [String(button.block_id)]: {
      [element.action_id]: { type: 'static_select', selected_option: selectedOption },
    },
  };
  return { ...clicked, body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString() };
}

/**
 * `user` clicks the `patchops.<action>` button (e.g. "details.next") of an open modal `view`,
 * as the fake Web API holds it.
 */
export function clickInView(view: FakeView, action: string, user: string): SlackPayload {
  const found = elementOf({ blocks: view.blocks as unknown[] }, action);
  if (!found || found.element.type !== 'button')
    throw new Error(`view ${view.id} has no ${action} button: ${JSON.stringify(view.blocks)}`);
  const { element, blockId } = found;
  return viewBlockActions({
    user,
    view,
    actionId: element.action_id,
    ...(element.value !== undefined ? { value: element.value } : {}),
    ...(blockId ? { blockId } : {}),
    ...(element.text ? { buttonText: element.text.text } : {}),
  });
}

/** A response_url endpoint: Slack's side of Bolt's `respond()`, recording what it got. */
export interface ResponseSink {
  url: string;
  bodies: unknown[];
  server: Server;
}

export async function startResponseSink(): Promise<ResponseSink> {
  const bodies: unknown[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      bodies.push(JSON.parse(raw || '{}'));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/response`,
    bodies,
    server,
  };
}

/** What `respond()` sent back for a slash command. */
export interface CommandReply {
  text: string;
  response_type: string;
  blocks?: unknown[];
}

/**
 * Runs `/patch <text>` as `user` in `channel` through the signed receiver and waits for the
 * reply on the sink. One command at a time per sink: replies are matched by arrival order.
 */
export async function runPatchCommand(
  slack: ServedSlack,
  sink: ResponseSink,
  text: string,
  user: string,
  o: { channel?: string; team?: string } = {},
): Promise<CommandReply> {
  const n = sink.bodies.length;
  const r = await slack.send(
    slashCommand({
      command: '/patch',
      text,
      user,
      channel: o.channel ?? SLACK_CHANNEL,
      responseUrl: sink.url,
      ...(o.team ? { team: o.team } : {}),
    }),
  );
  if (r.status !== 200) throw new Error(`/patch ${text}: HTTP ${r.status} ${r.body}`);
  return (await until(`the reply to "/patch ${text}"`, () => sink.bodies[n])) as CommandReply;
}
