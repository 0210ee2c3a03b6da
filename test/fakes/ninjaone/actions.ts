import type { FakeRequest, FakeResponse, Route } from '../http/server.js';
import { failure } from './queries.js';
import type { FakeDevice, FakeNinjaState } from './state.js';

/**
 * The fake NinjaOne's device actions beyond patching: reboot (POST /v2/device/{id}/reboot/
 * {NORMAL|FORCED} with a `reason`) and maintenance mode (PUT/DELETE
 * /v2/device/{id}/maintenance with `disabledFeatures`, `start`, `end` in epoch seconds), as
 * the OpenAPI in shared/reference describes them.
 */

type Guard = (
  scope: 'monitoring' | 'management',
  h: (req: FakeRequest) => FakeResponse,
) => (req: FakeRequest) => FakeResponse;

/** Runs `h` on the device the path names, or answers NinjaOne's 404. */
export const deviceLookup =
  (state: FakeNinjaState) =>
  (req: FakeRequest, h: (d: FakeDevice) => FakeResponse): FakeResponse => {
    const d = state.devices.get(Number(req.params.id));
    return d ? h(d) : failure(404, `Device ${req.params.id} not found`);
  };

export function actionRoutes(state: FakeNinjaState, api: Guard): Route[] {
  const withDevice = deviceLookup(state);
  return [
    {
      method: 'POST',
      pattern: /^\/v2\/device\/(?<id>\d+)\/reboot\/(?<mode>[A-Z]+)$/,
      handler: api('management', (req) =>
        withDevice(req, (d) => {
          if (!['NORMAL', 'FORCED'].includes(req.params.mode ?? ''))
            return failure(400, `Unknown reboot mode ${req.params.mode}`);
          state.reboot(
            d,
            req.params.mode!,
            String((req.body as { reason?: string } | null)?.reason ?? ''),
          );
          return { status: 204 };
        }),
      ),
    },
    {
      method: 'PUT',
      pattern: /^\/v2\/device\/(?<id>\d+)\/maintenance$/,
      handler: api('management', (req) =>
        withDevice(req, (d) => {
          const b = (req.body ?? {}) as {
            start?: number;
            end?: number;
            disabledFeatures?: string[];
          };
          const start = b.start ?? Date.now() / 1000;
          if (typeof b.end !== 'number' || b.end <= start)
            return failure(400, 'Maintenance end must be after its start');
          d.maintenance = {
            status: start > Date.now() / 1000 ? 'PENDING' : 'IN_MAINTENANCE',
            start,
            end: b.end,
          };
          d.disabledFeatures = b.disabledFeatures ?? [];
          return { status: 204 };
        }),
      ),
    },
    {
      method: 'DELETE',
      pattern: /^\/v2\/device\/(?<id>\d+)\/maintenance$/,
      handler: api('management', (req) =>
        withDevice(req, (d) => {
          delete d.maintenance;
          delete d.disabledFeatures;
          return { status: 204 };
        }),
      ),
    },
  ];
}
