import { isFinal } from '../../domain/rollout-state.js';
import {
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowExecutionDescription,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { isAuthorisedApprover, type ApproverIdentity } from '../../domain/approvers.js';
import type { PolicyDocument } from '../../domain/policy/index.js';
import type { ApproverSettings } from '../../domain/rollout-settings.js';
import type { Store } from '../../store/index.js';
import {
  INVALID_INPUT,
  INVALID_STATE,
  MAX_RING_NAME,
  NOT_AUTHORISED,
  approversQuery,
  cancelUpdate,
  decideUpdate,
  pauseUpdate,
  promoteUpdate,
  resumeUpdate,
} from '../../workflows/messages.js';
import { approversFor } from './access.js';

/**
 * How a command ended, for every front door: chat shows the text, the CLI also turns the
 * outcome into its exit code (see EXIT_CODES).
 */
export type Outcome = 'ok' | 'failed' | 'invalid' | 'refused' | 'not_found' | 'conflict';

/** `patchops` exit codes, one per outcome (README: "Exit codes"). */
export const EXIT_CODES: Record<Outcome, number> = {
  ok: 0,
  failed: 1,
  invalid: 2,
  refused: 3,
  not_found: 4,
  conflict: 5,
};

export interface ControlReply {
  ok: boolean;
  outcome: Outcome;
  text: string;
  /** Rollout whose posted cards should be re-rendered now. */
  refresh?: string;
}

/** Who asks: the identity approvers lists name, and for the CLI the OS account behind `--as`. */
export interface Actor {
  who: ApproverIdentity;
  /** The operating-system user that ran `patchops … --as NAME` (recorded beside NAME). */
  osUser?: string;
}

export interface ControlDeps {
  temporal: Client;
  store: Store;
  policies: readonly PolicyDocument[];
  /** Clock for the refusal audit's time bucket. */
  now?: () => number;
}

/** Refusals are audited once per person, target and this interval, not once per click. */
export const REFUSAL_AUDIT_INTERVAL_MS = 10 * 60_000;
const MAX_KEY = 128;

export const actorName = (a: Actor): string => `${a.who.via}:${a.who.id}`;
const reply = (outcome: Outcome, text: string, refresh?: string): ControlReply => ({
  ok: outcome === 'ok',
  outcome,
  text,
  ...(refresh ? { refresh } : {}),
});
const over = (t: Target, what: string): ControlReply =>
  reply('conflict', `rollout ${t.rolloutId} is ${t.status}: there is nothing to ${what}`);

interface Target {
  rolloutId: string;
  clientId: string;
  status: string;
  round: number;
}

/**
 * Approve, reject, defer, promote, pause, resume and cancel, for Slack, Teams and the CLI
 * alike: find the rollout, authorise the person against the rollout's approvers, send a
 * Workflow Update whose id derives from the interaction (a repeat is one action), and audit
 * the request (who, through what, the OS user behind a CLI `--as`). The Update's validator
 * in the workflow is the final word; what it refuses is answered and audited the same way.
 */
export class RolloutControls {
  constructor(private readonly deps: ControlDeps) {}

  async decide(
    a: Actor,
    d: {
      rolloutId: string;
      decision: 'approve' | 'reject' | 'defer';
      reason?: string | undefined;
      deferMs?: number | undefined;
      round?: number | undefined;
    },
  ): Promise<ControlReply> {
    const t = await this.target(d.rolloutId);
    if ('outcome' in t) return t;
    if (isFinal(t.status)) return over(t, d.decision);
    if (!(await this.authorised(a, t)))
      return this.refused(a, `${d.decision} rollouts`, t.clientId, t.rolloutId);
    const round = d.round ?? t.round;
    // This person's decision of this round is already recorded: a repeated click or a
    // retried delivery after the first one finished: the first answer again, and the card
    // is left alone (it already shows the decision).
    const decided = (await this.deps.store.records.approvals(t.rolloutId)).filter(
      (x) => x.decision !== 'promote',
    )[round];
    if (decided?.decision === d.decision && decided.decidedBy === actorName(a))
      return reply('ok', `${t.rolloutId}: ${d.decision} recorded (by ${decided.decidedBy}).`);
    // One id per (round, decision, person): a retried delivery or a double click gets the
    // first outcome back instead of a second decision.
    const updateId = `${a.who.via}:${a.who.tenant ?? ''}:${t.rolloutId}:r${round}:${d.decision}:${a.who.id}`;
    try {
      const r = await this.deps.temporal.workflow
        .getHandle(t.rolloutId)
        .executeUpdate(decideUpdate, {
          updateId,
          args: [
            {
              decision: d.decision,
              approver: a.who,
              ...(d.reason ? { reason: d.reason } : {}),
              ...(d.deferMs ? { deferMs: d.deferMs } : {}),
            },
          ],
        });
      // The workflow records the decision and who; the CLI's request adds the OS user.
      if (a.who.via === 'cli')
        await this.requested(a, d.decision, t, updateId, { reason: d.reason ?? null });
      return reply(
        'ok',
        `${t.rolloutId}: ${r.decision} recorded (by ${r.decidedBy}).`,
        t.rolloutId,
      );
    } catch (err) {
      return this.updateError(err, a, `${d.decision} rollouts`, t);
    }
  }

  /** Starts the next ring of a rollout waiting for a human promotion. */
  async promote(a: Actor, rolloutId: string, ring: string): Promise<ControlReply> {
    if (ring.length === 0 || ring.length > MAX_RING_NAME)
      return reply('invalid', `ring name must be 1 to ${MAX_RING_NAME} characters`);
    const t = await this.target(rolloutId);
    if ('outcome' in t) return t;
    if (isFinal(t.status)) return over(t, 'promote');
    if (!(await this.authorised(a, t)))
      return this.refused(a, 'promote rings', t.clientId, t.rolloutId);
    // One id per ring: a second click (anyone's) gets the first promotion back.
    const updateId = `${a.who.via}:${t.rolloutId}:promote:${ring}`;
    try {
      await this.deps.temporal.workflow
        .getHandle(t.rolloutId)
        .executeUpdate(promoteUpdate, { updateId, args: [{ ring, approver: a.who }] });
      if (a.who.via === 'cli') await this.requested(a, 'promote', t, updateId, { ring });
      return reply('ok', `${t.rolloutId}: ring ${ring} promoted.`, t.rolloutId);
    } catch (err) {
      return this.updateError(err, a, 'promote rings', t);
    }
  }

  /**
   * Pause / resume / cancel. `key` identifies the interaction (a chat delivery, one CLI run or
   * its --request-id): its retries are one action; a new click is a new request.
   */
  async control(
    a: Actor,
    rolloutId: string,
    what: 'pause' | 'resume' | 'cancel',
    key: string,
    reason?: string,
  ): Promise<ControlReply> {
    const t = await this.target(rolloutId);
    if ('outcome' in t) return t;
    // An ended rollout changes for nobody (and its own approvers went with its workflow).
    if (isFinal(t.status)) return over(t, what);
    if (!(await this.authorised(a, t)))
      return this.refused(a, `${what} rollouts`, t.clientId, t.rolloutId);
    const updateId = `${a.who.via}:${a.who.tenant ?? ''}:${t.rolloutId}:${what}:${a.who.id}:${key.slice(-MAX_KEY)}`;
    const update = { pause: pauseUpdate, resume: resumeUpdate, cancel: cancelUpdate }[what];
    try {
      const r = await this.deps.temporal.workflow.getHandle(t.rolloutId).executeUpdate(update, {
        updateId,
        args: [{ approver: a.who, ...(reason ? { reason } : {}) }],
      });
      if (what !== 'cancel') await this.deps.store.cards.setPaused(t.rolloutId, r.paused);
      await this.requested(a, what, t, updateId, { reason: reason ?? null });
      const now =
        what === 'cancel'
          ? 'it is being cancelled'
          : `it is ${r.phase}${r.paused ? ', paused' : ''}`;
      return reply('ok', `${t.rolloutId}: ${what} sent by ${r.by}; ${now}.`, t.rolloutId);
    } catch (err) {
      return this.updateError(err, a, `${what} rollouts`, t);
    }
  }

  /** The rollout, or why there is none to act on. */
  async target(rolloutId: string): Promise<Target | ControlReply> {
    const facts = await this.deps.store.cards.facts(rolloutId);
    if (facts)
      return { rolloutId, clientId: facts.clientId, status: facts.status, round: facts.round };
    // No row yet: the workflow may still be preparing it, or may have failed before it.
    const d = await this.describe(rolloutId);
    if (!d) return reply('not_found', `no rollout ${rolloutId}`);
    if (d.status.name === 'RUNNING')
      return reply('conflict', `rollout ${rolloutId} is still planning: try again in a moment`);
    return reply(
      'conflict',
      `rollout ${rolloutId} is not running (${d.status.name.toLowerCase()})`,
    );
  }

  private async describe(rolloutId: string): Promise<WorkflowExecutionDescription | undefined> {
    try {
      return await this.deps.temporal.workflow.getHandle(rolloutId).describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  /**
   * The rollout's own approvers when its workflow can say (a --policy override may differ
   * from the policy files), else the client's policy files.
   */
  private async approvers(t: Target): Promise<ApproverSettings> {
    if (!isFinal(t.status)) {
      try {
        const own = await this.deps.temporal.workflow.getHandle(t.rolloutId).query(approversQuery);
        if (own) return own;
      } catch {
        // not running, or no worker right now: the policy files decide the pre-check
      }
    }
    return approversFor(this.deps.policies, t.clientId);
  }

  private async authorised(a: Actor, t: Target): Promise<boolean> {
    return isAuthorisedApprover(await this.approvers(t), a.who);
  }

  /** A refusal: answered with the fix, audited once per person, target and interval. */
  async refused(
    a: Actor,
    what: string,
    clientId: string,
    rolloutId?: string,
  ): Promise<ControlReply> {
    const now = this.deps.now?.() ?? Date.now();
    const bucket = Math.floor(now / REFUSAL_AUDIT_INTERVAL_MS);
    const target = rolloutId ?? clientId;
    await this.deps.store.audit.append({
      idempotencyKey: `refused:${actorName(a)}:${a.who.tenant ?? ''}:${target}:${bucket}`,
      actor: actorName(a),
      action: a.who.via === 'cli' ? 'cli.unauthorised' : 'chat.unauthorised',
      subjectType: rolloutId ? 'rollout' : 'client',
      subjectId: target,
      clientId,
      ...(rolloutId ? { rolloutId } : {}),
      data: {
        attempted: what,
        platform: a.who.via,
        tenant: a.who.tenant ?? null,
        ...(a.osUser ? { osUser: a.osUser } : {}),
      },
    });
    return reply(
      'refused',
      `You are not an approver for client ${clientId}, so you cannot ${what}. Ask a listed approver, or an admin to add you under approvers.${a.who.via} in the client's policy.`,
    );
  }

  /** The accepted request on the audit trail, once per update id. */
  private async requested(
    a: Actor,
    what: string,
    t: Target,
    updateId: string,
    data: Record<string, unknown>,
  ): Promise<void> {
    await this.deps.store.audit.append({
      idempotencyKey: `request:${updateId}`,
      actor: actorName(a),
      action: `rollout.${what}.requested`,
      subjectType: 'rollout',
      subjectId: t.rolloutId,
      clientId: t.clientId,
      rolloutId: t.rolloutId,
      data: {
        ...data,
        platform: a.who.via,
        tenant: a.who.tenant ?? null,
        updateId,
        ...(a.who.via === 'cli' ? { as: a.who.id, osUser: a.osUser ?? null } : {}),
      },
    });
  }

  private async updateError(
    err: unknown,
    a: Actor,
    what: string,
    t: Target,
  ): Promise<ControlReply> {
    if (err instanceof WorkflowUpdateFailedError) {
      const cause = err.cause;
      const type = cause instanceof ApplicationFailure ? cause.type : undefined;
      if (type === NOT_AUTHORISED) return this.refused(a, what, t.clientId, t.rolloutId);
      const outcome =
        type === INVALID_INPUT ? 'invalid' : type === INVALID_STATE ? 'conflict' : 'failed';
      return reply(outcome, `${t.rolloutId}: ${cause?.message ?? err.message}`);
    }
    if (err instanceof WorkflowNotFoundError)
      return reply('conflict', `${t.rolloutId} is not running any more`);
    throw err;
  }
}
