import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { percent } from '../../cli/format.js';
import type { PolicyDocument } from '../../domain/policy/index.js';
import type { Store } from '../../store/index.js';
import type { clientScan, patchCycle } from '../../workflows/index.js';
import { progressQuery, type Progress } from '../../workflows/messages.js';
import { buildRolloutCard } from '../cards/build.js';
import type { RolloutCard } from '../cards/model.js';
import {
  PRIVATE,
  actorOf,
  clientsFor,
  identity,
  mayDecide,
  mayRead,
  readableClients,
  type ChatPlace,
  type ChatUser,
} from './access.js';
import { RolloutControls } from './controls.js';
import { usage, type ChatCommand } from './parse.js';
import { describeEmergency, startEmergency } from './emergency.js';

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

/** One answer for "does not exist" and "not yours to see", so neither reveals the other. */
const notVisible = (what: string): string =>
  `No client or rollout "${what}" that you can see here.`;
const NOTHING_VISIBLE =
  'You can see no client here: ask for a client in its own channel, or ask an admin to add you under approvers or viewers in its policy.';

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

  async help(u: ChatUser, prefix: string, place: ChatPlace = PRIVATE): Promise<Reply> {
    const may = await this.mayChangeAnything(u);
    const seen = readableClients(this.deps.policies, await this.clientIds(), u, place);
    return {
      ok: true,
      text: `${usage(prefix, may)}${may ? '' : '\n(You are not an approver for any client, so only read-only commands are listed.)'}${
        seen.length
          ? `\nClients you can see here: ${seen.slice(0, 20).join(', ')}${seen.length > 20 ? ` and ${seen.length - 20} more` : ''}.`
          : ''
      }`,
    };
  }

  /** Whether this person, asking here, may see the client's rollouts, reports and cards. */
  mayRead(u: ChatUser, clientId: string, place: ChatPlace): boolean {
    return mayRead(this.deps.policies, clientId, u, place);
  }

  /** Whether this person, asking here, may see this rollout; false for one that does not exist. */
  async mayReadRollout(u: ChatUser, rolloutId: string, place: ChatPlace): Promise<boolean> {
    const facts = await this.deps.store.cards.facts(rolloutId);
    return facts !== undefined && this.mayRead(u, facts.clientId, place);
  }

  /**
   * A failed command on a rollout, re-worded for someone who may not see it: the refusal an
   * approver check gives names the client, which would tell them the rollout exists.
   */
  async concealed(u: ChatUser, rolloutId: string, place: ChatPlace, reply: Reply): Promise<Reply> {
    if (reply.ok || (await this.mayReadRollout(u, rolloutId, place))) return reply;
    return fail(notVisible(rolloutId));
  }

  /**
   * `place` is where the request was made (the front door knows: a client's card channel, a
   * DM); read commands show only the clients this person may see there.
   */
  async run(
    u: ChatUser,
    cmd: ChatCommand,
    key: InteractionKey,
    prefix: string,
    place: ChatPlace = PRIVATE,
  ): Promise<Reply> {
    switch (cmd.name) {
      case 'help':
        return this.help(u, prefix, place);
      case 'status':
        return this.status(u, cmd.target, place);
      case 'report':
        return this.report(u, cmd.clientId, place);
      case 'scan':
      case 'rollout':
        return this.start(u, cmd.name, cmd.clientId, key);
      case 'emergency':
        return this.emergency(u, cmd.cve, cmd.clientId, key);
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
    _key: InteractionKey,
    rolloutId?: string,
  ): Promise<Reply> {
    // Audited once per person, target and interval (not once per click): see RolloutControls.
    return this.controls.refused({ who: identity(u) }, what, clientId, rolloutId);
  }

  /**
   * Running rollouts this person may see here, or one client's, or one rollout's card. What
   * they may not see is answered exactly as what does not exist.
   */
  async status(u: ChatUser, target: string | undefined, place: ChatPlace): Promise<Reply> {
    const { store, policies } = this.deps;
    const rollout = target ? await store.rollouts.get(target) : undefined;
    if (target && rollout) {
      if (!mayRead(policies, rollout.clientId, u, place)) return fail(notVisible(target));
      const card = await this.card(target);
      return card
        ? { ok: true, text: `${card.headline}: ${card.rolloutId}`, card }
        : fail(notVisible(target));
    }
    if (target) {
      const known =
        (await this.clientIds()).includes(target) ||
        policies.some((p) => p.scope.level === 'client' && p.scope.id === target);
      if (!known || !mayRead(policies, target, u, place)) return fail(notVisible(target));
    }
    const clientIds = await this.clientIds();
    const readable = new Set(readableClients(policies, clientIds, u, place));
    if (target) readable.add(target); // known and readable, maybe not scanned yet
    // Newest first; enough rows that other clients' rollouts do not crowd this person's out.
    const open = (await store.cards.openRollouts(1_000))
      .filter((r) => (target ? r.clientId === target : readable.has(r.clientId)))
      .slice(0, 50);
    if (open.length === 0)
      return {
        ok: true,
        // The hint only where it explains something: clients exist, none of them visible.
        text: `No running rollouts${target ? ` for ${target}` : ''}.${readable.size || !clientIds.length ? '' : `\n${NOTHING_VISIBLE}`}`,
      };
    return {
      ok: true,
      text: open
        .map((r) => `• ${r.id} (${r.clientId}): ${r.phase}${r.paused ? ', paused' : ''}`)
        .join('\n'),
    };
  }

  /** Compliance per client and site, of the clients this person may see here. */
  async report(u: ChatUser, clientId: string | undefined, place: ChatPlace): Promise<Reply> {
    const { policies } = this.deps;
    if (clientId && !mayRead(policies, clientId, u, place)) return fail(notVisible(clientId));
    const rows = (await this.deps.store.compliance.snapshot(clientId)).filter(
      (r) => clientId !== undefined || mayRead(policies, r.clientId, u, place),
    );
    if (rows.length === 0)
      return fail(
        clientId
          ? `no devices known for client ${clientId}`
          : `No devices known yet for the clients you can see here.`,
      );
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

  /** `emergency CVE [client]`: the CVE's fix only, on each client the person approves for. */
  private async emergency(
    u: ChatUser,
    cve: string,
    clientId: string | undefined,
    key: InteractionKey,
  ): Promise<Reply> {
    const outcome = await startEmergency(this.deps, {
      cve,
      clientId,
      source: u.platform,
      actor: actorOf(u),
      mayStart: (c) => mayDecide(this.deps.policies, c, u),
    });
    if (outcome.rollouts.length === 0 && outcome.refused.length)
      return this.refused(u, 'start an emergency rollout', outcome.refused[0]!, key);
    return { ok: outcome.refused.length === 0, text: describeEmergency(outcome) };
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

  /** The shared layer behind decide, promote and the controls (the CLI uses it too). */
  private get controls(): RolloutControls {
    return (this.shared ??= new RolloutControls(this.deps));
  }
  private shared: RolloutControls | undefined;

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
    _key: InteractionKey,
  ): Promise<Reply> {
    // The update id derives from the approval round, not the delivery: see RolloutControls.
    return this.controls.decide({ who: identity(u) }, d);
  }

  /**
   * Starts the next ring of a rollout waiting for a human promotion. The workflow's Update
   * validator decides, and the workflow records who promoted (approvals row, audit event).
   */
  async promote(
    u: ChatUser,
    rolloutId: string,
    ring: string,
    _key: InteractionKey,
  ): Promise<Reply> {
    return this.controls.promote({ who: identity(u) }, rolloutId, ring);
  }

  /** Pause / resume / cancel: Updates authorised here and by the workflow's validator, audited. */
  async control(
    u: ChatUser,
    rolloutId: string,
    what: 'pause' | 'resume' | 'cancel',
    key: InteractionKey,
    reason?: string,
  ): Promise<Reply> {
    return this.controls.control({ who: identity(u) }, rolloutId, what, key, reason);
  }
}

function ignoreAlreadyStarted(err: unknown): void {
  if ((err as { name?: string }).name === 'WorkflowExecutionAlreadyStartedError') return;
  throw err;
}
