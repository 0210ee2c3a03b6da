/**
 * views.open, views.update and views.publish as documented on
 * https://api.slack.com/methods/views.open (and .update, .publish). A view that breaks a
 * Block Kit limit is answered `invalid_arguments` with the schema errors in
 * `response_metadata.messages`: the views.* error lists carry no `invalid_blocks`.
 */
import { checkView, problemMessages } from './block-kit.js';
import {
  fail,
  invalidArguments,
  str,
  type ApiResult,
  type Body,
  type CallContext,
  type FakeView,
  type MethodSpec,
} from './state.js';
import { FAKE_WORKSPACE } from './workspace.js';

/** "The expected format for the trigger_id argument is "132456.7890123.abcdef"." */
const TRIGGER_ID = /^\d+\.\d+\.[0-9a-f]+$/;

function checked(body: Body, allowed: readonly string[]): Record<string, unknown> | ApiResult {
  if (body.view === undefined) return invalidArguments('missing required field: view');
  const problems = checkView(body.view, allowed);
  if (problems.length > 0) {
    return fail('invalid_arguments', {
      response_metadata: { messages: problemMessages(problems) },
    });
  }
  return body.view as Record<string, unknown>;
}

const isResult = (value: Record<string, unknown>): value is ApiResult =>
  value.ok === false && typeof value.error === 'string';

/** The view as Slack echoes it back: the app's fields plus ids, state and a fresh hash. */
function materialise(
  ctx: CallContext,
  view: Record<string, unknown>,
  id: string,
  previous?: FakeView,
): FakeView {
  return {
    private_metadata: '',
    callback_id: '',
    external_id: '',
    clear_on_close: false,
    notify_on_close: false,
    close: null,
    submit: null,
    previous_view_id: null,
    state: { values: {} },
    ...view,
    id,
    team_id: FAKE_WORKSPACE.teamId,
    type: String(view.type),
    hash: ctx.state.nextHash(),
    root_view_id: previous?.root_view_id ?? id,
    app_id: FAKE_WORKSPACE.appId,
    app_installed_team_id: FAKE_WORKSPACE.teamId,
    bot_id: FAKE_WORKSPACE.botId,
  };
}

function externalIdTaken(
  ctx: CallContext,
  view: Record<string, unknown>,
  except?: string,
): boolean {
  const externalId = str(view.external_id);
  if (!externalId) return false;
  return [...ctx.state.views.values(), ...ctx.state.homeViews.values()].some(
    (v) => v.external_id === externalId && v.id !== except,
  );
}

const open: MethodSpec = {
  scopes: [],
  handle(body, ctx) {
    const triggerId = str(body.trigger_id) ?? str(body.interactivity_pointer);
    if (!triggerId) return invalidArguments('missing required field: trigger_id');
    if (!TRIGGER_ID.test(triggerId)) return fail('invalid_trigger_id');
    const view = checked(body, ['modal']);
    if (isResult(view)) return view;
    if (externalIdTaken(ctx, view)) return fail('duplicate_external_id');
    const stored = materialise(ctx, view, ctx.state.nextViewId());
    ctx.state.views.set(stored.id, stored);
    return { ok: true, view: stored };
  },
};

const update: MethodSpec = {
  scopes: [],
  handle(body, ctx) {
    const viewId = str(body.view_id);
    const externalId = str(body.external_id);
    if (!viewId && !externalId) {
      return invalidArguments('either view_id or external_id is required');
    }
    const all = [...ctx.state.views.values(), ...ctx.state.homeViews.values()];
    const existing = all.find((v) => (viewId ? v.id === viewId : v.external_id === externalId));
    if (!existing) return fail('not_found');
    const hash = str(body.hash);
    if (hash && hash !== existing.hash) return fail('hash_conflict');
    const view = checked(body, [existing.type]);
    if (isResult(view)) return view;
    if (externalIdTaken(ctx, view, existing.id)) return fail('duplicate_external_id');
    const stored = materialise(ctx, view, existing.id, existing);
    if (existing.type === 'home') {
      for (const [user, home] of ctx.state.homeViews) {
        if (home.id === existing.id) ctx.state.homeViews.set(user, stored);
      }
    } else {
      ctx.state.views.set(stored.id, stored);
    }
    return { ok: true, view: stored };
  },
};

const publish: MethodSpec = {
  scopes: [],
  handle(body, ctx) {
    const userId = str(body.user_id);
    if (!userId) return invalidArguments('missing required field: user_id');
    const existing = ctx.state.homeViews.get(userId);
    const hash = str(body.hash);
    if (hash && existing && hash !== existing.hash) return fail('hash_conflict');
    const view = checked(body, ['home']);
    if (isResult(view)) return view;
    if (externalIdTaken(ctx, view, existing?.id)) return fail('duplicate_external_id');
    const stored = materialise(ctx, view, existing?.id ?? ctx.state.nextViewId(), existing);
    ctx.state.homeViews.set(userId, stored);
    return { ok: true, view: stored };
  },
};

export const VIEW_METHODS: Readonly<Record<string, MethodSpec>> = {
  'views.open': open,
  'views.update': update,
  'views.publish': publish,
};
