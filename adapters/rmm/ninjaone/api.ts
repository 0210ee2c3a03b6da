import type { z } from 'zod';
import { HttpFailure } from '../../http/errors.js';
import { RmmError } from '../types.js';
import { toRmmError, type NotFoundCode } from './errors.js';
import type { PatchFamily } from './ids.js';
import type { NinjaOneSession } from './session.js';
import {
  activitiesSchema,
  deviceSchema,
  devicesSchema,
  locationsSchema,
  noContentSchema,
  organizationsSchema,
  osPatchRowSchema,
  queryPage,
  softwarePatchRowSchema,
  type WireActivity,
  type WireDevice,
  type WireOsPatch,
  type WireSoftwarePatch,
} from './wire.js';

/** Activities per page when reading a device's history (the spec allows 10–1000). */
const ACTIVITY_PAGE = 100;
/** How far back one look at a device's history goes before giving up: 20 pages. */
const ACTIVITY_MAX_PAGES = 20;
const QUERY_MAX_PAGES = 1_000;

const FAMILY_PATH: Record<PatchFamily, string> = { os: 'os', sw: 'software' };

/**
 * The NinjaOne endpoints patchops calls, one method each, returning the parsed wire
 * format. Every failure leaves as an RmmError whose 404 code fits the call.
 */
export class NinjaOneApi {
  constructor(
    private readonly session: NinjaOneSession,
    private readonly queryPageSize: number,
  ) {}

  private async get<S extends z.ZodType>(
    url: string,
    endpoint: string,
    schema: S,
    notFound: NotFoundCode,
    params?: Record<string, string | number | undefined>,
  ): Promise<z.output<S>> {
    try {
      return await this.session.request({ method: 'GET', url, endpoint, schema, params });
    } catch (err) {
      throw toRmmError(err, notFound, `NinjaOne ${endpoint}`);
    }
  }

  /** GET /v2/organizations, one page after the given organization id. */
  organizations(pageSize: number, after?: number) {
    return this.get(
      '/v2/organizations',
      'GET /v2/organizations',
      organizationsSchema,
      'CLIENT_NOT_FOUND',
      {
        pageSize,
        after,
      },
    );
  }

  locations(orgId: number) {
    return this.get(
      `/v2/organization/${orgId}/locations`,
      'GET /v2/organization/{id}/locations',
      locationsSchema,
      'CLIENT_NOT_FOUND',
    );
  }

  /** GET /v2/devices-detailed: devices matching a device filter, paged by "after this id". */
  devices(df: string, pageSize: number, after?: number): Promise<WireDevice[]> {
    return this.get(
      '/v2/devices-detailed',
      'GET /v2/devices-detailed',
      devicesSchema,
      'CLIENT_NOT_FOUND',
      {
        df,
        pageSize,
        after,
      },
    );
  }

  device(id: number): Promise<WireDevice> {
    return this.get(`/v2/device/${id}`, 'GET /v2/device/{id}', deviceSchema, 'DEVICE_NOT_FOUND');
  }

  /**
   * The device's activities at or after `sinceSec` (epoch seconds), newest first. NinjaOne
   * pages them backwards by activity id (`olderThan`), so this walks back until it passes
   * `sinceSec`; the time filter is applied here because the id parameters take ids only.
   */
  async activitiesSince(id: number, sinceSec: number): Promise<WireActivity[]> {
    const out: WireActivity[] = [];
    let olderThan: number | undefined;
    for (let page = 0; page < ACTIVITY_MAX_PAGES; page++) {
      const { activities } = await this.get(
        `/v2/device/${id}/activities`,
        'GET /v2/device/{id}/activities',
        activitiesSchema,
        'DEVICE_NOT_FOUND',
        { pageSize: ACTIVITY_PAGE, olderThan },
      );
      for (const a of activities) if (a.activityTime >= sinceSec) out.push(a);
      const oldest = activities.at(-1);
      if (!oldest || activities.length < ACTIVITY_PAGE || oldest.activityTime < sinceSec)
        return out;
      olderThan = oldest.id;
    }
    return out;
  }

  osPatches(deviceId: number) {
    return this.query('/v2/queries/os-patches', osPatchRowSchema, deviceId);
  }
  softwarePatches(deviceId: number) {
    return this.query('/v2/queries/software-patches', softwarePatchRowSchema, deviceId);
  }
  osPatchInstalls(deviceId: number): Promise<WireOsPatch[]> {
    return this.query('/v2/queries/os-patch-installs', osPatchRowSchema, deviceId);
  }
  softwarePatchInstalls(deviceId: number): Promise<WireSoftwarePatch[]> {
    return this.query('/v2/queries/software-patch-installs', softwarePatchRowSchema, deviceId);
  }

  /** The first page of the fleet-wide current OS and software patch reports (no device filter). */
  async samplePatches(pageSize: number) {
    const [os, sw] = await Promise.all([
      this.get(
        '/v2/queries/os-patches',
        'GET /v2/queries/os-patches',
        queryPage(osPatchRowSchema),
        'CLIENT_NOT_FOUND',
        { pageSize },
      ),
      this.get(
        '/v2/queries/software-patches',
        'GET /v2/queries/software-patches',
        queryPage(softwarePatchRowSchema),
        'CLIENT_NOT_FOUND',
        { pageSize },
      ),
    ]);
    return [...os.results, ...sw.results];
  }

  /**
   * One of the /v2/queries/* reports for one device, every page. The cursor's `name` is a
   * server-side handle that stays the same while `offset` moves, so progress is judged by
   * the offset, and a page shorter than asked for is the last one.
   */
  private async query<R extends z.ZodType>(
    url: string,
    row: R,
    deviceId: number,
  ): Promise<z.output<R>[]> {
    const schema = queryPage(row);
    const out: z.output<R>[] = [];
    let cursor: string | undefined;
    let lastOffset = -1;
    for (let page = 0; page < QUERY_MAX_PAGES; page++) {
      const data = await this.get(url, `GET ${url}`, schema, 'DEVICE_NOT_FOUND', {
        df: `id = ${deviceId}`,
        pageSize: this.queryPageSize,
        cursor,
      });
      // The device filter is NinjaOne's; a row for another device is never ours to report.
      out.push(...data.results.filter((r) => (r as { deviceId: number }).deviceId === deviceId));
      if (data.results.length < this.queryPageSize || !data.cursor) return out;
      const offset = data.cursor.offset ?? lastOffset + 1;
      if (offset <= lastOffset) {
        throw new RmmError(
          'UNAVAILABLE',
          `NinjaOne GET ${url}: the cursor did not advance (offset ${offset})`,
        );
      }
      lastOffset = offset;
      cursor = data.cursor.name;
    }
    throw new RmmError(
      'UNAVAILABLE',
      `NinjaOne GET ${url}: more than ${QUERY_MAX_PAGES} pages for one device`,
    );
  }

  /**
   * POST …/patch/{os|software}/{scan|apply}. Returns false when NinjaOne answers 400 "Device
   * is not applicable" (that family is not managed on the device).
   */
  async patchAction(id: number, family: PatchFamily, action: 'scan' | 'apply'): Promise<boolean> {
    const endpoint = `POST /v2/device/{id}/patch/${FAMILY_PATH[family]}/${action}`;
    try {
      await this.session.request({
        method: 'POST',
        url: `/v2/device/${id}/patch/${FAMILY_PATH[family]}/${action}`,
        endpoint,
        schema: noContentSchema,
        // A second scan is harmless; a second apply is not and is never sent blindly.
        idempotent: action === 'scan',
      });
      return true;
    } catch (err) {
      // The spec documents 400 on these endpoints for exactly one reason.
      if (err instanceof HttpFailure && err.kind === 'bad_request' && err.status === 400)
        return false;
      throw toRmmError(err, 'DEVICE_NOT_FOUND', `NinjaOne ${endpoint}`);
    }
  }

  /**
   * PUT /v2/device/{id}/maintenance (alerts off until `endS`, epoch seconds) or, without an
   * end, DELETE it. Both set state, so both are safe to repeat.
   */
  async maintenance(id: number, endS: number | undefined): Promise<void> {
    const endpoint = `${endS === undefined ? 'DELETE' : 'PUT'} /v2/device/{id}/maintenance`;
    try {
      await this.session.request({
        method: endS === undefined ? 'DELETE' : 'PUT',
        url: `/v2/device/${id}/maintenance`,
        endpoint,
        ...(endS === undefined ? {} : { data: { disabledFeatures: ['ALERTS'], end: endS } }),
        schema: noContentSchema,
      });
    } catch (err) {
      throw toRmmError(err, 'DEVICE_NOT_FOUND', `NinjaOne ${endpoint}`);
    }
  }

  /** POST /v2/device/{id}/reboot/{mode} with the reason NinjaOne records with the request. */
  async reboot(id: number, mode: 'NORMAL' | 'FORCED', reason: string): Promise<void> {
    try {
      await this.session.request({
        method: 'POST',
        url: `/v2/device/${id}/reboot/${mode}`,
        endpoint: 'POST /v2/device/{id}/reboot/{mode}',
        data: { reason },
        schema: noContentSchema,
      });
    } catch (err) {
      throw toRmmError(err, 'DEVICE_NOT_FOUND', 'NinjaOne POST /v2/device/{id}/reboot/{mode}');
    }
  }
}
