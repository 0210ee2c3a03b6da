/**
 * Builders for the requests Slack sends an app, shaped after Slack's references:
 * - block_actions: https://docs.slack.dev/reference/interaction-payloads/block_actions-payload
 * - view_submission: https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload
 * - slash commands: https://api.slack.com/interactivity/slash-commands#app_command_handling
 * - Events API envelope + app_home_opened: https://api.slack.com/events/app_home_opened
 * - url_verification: https://api.slack.com/events/url_verification
 * Interactions arrive form-encoded as `payload=<JSON>`, slash commands as plain form fields
 * and events as JSON. Feed the result to postToBolt().
 */
import { randomBytes } from 'node:crypto';
import { FAKE_WORKSPACE } from './workspace.js';

export interface SlackPayload {
  /** The raw request body, exactly as signed and sent. */
  body: string;
  contentType: 'application/x-www-form-urlencoded' | 'application/json';
}

let sequence = 0;
const next = (): number => (sequence += 1);
// Differs per process: ids derived from trigger ids (a rollout started from chat) must not
// meet a workflow an earlier test run left on the shared Temporal server.
const RUN = randomBytes(3).toString('hex');

/** Slack's trigger_id format: "132456.7890123.abcdef". */
export const fakeTriggerId = (): string =>
  `${1_700_000_000 + next()}.${FAKE_WORKSPACE.teamId.slice(1)}${next()}.${RUN}${next().toString(16).padStart(8, 'a')}`;

const responseUrlFor = (kind: 'actions' | 'commands'): string =>
  `https://hooks.slack.com/${kind}/${FAKE_WORKSPACE.teamId}/${1000 + next()}/fakeresponsetoken`;

const actionTs = (): string =>
  `${Math.floor(Date.now() / 1000)}.${String(next()).padStart(6, '0')}`;

function interaction(payload: Record<string, unknown>): SlackPayload {
  return {
    body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
    contentType: 'application/x-www-form-urlencoded',
  };
}

const userObject = (user: string, team: string, name?: string) => ({
  id: user,
  username: name ?? user.toLowerCase(),
  name: name ?? user.toLowerCase(),
  team_id: team,
});

export interface BlockActionsInput {
  user: string;
  team?: string;
  channel: string;
  messageTs: string;
  actionId: string;
  value?: string;
  triggerId?: string;
  blockId?: string;
  /** The button's label as Slack echoes it in `actions[0].text`. */
  buttonText?: string;
  responseUrl?: string;
  /** The message the button sits on (e.g. from the fake Web API's `messages`). */
  message?: Record<string, unknown>;
  userName?: string;
  channelName?: string;
}

/** A button click on a message. */
export function blockActions(input: BlockActionsInput): SlackPayload {
  const team = input.team ?? FAKE_WORKSPACE.teamId;
  return interaction({
    type: 'block_actions',
    user: userObject(input.user, team, input.userName),
    api_app_id: FAKE_WORKSPACE.appId,
    token: FAKE_WORKSPACE.verificationToken,
    container: {
      type: 'message',
      message_ts: input.messageTs,
      channel_id: input.channel,
      is_ephemeral: false,
    },
    trigger_id: input.triggerId ?? fakeTriggerId(),
    team: { id: team, domain: FAKE_WORKSPACE.teamDomain },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: input.channel, name: input.channelName ?? 'patching' },
    message: {
      type: 'message',
      user: FAKE_WORKSPACE.botUserId,
      bot_id: FAKE_WORKSPACE.botId,
      app_id: FAKE_WORKSPACE.appId,
      team,
      text: '',
      ...input.message,
      ts: input.messageTs,
    },
    state: { values: {} },
    response_url: input.responseUrl ?? responseUrlFor('actions'),
    actions: [
      {
        type: 'button',
        action_id: input.actionId,
        block_id: input.blockId ?? `b${next()}`,
        text: { type: 'plain_text', text: input.buttonText ?? input.actionId, emoji: true },
        ...(input.value !== undefined ? { value: input.value } : {}),
        action_ts: actionTs(),
      },
    ],
  });
}

export interface ViewBlockActionsInput {
  user: string;
  team?: string;
  /** The modal as Slack holds it (e.g. the fake Web API's `views`): id, blocks, hash … */
  view: Record<string, unknown> & { id: string };
  actionId: string;
  value?: string;
  blockId?: string;
  buttonText?: string;
  triggerId?: string;
}

/**
 * A button click inside a modal: `container.type` is "view", the payload carries the whole
 * `view` and neither `channel` nor `message` (nor a response_url).
 */
export function viewBlockActions(input: ViewBlockActionsInput): SlackPayload {
  const team = input.team ?? FAKE_WORKSPACE.teamId;
  return interaction({
    type: 'block_actions',
    user: userObject(input.user, team),
    api_app_id: FAKE_WORKSPACE.appId,
    token: FAKE_WORKSPACE.verificationToken,
    container: { type: 'view', view_id: input.view.id },
    trigger_id: input.triggerId ?? fakeTriggerId(),
    team: { id: team, domain: FAKE_WORKSPACE.teamDomain },
    enterprise: null,
    is_enterprise_install: false,
    view: input.view,
    actions: [
      {
        type: 'button',
        action_id: input.actionId,
        block_id: input.blockId ?? `b${next()}`,
        text: { type: 'plain_text', text: input.buttonText ?? input.actionId, emoji: true },
        ...(input.value !== undefined ? { value: input.value } : {}),
        action_ts: actionTs(),
      },
    ],
  });
}

/** view.state.values: block_id → action_id → element state ({ type, value, … }). */
export type ViewStateValues = Record<string, Record<string, Record<string, unknown>>>;

export interface ViewSubmissionInput {
  user: string;
  team?: string;
  callbackId: string;
  privateMetadata?: string;
  values: ViewStateValues;
  viewId?: string;
  triggerId?: string;
  title?: string;
  blocks?: unknown[];
  userName?: string;
}

/** A modal's Submit button. */
export function viewSubmission(input: ViewSubmissionInput): SlackPayload {
  const team = input.team ?? FAKE_WORKSPACE.teamId;
  const viewId = input.viewId ?? `V${String(next()).padStart(8, '0')}`;
  return interaction({
    type: 'view_submission',
    team: { id: team, domain: FAKE_WORKSPACE.teamDomain },
    user: userObject(input.user, team, input.userName),
    api_app_id: FAKE_WORKSPACE.appId,
    token: FAKE_WORKSPACE.verificationToken,
    trigger_id: input.triggerId ?? fakeTriggerId(),
    view: {
      id: viewId,
      team_id: team,
      type: 'modal',
      blocks: input.blocks ?? [],
      private_metadata: input.privateMetadata ?? '',
      callback_id: input.callbackId,
      state: { values: input.values },
      hash: `${Math.floor(Date.now() / 1000)}.${next()}`,
      title: { type: 'plain_text', text: input.title ?? 'patchops', emoji: true },
      clear_on_close: false,
      notify_on_close: false,
      close: { type: 'plain_text', text: 'Cancel', emoji: true },
      submit: { type: 'plain_text', text: 'Submit', emoji: true },
      previous_view_id: null,
      root_view_id: viewId,
      app_id: FAKE_WORKSPACE.appId,
      external_id: '',
      app_installed_team_id: team,
      bot_id: FAKE_WORKSPACE.botId,
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  });
}

export interface SlashCommandInput {
  command: string;
  text: string;
  user: string;
  team?: string;
  channel: string;
  responseUrl?: string;
  triggerId?: string;
  userName?: string;
  channelName?: string;
}

/** A slash command such as `/patch status acme`, as Slack's form-encoded POST. */
export function slashCommand(input: SlashCommandInput): SlackPayload {
  const fields: Record<string, string> = {
    token: FAKE_WORKSPACE.verificationToken,
    team_id: input.team ?? FAKE_WORKSPACE.teamId,
    team_domain: FAKE_WORKSPACE.teamDomain,
    channel_id: input.channel,
    channel_name: input.channelName ?? 'patching',
    user_id: input.user,
    user_name: input.userName ?? input.user.toLowerCase(),
    command: input.command,
    text: input.text,
    api_app_id: FAKE_WORKSPACE.appId,
    is_enterprise_install: 'false',
    response_url: input.responseUrl ?? responseUrlFor('commands'),
    trigger_id: input.triggerId ?? fakeTriggerId(),
  };
  return {
    body: new URLSearchParams(fields).toString(),
    contentType: 'application/x-www-form-urlencoded',
  };
}

export interface AppHomeOpenedInput {
  user: string;
  team?: string;
  tab?: 'home' | 'messages';
  /** The app's DM channel with the user. */
  channel?: string;
  /** The Home tab as last published, when there is one. */
  view?: Record<string, unknown>;
  eventId?: string;
}

/** The Events API envelope around an app_home_opened event. */
export function appHomeOpened(input: AppHomeOpenedInput): SlackPayload {
  const team = input.team ?? FAKE_WORKSPACE.teamId;
  const now = Math.floor(Date.now() / 1000);
  const envelope = {
    token: FAKE_WORKSPACE.verificationToken,
    team_id: team,
    context_team_id: team,
    context_enterprise_id: null,
    api_app_id: FAKE_WORKSPACE.appId,
    event: {
      type: 'app_home_opened',
      user: input.user,
      channel: input.channel ?? `D${input.user.slice(1)}`,
      tab: input.tab ?? 'home',
      event_ts: `${now}.${String(next()).padStart(6, '0')}`,
      ...(input.view ? { view: input.view } : {}),
    },
    type: 'event_callback',
    event_id: input.eventId ?? `Ev${String(next()).padStart(9, '0')}`,
    event_time: now,
    authorizations: [
      {
        enterprise_id: null,
        team_id: team,
        user_id: FAKE_WORKSPACE.botUserId,
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
    is_ext_shared_channel: false,
  };
  return { body: JSON.stringify(envelope), contentType: 'application/json' };
}

/** The handshake Slack sends when an Events API request URL is saved. */
export function urlVerification(challenge: string): SlackPayload {
  return {
    body: JSON.stringify({
      token: FAKE_WORKSPACE.verificationToken,
      challenge,
      type: 'url_verification',
    }),
    contentType: 'application/json',
  };
}
