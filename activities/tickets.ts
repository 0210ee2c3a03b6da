import type { TicketDraft, TicketRef } from '../adapters/itsm/types.js';
import type { RolloutSettings, TicketSettings } from '../domain/rollout-settings.js';
import { changeRisk, closureFor, plannedSpan, ringNote, ringSettled } from '../domain/tickets.js';
import type { TicketRow } from '../store/index.js';
import { rethrow } from './failures.js';
import type { ActivityDeps } from './index.js';

/** What has happened to the rollout that its ticket should now say. */
export type TicketEvent =
  | { kind: 'decided'; auto: boolean }
  | { kind: 'ring_started'; ring: string }
  | { kind: 'ring_done'; ring: string }
  | { kind: 'end'; phase: string; note: string };

const ref = (t: TicketRow): TicketRef => ({
  externalId: t.externalId,
  number: t.number,
  url: t.url,
});

/**
 * The change ticket follows the rollout. Each write (a decision's note, a state move, a
 * ring's counts, the incident, the close) is claimed in PostgreSQL under its own key
 * before the ITSM is called and completed after; a claim left open by a crash or a
 * timeout makes the adapter look in the ITSM before writing, so nothing is done twice.
 * `syncTicket` converges: each call makes up for anything an earlier one could not do.
 */
export function ticketKeeper({ store, itsm, log }: ActivityDeps) {
  const once = async (
    rolloutId: string,
    key: string,
    what: string,
    write: (opts: { key: string; recheck: boolean }) => Promise<void>,
  ): Promise<void> => {
    const claim = await store.claims.claim(key, what, rolloutId);
    if (claim.state === 'done') return;
    await write({ key, recheck: claim.state === 'recheck' }).catch(rethrow);
    await store.claims.complete(key);
  };

  const draftFor = async (
    rolloutId: string,
    clientId: string,
    settings: RolloutSettings | undefined,
    emergency: boolean,
  ): Promise<TicketDraft> => {
    const f = await store.tickets.facts(rolloutId);
    const span = settings ? plannedSpan(settings, Date.now(), f.timezone) : null;
    const rings = settings?.rings.map((r) => r.name).join(' → ') ?? 'default rings';
    return {
      rolloutId,
      clientId,
      title: `Patch rollout ${rolloutId}: ${f.patches.length} patches on ${f.deviceCount} devices`,
      description: [
        `patchops rollout ${rolloutId} for client ${clientId}.`,
        `${f.patches.length} patches on ${f.deviceCount} devices, deployed ring by ring (${rings}) inside maintenance windows${span ? ` (planned times in ${f.timezone} where windows follow the device's zone)` : ''}.`,
        `Every deploy is verified by a rescan; this ticket is updated at each decision and ring and closed with the outcome.`,
      ].join('\n'),
      devices: f.deviceNames,
      deviceCount: f.deviceCount,
      patches: f.patches,
      emergency,
      ...changeRisk(f.patches.map((p) => p.tier)),
      plannedStart: span?.start ?? null,
      plannedEnd: span?.end ?? null,
      routing: settings?.tickets?.routing ?? {},
    };
  };

  /** The decisions recorded so far, each as a note once; the change moves to approved. */
  const syncDecisions = async (rolloutId: string, change: TicketRow, auto: boolean) => {
    const decisions = await store.records.decisions(rolloutId);
    for (const d of decisions) {
      const until = d.deferUntil ? ` until ${d.deferUntil.toISOString()}` : '';
      const text = `${d.decision} by ${d.decidedBy} at ${d.decidedAt.toISOString()}${until}${d.reason ? `: ${d.reason}` : ''}`;
      await once(rolloutId, `${rolloutId}:ticket:decision:${d.id}`, 'ticket.note', (o) =>
        itsm.comment(ref(change), `patchops: ${text}`, o),
      );
    }
    const approved = decisions.find((d) => d.decision === 'approve');
    if (!auto && !approved) return;
    await once(rolloutId, `${rolloutId}:ticket:stage:approved`, 'ticket.advance', async (o) => {
      await itsm.advance(
        ref(change),
        'approved',
        approved
          ? `Approved by ${approved.decidedBy} (${approved.via}).`
          : 'Approved by policy: every patch is auto-approved.',
        o,
      );
      await store.tickets.setState(change.kind, change.externalId, { stage: 'approved' });
    });
  };

  const syncRings = async (rolloutId: string, change: TicketRow) => {
    for (const r of await store.rollouts.ringCounts(rolloutId)) {
      if (!ringSettled(r)) continue;
      await once(rolloutId, `${rolloutId}:ticket:ring:${r.ring}`, 'ticket.note', (o) =>
        itsm.comment(ref(change), `patchops: ${ringNote(r)}`, o),
      );
    }
  };

  const syncEnd = async (
    rolloutId: string,
    clientId: string,
    change: TicketRow,
    end: { phase: string; note: string },
    tickets: TicketSettings | undefined,
  ) => {
    if (end.phase === 'halted' && tickets?.incidentOnFailure) {
      const key = `${rolloutId}:ticket:incident`;
      await once(rolloutId, key, 'ticket.incident', async (o) => {
        const incident = await itsm.openIncident(
          ref(change),
          {
            rolloutId,
            clientId,
            title: `Patch rollout ${rolloutId} halted`,
            description: `The rollout of change ${change.number} halted: ${end.note}. Devices that did not run are untouched; see the change's notes for the rings.`,
            urgency: 2,
            routing: tickets.routing,
          },
          o,
        );
        await store.tickets.save({
          rolloutId,
          kind: itsm.kind,
          role: 'incident',
          ...incident,
          key,
        });
      });
    }
    const { tally } = await store.tickets.facts(rolloutId, 0);
    const closure = closureFor(end.phase, tally, end.note);
    await once(rolloutId, `${rolloutId}:ticket:close`, 'ticket.close', async (o) => {
      await itsm.close(ref(change), closure, o);
      await store.tickets.setState(change.kind, change.externalId, {
        status: closure.code === 'cancelled' ? 'cancelled' : 'closed',
      });
    });
  };

  return {
    /** Opens the change ticket once per rollout (found again by its key after a timeout). */
    async openTicket(a: {
      rolloutId: string;
      clientId: string;
      idempotencyKey: string;
      /** The rollout's settings (windows for planned times, routing); absent in old histories. */
      settings?: RolloutSettings;
      emergency?: boolean;
    }): Promise<{ ticketId: string }> {
      const existing = await store.tickets.byKey(a.idempotencyKey);
      if (existing) return { ticketId: existing.externalId };
      const draft = await draftFor(a.rolloutId, a.clientId, a.settings, a.emergency ?? false);
      const claim = await store.claims.claim(a.idempotencyKey, 'ticket.open', a.rolloutId);
      const t = await itsm
        .open(draft, { key: a.idempotencyKey, recheck: claim.state !== 'new' })
        .catch(rethrow);
      await store.tickets.save({
        rolloutId: a.rolloutId,
        kind: itsm.kind,
        role: 'change',
        ...t,
        key: a.idempotencyKey,
      });
      await store.claims.complete(a.idempotencyKey, t.externalId);
      return { ticketId: t.externalId };
    },

    /**
     * Brings the change ticket up to date with the rollout: decision notes and the move to
     * approved, implementing once a ring deploys, each settled ring's counts, and at the
     * end an incident (when policy asks and the rollout halted) and the close.
     */
    async syncTicket(a: {
      rolloutId: string;
      clientId: string;
      event: TicketEvent;
      tickets?: TicketSettings;
    }): Promise<void> {
      const change = (await store.tickets.ofRollout(a.rolloutId)).find((t) => t.role === 'change');
      if (!change) return;
      const e = a.event;
      await syncDecisions(a.rolloutId, change, e.kind === 'decided' ? e.auto : false);
      if (e.kind === 'ring_started' || e.kind === 'ring_done') {
        await once(
          a.rolloutId,
          `${a.rolloutId}:ticket:stage:implementing`,
          'ticket.advance',
          async (o) => {
            await itsm.advance(ref(change), 'implementing', `Deploying ring ${e.ring}.`, o);
            await store.tickets.setState(change.kind, change.externalId, { stage: 'implementing' });
          },
        );
      }
      await syncRings(a.rolloutId, change);
      if (e.kind === 'end') await syncEnd(a.rolloutId, a.clientId, change, e, a.tickets);
      log.debug({ rolloutId: a.rolloutId, event: e.kind, itsm: itsm.kind }, 'ticket in sync');
    },

    /** The close of rollouts whose workflow predates syncTicket (finishRollout calls it). */
    async closeLegacy(rolloutId: string, phase: string, note: string): Promise<void> {
      const change = (await store.tickets.ofRollout(rolloutId)).find((t) => t.role === 'change');
      if (!change) return;
      await syncEnd(rolloutId, '', change, { phase, note }, undefined);
    },
  };
}

/** The ticket activities the workflows call. */
export function createTicketActivities(deps: ActivityDeps) {
  const keeper = ticketKeeper(deps);
  return {
    openTicket: keeper.openTicket.bind(keeper),
    syncTicket: keeper.syncTicket.bind(keeper),
  };
}
