import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { percent } from '../../cli/format.js';
import type { PolicyDocument } from '../../domain/policy/index.js';
import type { Store } from '../../store/index.js';
import type { clientScan, patchCycle } from '../../workflows/index.js';
import {
  cancelSignal,
  decideUpdate,
  pauseSignal,
  progressQuery,
  promoteUpdate,
  resumeSignal,
  type Progress,
} from '../../workflows/messages.js';
import { buildRolloutCard } from '../cards/build.js';
import type { RolloutCard } from '../cards/model.js';
import { actorOf, clientsFor, identity, mayDecide, type ChatUser } from './access.js';
import { usage, type ChatCommand } from './parse.js';

export interface CommandDeps {
  temporal: Client;
  taskQueue: string;
  store: Store;
  policies: readonly PolicyDocument[];
  log: Logger;
}

/** What a front door shows: text (markdown-ish), optionally a card, and which cards to refresh. */
export interface Reply {
  ok: boolean;
  text: string;
  card?: RolloutCard;
  /** Rollout whose posted cards should be re-rendered now. */
  refresh?: string;
}

/** Identifies one delivery of one interaction (retries share it): audit keys derive from it. */
export type InteractionKey = string;

const fail = (text: string): Reply => ({ ok: false, text });

/** The one command layer behind Slack's /patch, Slack buttons, Teams messages and Teams cards. */
export class CommandRunner {
  constructor(private readonly deps: CommandDeps) {}

  private async clientIds(): Promise<string[]> {
    return this.deps.store.cards.clientIds();
  }

  /** Whether the user approves for at least one client: they see and may run the changing commands. */
  async mayChangeAnything(u: ChatUser): Promise<boolean> {
    return clientsFor(this.deps.policies, await this.clientIds(), u).length > 0;
  }

  async help(u: ChatUser, prefix: string): Promise<Reply> {
    const may = await this.mayChangeAnything(u);
    return {
      ok: true,
      text: `${usage(prefix, may)}${may ? '' : '\n(You are not an approver for any client, so only read-only commands are listed.)'}`,
    };
  }

  async run(u: ChatUser, cmd: ChatCommand, key: InteractionKey, prefix: string): Promise<Reply> {
    switch (cmd.name) {
      case 'help':
        return this.help(u, prefix);
      case 'status':
        return this.status(cmd.target);
      case 'report':
        return this.report(cmd.clientId);
      case 'scan':
      case 'rollout':
        return this.start(u, cmd.name, cmd.clientId, key);
      case 'approve':
      case 'reject':
        return this.decide(
          u,
          { rolloutId: cmd.rolloutId, decision: cmd.name, reason: cmd.reason },
          key,
        );
      case 'defer':
        return this.decide(
          u,
          { rolloutId: cmd.rolloutId, decision: 'defer', deferMs: cmd.deferMs, reason: cmd.reason },
          key,
        );
      case 'pause':
      case 'resume':
      case 'cancel':
        return this.control(u, cmd.rolloutId, cmd.name, key, cmd.reason);
    }
  }

  private async refused(
    u: ChatUser,
    what: string,
    clientId: string,
    key: InteractionKey,
    rolloutId?: string,
  ): Promise<Reply> {
    await this.deps.store.audit.append({
      idempotencyKey: `chat-refused:${key}`,
      actor: actorOf(u),
      action: 'chat.unauthorised',
      subjectType: rolloutId ? 'rollout' : 'client',
      subjectId: rolloutId ?? clientId,
      clientId,
      ...(rolloutId ? { rolloutId } : {}),
      data: { attempted: what, platform: u.platform, tenant: u.tenant ?? null },
    });
    return fail(
      `You are not an approver for client ${clientId}, so you cannot ${what}. Ask a listed approver, or an admin to add you under approvers.${u.platform} in the client's policy.`,
    );
  }

  async status(target?: string): Promise<Reply> {
    const { store } = this.deps;
    if (target && (await store.rollouts.get(target))) {
      const card = await this.card(target);
      return card
        ? { ok: true, text: `${card.headline}: ${card.rolloutId}`, card }
        : fail(`no rollout ${target}`);
    }
    const open = (await store.cards.openRollouts(50)).filter(
      (r) => !target || r.clientId === target,
    );
    if (target && open.length === 0 && !(await this.clientIds()).includes(target))
      return fail(`no client or rollout called "${target}"`);
    if (open.length === 0)
      return { ok: true, text: `No running rollouts${target ? ` for ${target}` : ''}.` };
    return {
      ok: true,
      text: open
        .map((r) => `• ${r.id} (${r.clientId}): ${r.phase}${r.paused ? ', paused' : ''}`)
        .join('\n'),
    };
  }

  async report(clientId?: string): Promise<Reply> {
    const rows = await this.deps.store.compliance.snapshot(clientId);
    if (rows.length === 0)
      return fail(clientId ? `no devices known for client ${clientId}` : 'no devices known yet');
    return {
      ok: true,
      text: rows
        .map(
          (r) =>
            `• ${r.clientId} / ${r.siteId}: ${percent(r.complianceRate)} compliant on ${r.devices} devices, ${percent(r.criticalAddressed)} critical addressed, ${r.failed} failed, ${r.slaBreaches} SLA breaches`,
        )
        .join('\n'),
    };
  }

  private async start(
    u: ChatUser,
    what: 'scan' | 'rollout',
    clientId: string,
    key: InteractionKey,
  ): Promise<Reply> {
    if (!mayDecide(this.deps.policies, clientId, u))
      return this.refused(u, `start a ${what}`, clientId, key);
    // The RMM, not patchops, knows which clients exist: a scan may bring in a client never seen
    // before; a rollout needs devices a scan has stored.
    const known =
      (await this.clientIds()).includes(clientId) ||
      this.deps.policies.some((p) => p.scope.id === clientId);
    if (!known && what === 'rollout')
      return fail(
        `unknown client "${clientId}": no scan has found its devices yet; run \`scan ${clientId}\` first`,
      );
    const { temporal, taskQueue } = this.deps;
    // The workflow id derives from the interaction, so a retried delivery starts nothing new.
    const suffix = key.replace(/[^\w.-]/g, '').slice(-24);
    if (what === 'scan') {
      const id = `scan-${clientId}-${suffix}`;
      await temporal.workflow
        .start<typeof clientScan>('clientScan', { taskQueue, workflowId: id, args: [{ clientId }] })
        .catch(ignoreAlreadyStarted);
      return {
        ok: true,
        text: `Scanning ${clientId} (workflow ${id}); \`status ${clientId}\` shows the result.`,
      };
    }
    const id = `rollout-${clientId}-${suffix}`;
    await temporal.workflow
      .start<typeof patchCycle>('patchCycle', {
        taskQueue,
        workflowId: id,
        args: [{ rolloutId: id, clientId, startedBy: actorOf(u) }],
      })
      .catch(ignoreAlreadyStarted);
    return { ok: true, text: `Started rollout ${id} for ${clientId}; its approval card follows.` };
  }

  async card(rolloutId: string): Promise<RolloutCard | undefined> {
    const progress = await this.progress(rolloutId);
    return buildRolloutCard(this.deps.store, rolloutId, progress ? { progress } : {});
  }

  async progress(rolloutId: string): Promise<Progress | undefined> {
    try {
      const handle = this.deps.temporal.workflow.getHandle(rolloutId);
      // A closed workflow answers queries only by replay on a worker; the store has its end state.
      if ((await handle.describe()).status.name !== 'RUNNING') return undefined;
      return await handle.query(progressQuery);
    } catch {
      return undefined; // never ran here, or no worker right now: the store has the rest
    }
  }

  /** Approve / reject / defer: the workflow's Update validator is the final check. */
  async decide(
    u: ChatUser,
    d: {
      rolloutId: string;
      decision: 'approve' | 'reject' | 'defer';
      reason?: string | undefined;
      deferMs?: number;
      round?: number;
    },
    key: InteractionKey,
  ): Promise<Reply> {
    const facts = await this.deps.store.cards.facts(d.rolloutId);
    if (!facts) return fail(`no rollout ${d.rolloutId}`);
    if (!mayDecide(this.deps.policies, facts.clientId, u))
      return this.refused(u, `${d.decision} rollouts`, facts.clientId, key, d.rolloutId);
    const round = d.round ?? facts.round;
    try {
      const r = await this.deps.temporal.workflow
        .getHandle(d.rolloutId)
        .executeUpdate(decideUpdate, {
          // One id per (round, decision, person): a retried delivery or a double click gets the
          // first outcome back instead of a second decision.
          updateId: `${u.platform}:${d.rolloutId}:r${round}:${d.decision}:${u.id}`,
          args: [
            {
              decision: d.decision,
              approver: identity(u),
              ...(d.reason ? { reason: d.reason } : {}),
              ...(d.deferMs ? { deferMs: d.deferMs } : {}),
            },
          ],
        });
      return {
        ok: true,
        text: `${d.rolloutId}: ${r.decision} recorded (by ${r.decidedBy}).`,
        refresh: d.rolloutId,
      };
    } catch (err) {
      return this.updateError(err, d.rolloutId);
    }
  }

  /**
   * Starts the next ring of a rollout waiting for a human promotion. The workflow's Update
   * validator decides, and the workflow records who promoted (approvals row, audit event).
   */
  async promote(u: ChatUser, rolloutId: string, ring: string, key: InteractionKey): Promise<Reply> {
    const facts = await this.deps.store.cards.facts(rolloutId);
    if (!facts) return fail(`no rollout ${rolloutId}`);
    if (!mayDecide(this.deps.policies, facts.clientId, u))
      return this.refused(u, 'promote rings', facts.clientId, key, rolloutId);
    // One id per ring: a second click (anyone's) gets the first promotion back.
    const updateId = `${u.platform}:${rolloutId}:promote:${ring}`;
    try {
      await this.deps.temporal.workflow
        .getHandle(rolloutId)
        .executeUpdate(promoteUpdate, { updateId, args: [{ ring, approver: identity(u) }] });
    } catch (err) {
      return this.updateError(err, rolloutId);
    }
    return { ok: true, text: `${rolloutId}: ring ${ring} promoted.`, refresh: rolloutId };
  }

  /** Pause / resume / cancel are Signals: authorised here, audited, then sent. */
  async control(
    u: ChatUser,
    rolloutId: string,
    what: 'pause' | 'resume' | 'cancel',
    key: InteractionKey,
    reason?: string,
  ): Promise<Reply> {
    const facts = await this.deps.store.cards.facts(rolloutId);
    if (!facts) return fail(`no rollout ${rolloutId}`);
    if (!mayDecide(this.deps.policies, facts.clientId, u))
      return this.refused(u, `${what} rollouts`, facts.clientId, key, rolloutId);
    const handle = this.deps.temporal.workflow.getHandle(rolloutId);
    const by = actorOf(u);
    try {
      if (what === 'pause') await handle.signal(pauseSignal, { by });
      else if (what === 'resume') await handle.signal(resumeSignal, { by });
      else await handle.signal(cancelSignal, { by, ...(reason ? { reason } : {}) });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return fail(`${rolloutId} is not running any more`);
      throw err;
    }
    if (what !== 'cancel') await this.deps.store.cards.setPaused(rolloutId, what === 'pause');
    await this.deps.store.audit.append({
      idempotencyKey: `chat-${what}:${key}`,
      actor: by,
      action: `rollout.${what}.requested`,
      subjectType: 'rollout',
      subjectId: rolloutId,
      clientId: facts.clientId,
      rolloutId,
      data: { platform: u.platform, reason: reason ?? null },
    });
    return { ok: true, text: `${rolloutId}: ${what} sent by ${by}.`, refresh: rolloutId };
  }

  private updateError(err: unknown, rolloutId: string): Reply {
    if (err instanceof WorkflowUpdateFailedError)
      return fail(`${rolloutId}: ${err.cause?.message ?? err.message}`);
    if (err instanceof WorkflowNotFoundError) return fail(`${rolloutId} is not running any more`);
    throw err;
  }
}

function ignoreAlreadyStarted(err: unknown): void {
  if ((err as { name?: string }).name === 'WorkflowExecutionAlreadyStartedError') return;
  throw err;
}
