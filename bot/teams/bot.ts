import {
  TeamsActivityHandler,
  TurnContext,
  type Activity,
  type AdaptiveCardInvokeResponse,
  type AdaptiveCardInvokeValue,
  type CloudAdapter,
  type InvokeResponse,
} from 'botbuilder';
import type { Logger } from 'pino';
import type { TeamsConfig } from '../../cli/config-chat.js';
import type { PolicyDocument } from '../../domain/policy/index.js';
import type { Store } from '../../store/index.js';
import type { CardPublisher } from '../cards/publisher.js';
import { overLimit, parseCommand } from '../commands/parse.js';
import type { CommandRunner } from '../commands/runner.js';
import type { RouteHandler } from '../server.js';
import {
  TeamsCardActions,
  attachment,
  badRequest,
  messageResponse,
  placeOf,
  userOf,
} from './actions.js';
import { createTeamsAdapter, type TeamsAuthOverrides } from './adapter.js';
import { serveBotRequest } from './http.js';
import type { TeamsUsers } from './users.js';
import {
  CARD_CONVERSATION_TYPES,
  baseConversationId,
  createTeamsNotifier,
  storedReference,
  type TeamsNotifier,
} from './notifier.js';

export interface TeamsDeps {
  config: TeamsConfig;
  runner: CommandRunner;
  /** Must hold a Teams notifier (this front door's or another built the same way) to update Teams cards. */
  publisher: CardPublisher;
  store: Store;
  /** The loaded policies: who approves for which client (card refresh lists, view-only cards). */
  policies: readonly PolicyDocument[];
  log: Logger;
  /** botbuilder authentication settings over the defaults (sovereign clouds; tests' OpenID metadata). */
  authOverrides?: TeamsAuthOverrides;
}

export interface TeamsFrontDoor {
  /** POST /api/messages, for bot/server.ts. */
  handler: RouteHandler;
  notifier: TeamsNotifier;
  adapter: CloudAdapter;
  bot: PatchopsTeamsBot;
  /** Resolves when card updates started after invoke responses are done (tests, shutdown). */
  idle(): Promise<void>;
}

/** The command text of a message: the bot's @mention and any other `<at>…</at>` markup removed. */
export function commandText(a: Partial<Activity>): string {
  const copy = { ...a } as Activity; // removeRecipientMention rewrites activity.text
  const text = (a.recipient ? TurnContext.removeRecipientMention(copy) : a.text) ?? '';
  return text
    .replace(/<at[^>]*>.*?<\/at>/gis, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

const paragraphs = (text: string) => text.replace(/\n/g, '\n\n');

/** Ids of an activity that end up in keys, rows and logs: over the limit, nothing is done. */
const idsOverLimit = (a: Partial<Activity>): string | undefined =>
  overLimit({ conversationId: a.conversation?.id, activityId: a.id });

/**
 * What is wrong with an invoke before botbuilder reads it: without a name it would answer 501
 * (not implemented), and an Adaptive Card action without an action object would throw.
 */
export function invokeProblem(a: Partial<Activity>): string | undefined {
  if (!a.name) return 'This invoke names no action; patchops answers card buttons only.';
  if (a.name !== 'adaptiveCard/action') return undefined;
  const value = a.value as { action?: unknown } | null | undefined;
  const action = value?.action as { verb?: unknown } | null | undefined;
  if (!action || typeof action !== 'object')
    return 'This card action carries no action; press a patchops button on a card.';
  if (typeof action.verb !== 'string' || !action.verb)
    return 'This card action names no verb; press a patchops button on a card.';
  if (action.verb.length > 64) return 'verb is too long: at most 64 characters.';
  return idsOverLimit(a);
}

/**
 * patchops in Teams: remembers where it is installed, answers commands, and turns card clicks
 * into the same runner calls Slack makes. Every Teams-specific line lives in bot/teams.
 */
export class PatchopsTeamsBot extends TeamsActivityHandler {
  constructor(
    private readonly d: Omit<TeamsDeps, 'config' | 'authOverrides'>,
    private readonly actions: TeamsCardActions,
    private readonly users: TeamsUsers,
  ) {
    super();
    this.onMembersAdded(async (ctx, next) => {
      const bot = ctx.activity.recipient?.id;
      if (ctx.activity.membersAdded?.some((m) => m.id === bot)) {
        await this.installed(ctx);
        await this.welcome(ctx);
      }
      await next();
    });
    this.onMembersRemoved(async (ctx, next) => {
      const bot = ctx.activity.recipient?.id;
      if (ctx.activity.membersRemoved?.some((m) => m.id === bot)) await this.removed(ctx);
      await next();
    });
    // Teams sends installationUpdate next to the conversationUpdate; saving twice is an upsert.
    this.onInstallationUpdateAdd(async (ctx, next) => {
      await this.installed(ctx);
      await next();
    });
    this.onInstallationUpdateRemove(async (ctx, next) => {
      await this.removed(ctx);
      await next();
    });
    this.onMessage(async (ctx, next) => {
      await this.message(ctx);
      await next();
    });
  }

  /** Every activity first teaches patchops who is who (sender, members added); then the handlers. */
  override async run(ctx: TurnContext): Promise<void> {
    try {
      await this.users.learn(ctx.activity);
    } catch (err) {
      // Only auto-refresh depends on it; the turn itself must not fail for it.
      this.d.log.warn({ err }, 'teams user not recorded');
    }
    await super.run(ctx);
  }

  private async installed(ctx: TurnContext, quiet = false): Promise<void> {
    const a = ctx.activity;
    const long = idsOverLimit(a);
    if (long) {
      this.d.log.warn({ problem: long }, 'teams conversation not recorded');
      return;
    }
    const tenant = userOf(a).tenant ?? null;
    const team = (a.channelData as { team?: { id?: unknown } } | undefined)?.team?.id;
    await this.d.store.chat.saveConversation({
      platform: 'teams',
      conversationId: baseConversationId(a.conversation.id),
      tenantId: tenant,
      conversationType: a.conversation.conversationType ?? 'personal',
      reference: storedReference(a),
      ...(typeof team === 'string' && team ? { teamId: team } : {}),
      ...(a.from?.aadObjectId ? { installedBy: `teams:${a.from.aadObjectId}` } : {}),
    });
    if (!quiet)
      this.d.log.info(
        { conversation: a.conversation.id, type: a.conversation.conversationType, tenant },
        'teams conversation installed',
      );
  }

  private async removed(ctx: TurnContext): Promise<void> {
    const id = baseConversationId(ctx.activity.conversation.id);
    await this.d.store.chat.removeConversation('teams', id);
    this.d.log.info({ conversation: id }, 'teams conversation removed');
  }

  private async welcome(ctx: TurnContext): Promise<void> {
    const shared = CARD_CONVERSATION_TYPES.has(ctx.activity.conversation.conversationType);
    const help = await this.d.runner.help(
      userOf(ctx.activity),
      shared ? '@patchops ' : '',
      placeOf(this.d.policies, ctx.activity),
    );
    await ctx.sendActivity({
      type: 'message',
      textFormat: 'markdown',
      text: paragraphs(
        `Hi, I am patchops. ${
          shared
            ? 'Approval cards for clients whose Teams approvers are in this tenant appear here.'
            : 'Approval cards go to team channels; here you can run commands.'
        }\n${help.text}`,
      ),
    });
  }

  private async message(ctx: TurnContext): Promise<void> {
    const a = ctx.activity;
    const long = idsOverLimit(a);
    if (long) {
      await ctx.sendActivity(long);
      return;
    }
    const text = commandText(a);
    const place = placeOf(this.d.policies, a);
    if (a.value && typeof a.value === 'object' && !text) {
      await this.actions.submit(ctx, a.value); // Action.Submit fallback of a card button
      return;
    }
    // A conversation the bot joined before this database existed is remembered from here on.
    if (CARD_CONVERSATION_TYPES.has(a.conversation.conversationType))
      await this.installed(ctx, true);
    const parsed = parseCommand(text);
    const prefix = CARD_CONVERSATION_TYPES.has(a.conversation.conversationType) ? '@patchops ' : '';
    if (!parsed.ok) {
      // What went wrong, then what this user may run: no second round trip to `help`.
      const help = await this.d.runner.help(userOf(a), prefix, place);
      await ctx.sendActivity({
        type: 'message',
        textFormat: 'markdown',
        text: paragraphs(`${parsed.error}. You can run:\n${help.text}`),
      });
      return;
    }
    const user = userOf(a);
    let reply = await this.d.runner.run(user, parsed.command, `teams:${a.id}`, prefix, place);
    if ('rolloutId' in parsed.command)
      reply = await this.d.runner.concealed(user, parsed.command.rolloutId, place, reply);
    await ctx.sendActivity({
      type: 'message',
      textFormat: 'markdown',
      text: paragraphs(reply.text),
    });
    if (reply.card) await ctx.sendActivity(attachment(await this.actions.render(ctx, reply.card)));
    if (reply.refresh) this.actions.refreshLater(reply.refresh);
  }

  /** A malformed invoke gets a 400 with a short reason instead of botbuilder's 501 or 500. */
  protected override async onInvokeActivity(ctx: TurnContext): Promise<InvokeResponse> {
    const problem = invokeProblem(ctx.activity);
    if (problem) return { status: 400, body: badRequest(problem) };
    return super.onInvokeActivity(ctx);
  }

  protected override async onAdaptiveCardInvoke(
    ctx: TurnContext,
    value: AdaptiveCardInvokeValue,
  ): Promise<AdaptiveCardInvokeResponse> {
    try {
      return await this.actions.invoke(ctx, value.action.verb, value.action.data);
    } catch (err) {
      // Without an invoke response Teams shows the clicker a bare error; say what happened.
      this.d.log.error({ err, verb: value.action.verb }, 'teams card action failed');
      return messageResponse('patchops could not do that just now; try again in a minute.');
    }
  }
}

/** The Teams front door: CloudAdapter (JWT-validated unless auth is disabled), bot and notifier. */
export function createTeamsFrontDoor(deps: TeamsDeps): TeamsFrontDoor {
  const { adapter, appId } = createTeamsAdapter(deps.config, deps.log, deps.authOverrides);
  const notifier = createTeamsNotifier({ adapter, appId, ...deps });
  const pending = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    pending.add(work);
    const done = () => void pending.delete(work);
    void work.then(done, done);
  };
  const actions = new TeamsCardActions({ ...deps, notifier, track });
  const bot = new PatchopsTeamsBot(deps, actions, notifier.users);
  const handler: RouteHandler = async (req, res) => {
    await serveBotRequest(req, res, (request, response) =>
      adapter.process(request, response, (ctx) => bot.run(ctx)),
    );
  };
  return {
    handler,
    notifier,
    adapter,
    bot,
    idle: async () => {
      while (pending.size) await Promise.allSettled([...pending]);
    },
  };
}
