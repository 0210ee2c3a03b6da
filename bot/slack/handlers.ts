import type bolt from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import { buildPatchPage } from '../cards/build.js';
import { detailsModal, rejectModal, renderBlocks } from '../cards/block-kit.js';
import { decodeAction, type ActionPayload } from '../cards/model.js';
import { PRIVATE, slackPlace, type ChatPlace, type ChatUser } from '../commands/access.js';
import {
  CHAT_LIMITS,
  overLimit,
  parseCommand,
  payloadOverLimit,
  usage,
} from '../commands/parse.js';
import type { Reply } from '../commands/runner.js';
import { allowed, type SlackDeps } from './app.js';
import { homeView } from './home.js';
import { RepeatFilter } from '../commands/repeats.js';
import { withRateLimit } from './retry.js';

type App = InstanceType<typeof bolt.App>;

interface HandlerDeps extends SlackDeps {
  web: WebClient;
  userOf(id: string, team: string | undefined): Promise<ChatUser>;
}

const NOT_HERE =
  'patchops is not enabled in this channel or workspace. Ask an admin to add it to PATCHOPS_SLACK_ALLOWED_CHANNELS.';
/** The same words whether the rollout does not exist or is not this person's to see. */
const NOT_VISIBLE = 'No rollout by that id that you can see here.';

/** The details modal remembers the channel it was opened from: its pages are read from there. */
const detailsMeta = z.object({ channel: z.string().max(CHAT_LIMITS.conversationId) });
function detailsChannel(raw: unknown): string | undefined {
  try {
    return detailsMeta.parse(JSON.parse(String(raw))).channel || undefined;
  } catch {
    return undefined; // not ours, or none: the person's own rights only
  }
}

/** Every Slack listener. Each acks first (Slack's 3-second limit), then does the work. */
export function registerSlackHandlers(app: App, d: HandlerDeps): void {
  const { runner, log } = d;
  const ephemeral = async (channel: string | undefined, user: string, text: string) => {
    if (!channel) return;
    await withRateLimit(() => d.web.chat.postEphemeral({ channel, user, text })).catch(
      (err: unknown) => log.warn({ err }, 'ephemeral reply failed'),
    );
  };
  /**
   * After a success: the first one of a person's action re-renders the rollout's cards at once;
   * its repeats (redeliveries, double clicks) changed nothing and join the coalesced refresh,
   * so 20 clicks on one button cost a couple of chat.update calls, not 20 (Tier 3).
   */
  const repeats = new RepeatFilter();
  const refreshAfter = async (
    person: string,
    rolloutId: string,
    action: ReadonlyArray<string | number | undefined>,
  ) => {
    if (repeats.first(person, rolloutId, action)) await d.publisher.refreshNow(rolloutId);
    else d.publisher.refresh(rolloutId);
  };

  app.command('/patch', async ({ command, ack, respond }) => {
    await ack();
    if (!allowed(d.config, command.team_id, command.channel_id)) {
      await respond({ response_type: 'ephemeral', text: NOT_HERE });
      return;
    }
    const long = overLimit({
      conversationId: command.channel_id,
      activityId: command.trigger_id,
    });
    if (long) {
      await respond({ response_type: 'ephemeral', text: long });
      return;
    }
    const user = await d.userOf(command.user_id, command.team_id);
    const parsed = parseCommand(command.text);
    let reply: Reply;
    if (!parsed.ok) {
      const may = await runner.mayChangeAnything(user);
      reply = { ok: false, text: `${parsed.error}\n\nUsage:\n${usage('/patch ', may)}` };
    } else {
      const key = `slack:cmd:${command.team_id}:${command.trigger_id}`;
      const place = slackPlace(d.config.channels, command.channel_id);
      reply = await runner.run(user, parsed.command, key, '/patch ', place);
      if ('rolloutId' in parsed.command)
        reply = await runner.concealed(user, parsed.command.rolloutId, place, reply);
    }
    await respond({
      response_type: 'ephemeral',
      text: reply.text,
      ...(reply.card ? { blocks: renderBlocks(reply.card) } : {}),
    });
    if (reply.refresh && parsed.ok)
      await refreshAfter(user.id, reply.refresh, ['command', ...Object.values(parsed.command)]);
  });

  app.action(/^patchops\./, async ({ ack, body, action }) => {
    await ack();
    if (body.type !== 'block_actions') return;
    const raw =
      action.type === 'button'
        ? action.value
        : action.type === 'static_select'
          ? action.selected_option.value
          : undefined;
    const payload = decodeAction(raw);
    // The documented block_actions fields we use (Bolt types some of them loosely).
    const b = body as unknown as {
      channel?: { id?: string };
      container?: { channel_id?: string };
      team?: { id?: string } | null;
      user: { id: string };
      trigger_id: string;
      view?: { id?: string; private_metadata?: string };
      message?: { ts?: string };
    };
    const channel = b.channel?.id ?? b.container?.channel_id;
    const actionTs = 'action_ts' in action ? action.action_ts : b.trigger_id;
    // Too long: say which field, before anything is decoded, looked up or changed.
    const long =
      payloadOverLimit(raw) ?? overLimit({ conversationId: channel, activityId: actionTs });
    if (long) {
      if (!allowed(d.config, b.team?.id, channel)) return;
      // A channel id that long is not Slack's: there is nowhere to answer.
      if ((channel?.length ?? 0) <= CHAT_LIMITS.conversationId)
        await ephemeral(channel, b.user.id, long);
      return;
    }
    if (!payload) return;
    if (!allowed(d.config, b.team?.id, channel)) {
      await ephemeral(channel, b.user.id, NOT_HERE);
      return;
    }
    // One key per click; a redelivery of the same click carries the same action_ts.
    const key = `slack:${b.team?.id}:${b.user.id}:${actionTs}`;
    const user = await d.userOf(b.user.id, b.team?.id);
    if (payload.action === 'details') {
      // Pages inside the modal come without a channel; the modal carries where it was opened.
      const from = channel ?? (b.view ? detailsChannel(b.view.private_metadata) : undefined);
      const place: ChatPlace = from ? slackPlace(d.config.channels, from) : PRIVATE;
      const facts = await d.store.cards.facts(payload.rolloutId);
      if (!facts || !runner.mayRead(user, facts.clientId, place)) {
        await ephemeral(channel, b.user.id, NOT_VISIBLE);
        return;
      }
      const view = {
        ...detailsModal(await buildPatchPage(d.store, payload.rolloutId, payload.page ?? 0)),
        private_metadata: JSON.stringify({ channel: from ?? '' }),
      };
      if (b.view?.id) await d.web.views.update({ view_id: b.view.id, view });
      else await d.web.views.open({ trigger_id: b.trigger_id, view });
      return;
    }
    if (payload.action === 'reject') {
      await d.web.views.open({
        trigger_id: b.trigger_id,
        view: rejectModal(
          payload.rolloutId,
          payload.round ?? 0,
          channel ?? '',
          b.message?.ts ?? '',
        ),
      });
      return;
    }
    const place = slackPlace(d.config.channels, channel);
    const reply = await runner.concealed(
      user,
      payload.rolloutId,
      place,
      await act(d, user, payload, key),
    );
    if (!reply.ok) await ephemeral(channel, b.user.id, reply.text);
    if (reply.refresh)
      await refreshAfter(user.id, reply.refresh, [
        payload.action,
        payload.round,
        payload.ring,
        payload.days,
      ]);
  });

  app.view('patchops.reject', async ({ ack, body, view }) => {
    const reason = view.state.values.reason?.value?.value?.trim() ?? '';
    if (reason.length < 3) {
      await ack({ response_action: 'errors', errors: { reason: 'Say why, in a few words.' } });
      return;
    }
    if (reason.length > CHAT_LIMITS.reason) {
      await ack({
        response_action: 'errors',
        errors: { reason: `At most ${CHAT_LIMITS.reason} characters, please.` },
      });
      return;
    }
    await ack();
    const meta = rejectMeta(view.private_metadata);
    if (!meta) return;
    // The modal was opened from an allowed place, but the submission is checked on its own.
    if (!allowed(d.config, body.team?.id ?? undefined, meta.channel || undefined)) {
      await ephemeral(meta.channel, body.user.id, NOT_HERE);
      return;
    }
    const user = await d.userOf(body.user.id, body.team?.id ?? undefined);
    const reply = await runner.concealed(
      user,
      meta.rolloutId,
      slackPlace(d.config.channels, meta.channel || undefined),
      await runner.decide(
        user,
        { rolloutId: meta.rolloutId, decision: 'reject', reason, round: meta.round },
        `slack:${body.team?.id}:${body.user.id}:view:${view.id}`,
      ),
    );
    if (!reply.ok) await ephemeral(meta.channel, body.user.id, reply.text);
    if (reply.refresh) await refreshAfter(user.id, reply.refresh, ['reject', meta.round]);
  });

  app.event('app_home_opened', async ({ event, context, body }) => {
    if (event.tab !== 'home') return;
    if (!allowed(d.config, context.teamId, undefined)) return;
    const retryNum = (context as { retryNum?: number }).retryNum ?? 0;
    log.debug(
      { user: event.user, retryNum, eventId: (body as { event_id?: string }).event_id },
      'app home opened',
    );
    const user = await d.userOf(event.user, context.teamId);
    const view = await homeView(d, user);
    await withRateLimit(() => d.web.views.publish({ user_id: event.user, view }));
  });
}

/** A click that became a decision or a control signal. */
async function act(d: HandlerDeps, user: ChatUser, p: ActionPayload, key: string): Promise<Reply> {
  switch (p.action) {
    case 'approve':
      return d.runner.decide(
        user,
        { rolloutId: p.rolloutId, decision: 'approve', round: p.round ?? 0 },
        key,
      );
    case 'defer':
      return d.runner.decide(
        user,
        {
          rolloutId: p.rolloutId,
          decision: 'defer',
          round: p.round ?? 0,
          deferMs: (p.days ?? 1) * 86_400_000,
        },
        key,
      );
    case 'promote':
      return p.ring
        ? d.runner.promote(user, p.rolloutId, p.ring, key)
        : { ok: false, text: 'no ring to promote' };
    case 'pause':
    case 'resume':
    case 'cancel':
      return d.runner.control(user, p.rolloutId, p.action, key);
    default:
      return { ok: false, text: `unsupported action ${p.action}` };
  }
}

/** The reject modal's private_metadata, as `rejectModal` wrote it. */
const rejectMetaSchema = z.object({
  rolloutId: z.string().min(1).max(CHAT_LIMITS.rolloutId),
  round: z.number().int().min(0),
  channel: z.string().max(CHAT_LIMITS.conversationId),
});

function rejectMeta(raw: string): z.output<typeof rejectMetaSchema> | undefined {
  try {
    return rejectMetaSchema.parse(JSON.parse(raw));
  } catch {
    return undefined; // not ours: nothing to decide
  }
}
