import type { AdapterDeps } from '../../kit.js';
import type { ConnectionCheck } from '../../rmm/types.js';
import { ItsmError, type ItsmAdapter } from '../types.js';
import { createSigner } from './auth.js';
import { ChangeWalker } from './changes.js';
import { toServiceNowError } from './errors.js';
import { Records } from './records.js';
import { capDescription, changeDescription, shortDescription, tableOf } from './render.js';
import type { ServiceNowSettings } from './settings.js';
import { TableApi } from './table.js';
import { glideDateTime, sysId } from './wire.js';
import { z } from 'zod';

const RISK = { high: '2', moderate: '3', low: '4' } as const;

/**
 * patchops' tickets in ServiceNow through the Table API: a change_request per rollout
 * (normal, or emergency for a KEV rollout), work notes as it progresses, state moves along
 * the change state model, an incident caused by the change when a rollout halts.
 */
export interface ServiceNowItsm extends ItsmAdapter {
  readonly kind: 'servicenow';
}

export function createServiceNow(settings: ServiceNowSettings, deps: AdapterDeps): ServiceNowItsm {
  const secrets =
    settings.auth.kind === 'basic' ? [settings.auth.password] : [settings.auth.clientSecret];
  const client = () =>
    deps.http({ vendor: 'ServiceNow', baseURL: settings.instanceUrl, secrets, ...settings.http });
  const log = deps.log.child({ itsm: 'servicenow' });
  const signer = createSigner(
    settings.auth,
    settings.auth.kind === 'oauth' ? client() : undefined,
    deps.clock,
  );
  const api = new TableApi(client(), signer);
  const records = new Records(api, settings, log);
  const walker = new ChangeWalker(api, settings.auth, log);

  return {
    kind: 'servicenow',

    async open(draft, opts) {
      const group = await records.assignmentGroup(
        draft.routing.assignmentGroup ?? settings.assignmentGroup,
      );
      const { row, created } = await records.createOnce('change_request', opts.key, opts.recheck, {
        type: draft.emergency ? 'emergency' : 'normal',
        short_description: shortDescription(draft.title),
        description: changeDescription(draft),
        risk: RISK[draft.risk],
        impact: String(draft.impact),
        ...(draft.plannedStart
          ? { start_date: dateField('plannedStart', draft.plannedStart) }
          : {}),
        ...(draft.plannedEnd ? { end_date: dateField('plannedEnd', draft.plannedEnd) } : {}),
        ...group,
      });
      log.info({ number: row.number, sysId: row.sys_id, key: opts.key, created }, 'change ready');
      return records.ref('change_request', row);
    },

    async comment(ticket, text, opts) {
      const added = await records.noteOnce(
        tableOf(ticket),
        ticket.externalId,
        text,
        opts.key,
        opts.recheck,
      );
      log.debug({ number: ticket.number, key: opts.key, added }, 'work note');
    },

    async advance(ticket, stage, note, opts) {
      const moves = await walker.advance(ticket, stage, note, opts.key);
      log.debug({ number: ticket.number, stage, moves }, 'change advanced');
    },

    async openIncident(change, draft, opts) {
      if (!sysId.safeParse(change.externalId).success) {
        throw new ItsmError(
          'INVALID_REQUEST',
          `not a ServiceNow change sys_id: ${change.externalId}`,
        );
      }
      const group = await records.assignmentGroup(
        draft.routing.assignmentGroup ?? settings.assignmentGroup,
      );
      const { row, created } = await records.createOnce('incident', opts.key, opts.recheck, {
        short_description: shortDescription(draft.title),
        description: capDescription(
          `${draft.description.trim()}\n\nRollout: ${draft.rolloutId} (client ${draft.clientId}); change ${change.number}`,
        ),
        urgency: String(draft.urgency),
        // A halted rollout hurts the fleet as much as it is urgent: same scale, same value.
        impact: String(draft.urgency),
        caused_by: change.externalId,
        ...group,
      });
      log.info(
        { number: row.number, change: change.number, key: opts.key, created },
        'incident ready',
      );
      return records.ref('incident', row);
    },

    async close(ticket, closure, opts) {
      const moves = await walker.close(ticket, closure);
      log.debug(
        { number: ticket.number, code: closure.code, moves, key: opts.key },
        'change closed',
      );
    },

    testConnection: () => testConnection(api, settings),
  };
}

function dateField(field: string, iso: string): string {
  try {
    return glideDateTime(iso);
  } catch {
    throw new ItsmError(
      'INVALID_REQUEST',
      `ticket draft ${field} is not an ISO 8601 date-time: "${iso}"`,
    );
  }
}

/** One cheap read of change_request; every expected refusal becomes `ok: false` with the fix. */
async function testConnection(
  api: TableApi,
  settings: ServiceNowSettings,
): Promise<ConnectionCheck> {
  try {
    // A query on a field makes the instance check read access (a plain list is only filtered).
    await api.find('change_request', 'active=true', z.object({ sys_id: sysId }), ['sys_id'], 1);
    return {
      ok: true,
      detail: `ServiceNow ${settings.instanceUrl}: signed in (${settings.auth.kind}), change_request readable`,
    };
  } catch (err) {
    const e = toServiceNowError(err, settings.auth);
    if (!(e instanceof ItsmError)) throw e;
    // AUTH_FAILED and FORBIDDEN messages already name the variables or the roles to fix.
    const fix =
      e.code === 'AUTH_FAILED' || e.code === 'FORBIDDEN'
        ? ''
        : e.code === 'NOT_FOUND'
          ? ' (check SERVICENOW_INSTANCE_URL: no Table API there)'
          : ' (check SERVICENOW_INSTANCE_URL and that the instance is up)';
    return { ok: false, detail: `${e.message}${fix}` };
  }
}
