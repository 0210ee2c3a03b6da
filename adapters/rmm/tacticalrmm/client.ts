import type { z } from 'zod';
import type { AdapterDeps } from '../../kit.js';
import { HttpFailure } from '../../http/errors.js';
import type { HttpClient } from '../../http/client.js';
import { RmmError, type RmmErrorCode } from '../types.js';
import type { TacticalSettings } from './settings.js';
import {
  agentDetailSchema,
  agentTableSchema,
  clientsSchema,
  coreSettingsSchema,
  messageSchema,
  policiesSchema,
  winUpdatesSchema,
  type WireAgent,
  type WireAgentRow,
  type WireClient,
  type WireWinUpdate,
} from './wire.js';

export const VENDOR = 'Tactical RMM';

/** Update actions PUT /winupdate/{pk}/ accepts (winupdate.models.PATCH_ACTION_CHOICES). */
export type UpdateAction = 'approve' | 'ignore' | 'inherit' | 'nothing';

/**
 * One method per Tactical endpoint patchops uses. Paths keep Django's trailing slash:
 * without it Django's CommonMiddleware answers a 301 (APPEND_SLASH), never the data.
 * Every failure leaves as an RmmError; `notFound` says what a 404 means for that call.
 */
export class TacticalClient {
  private readonly http: HttpClient;

  constructor(settings: TacticalSettings, deps: AdapterDeps) {
    this.http = deps.http({
      vendor: VENDOR,
      baseURL: settings.apiUrl,
      timeoutMs: settings.timeoutMs ?? 30_000,
      retries: settings.retries ?? 3,
      retryBaseMs: settings.retryBaseMs ?? 500,
      headers: { 'X-API-KEY': settings.apiKey, 'Content-Type': 'application/json' },
      secrets: [settings.apiKey],
    });
  }

  clients(): Promise<WireClient[]> {
    return this.get('/clients/', clientsSchema, 'GET /clients/');
  }

  /** Agents of one client (Tactical filters by ?client=<id>; it has no paging). */
  agents(clientId: string): Promise<WireAgentRow[]> {
    return this.get('/agents/', agentTableSchema, 'GET /agents/', { client: clientId });
  }

  agent(agentId: string): Promise<WireAgent> {
    return this.get(
      `/agents/${encodeURIComponent(agentId)}/`,
      agentDetailSchema,
      'GET /agents/{agent_id}/',
      undefined,
      ['DEVICE_NOT_FOUND', `No Tactical RMM agent "${agentId}"`],
    );
  }

  updates(agentId: string): Promise<WireWinUpdate[]> {
    return this.get(
      `/winupdate/${encodeURIComponent(agentId)}/`,
      winUpdatesSchema,
      'GET /winupdate/{agent_id}/',
      undefined,
      ['DEVICE_NOT_FOUND', `No Tactical RMM agent "${agentId}"`],
    );
  }

  policies() {
    return this.get('/automation/policies/', policiesSchema, 'GET /automation/policies/');
  }

  async defaultTimeZone(): Promise<string> {
    const s = await this.get('/core/settings/', coreSettingsSchema, 'GET /core/settings/');
    return s.default_time_zone;
  }

  /** Tells the agent to search Windows Update; harmless to repeat (the agent runs one search at a time). */
  scan(agentId: string): Promise<string> {
    return this.send('POST', `/winupdate/${encodeURIComponent(agentId)}/scan/`, {
      endpoint: 'POST /winupdate/{agent_id}/scan/',
      idempotent: true,
      notFound: ['DEVICE_NOT_FOUND', `No Tactical RMM agent "${agentId}"`],
    });
  }

  /** Sets one update's approval; a PUT of a value, so repeating it is harmless. */
  setAction(pk: number, action: UpdateAction, resetResult: boolean): Promise<string> {
    return this.send('PUT', `/winupdate/${pk}/`, {
      endpoint: 'PUT /winupdate/{pk}/',
      data: resetResult ? { action, result: 'n/a' } : { action },
      notFound: ['PATCH_NOT_FOUND', `Tactical RMM has no Windows update with id ${pk} any more`],
    });
  }

  /**
   * Auto-approves by the agent's patch policy, then tells the agent to install every
   * approved update. Not repeatable: an unknown outcome must be looked up, not resent.
   */
  install(agentId: string): Promise<string> {
    return this.send('POST', `/winupdate/${encodeURIComponent(agentId)}/install/`, {
      endpoint: 'POST /winupdate/{agent_id}/install/',
      notFound: ['DEVICE_NOT_FOUND', `No Tactical RMM agent "${agentId}"`],
    });
  }

  /** Reboots now; Tactical waits up to 10 s for the agent and answers 400 when it cannot reach it. */
  reboot(agentId: string): Promise<string> {
    return this.send('POST', `/agents/${encodeURIComponent(agentId)}/reboot/`, {
      endpoint: 'POST /agents/{agent_id}/reboot/',
      notFound: ['DEVICE_NOT_FOUND', `No Tactical RMM agent "${agentId}"`],
      badRequest: 'DEVICE_OFFLINE',
    });
  }

  private async get<S extends z.ZodType>(
    url: string,
    schema: S,
    endpoint: string,
    params?: Record<string, string>,
    notFound?: [RmmErrorCode, string],
  ): Promise<z.output<S>> {
    try {
      const res = await this.http.request({ method: 'GET', url, params, schema, endpoint });
      return res.data;
    } catch (err) {
      throw toRmmError(err, notFound);
    }
  }

  private async send(
    method: 'POST' | 'PUT',
    url: string,
    o: {
      endpoint: string;
      data?: unknown;
      idempotent?: boolean;
      notFound?: [RmmErrorCode, string];
      badRequest?: RmmErrorCode;
    },
  ): Promise<string> {
    try {
      const res = await this.http.request({
        method,
        url,
        data: o.data ?? {},
        schema: messageSchema,
        endpoint: o.endpoint,
        ...(o.idempotent ? { idempotent: true } : {}),
      });
      return res.data;
    } catch (err) {
      throw toRmmError(err, o.notFound, o.badRequest);
    }
  }
}

/** True when a failure means the write may have happened: look before trying again. */
export function outcomeUnknown(err: unknown): boolean {
  return err instanceof RmmError && err.cause instanceof HttpFailure
    ? err.cause.kind === 'outcome_unknown'
    : false;
}

/** Maps the shared HTTP failure to the RMM contract's codes; messages are already redacted. */
export function toRmmError(
  err: unknown,
  notFound?: [RmmErrorCode, string],
  badRequest: RmmErrorCode = 'INVALID_ARGUMENT',
): RmmError {
  if (err instanceof RmmError) return err;
  if (!(err instanceof HttpFailure)) {
    return new RmmError('UNAVAILABLE', `${VENDOR}: ${String(err)}`, { cause: err });
  }
  const m = err.message;
  switch (err.kind) {
    case 'auth':
      return new RmmError(
        'AUTH_FAILED',
        `${m} — Tactical RMM refused TACTICAL_API_KEY (wrong, expired or its user is inactive)`,
        { cause: err },
      );
    case 'forbidden':
      return new RmmError(
        'AUTH_FAILED',
        `${m} — the user of TACTICAL_API_KEY lacks a permission (needs: List Clients, List Agents, Manage Windows Updates, Reboot Agents; List Automation Policies for the policy check; View Core Settings unless TACTICAL_TIME_ZONE is set)`,
        { cause: err },
      );
    case 'not_found':
      return notFound
        ? new RmmError(notFound[0], `${notFound[1]} (${m})`, { cause: err })
        : new RmmError('CONFIG_INVALID', `${m} — is TACTICAL_API_URL the API address?`, {
            cause: err,
          });
    case 'rate_limited':
      return new RmmError('RATE_LIMITED', m, { cause: err });
    case 'unavailable':
    case 'outcome_unknown':
      return new RmmError('UNAVAILABLE', m, { cause: err });
    case 'wire_format':
      return new RmmError(
        'CONFIG_INVALID',
        `${m} — check that TACTICAL_API_URL is the API address (api.…), not the web UI`,
        { cause: err },
      );
    default:
      return new RmmError(badRequest, m, { cause: err });
  }
}
