/**
 * What the RMM end-to-end tests need of every vendor adapter that has a fake: how to start
 * the fake, the adapter's variables pointing at it, which request carries out the install
 * (where faults go), how many installs the vendor really ran per device, and what the
 * vendor now says of each patch. The fakes themselves name the vendor sources they follow
 * (test/fakes/ninjaone/index.ts, test/fakes/tacticalrmm/index.ts).
 */
import { osPatchId, softwarePatchId } from '../../adapters/rmm/ninjaone/ids.js';
import type { Fault, RecordedRequest } from '../fakes/http/server.js';
import { startFakeNinjaOne } from '../fakes/ninjaone/index.js';
import { CATALOG } from '../fakes/ninjaone/fleet.js';
import { startFakeTacticalRmm, MANUAL } from '../fakes/tacticalrmm/index.js';

/** Where a patch stands on the vendor's side after the rollout. */
export type VendorPatchState = 'installed' | 'pending_reboot';

export interface RmmFake {
  url: string;
  fault(f: Fault): void;
  requests: RecordedRequest[];
  close(): Promise<void>;
  /** The patchable devices of the client the tests roll out to, as patchops ids. */
  deviceIds(): string[];
  /**
   * Install commands the vendor carried out, per device and (NinjaOne) patch family: the
   * key starts with the device id. Each must be 1 after a rollout.
   */
  installRuns(): Map<string, number>;
  /** Approves a patch in the vendor's own console, as a technician might (Tactical only). */
  approveInVendor?(deviceId: string, vendorRef: string): void;
  /** Every patch the vendor installed on the device, and whether it waits for a reboot. */
  vendorStates(deviceId: string): Map<string, VendorPatchState>;
  /** Which device a recorded request was about, or undefined for fleet-wide calls. */
  deviceOf(r: RecordedRequest): string | undefined;
}

export interface RmmFakeOptions {
  /** Tactical: every agent's effective patch policy auto-approves Critical and Important. */
  autoApprove?: boolean;
  /** Install work takes this long on the agent (default: fast). */
  installDelayMs?: number;
}

export interface RmmVendor {
  kind: 'ninjaone' | 'tacticalrmm';
  /** patchops' id of the client with 4 patchable devices. */
  clientId: string;
  start(o?: RmmFakeOptions): Promise<RmmFake>;
  /** The adapter's variables pointing at the fake with working credentials. */
  env(fake: RmmFake): Record<string, string>;
  /** Settings the variables cannot set that keep the tests fast (scan wait, retry delay). */
  fastSettings: Record<string, unknown>;
  /** The write that installs: where the fault tests inject 500, 429 and commit-then-hang. */
  installPath: RegExp;
  /** A patch the fleet reports missing that patchops' policy blocklists in these tests. */
  blocked: string;
}

const ninjaIds = new Map(
  CATALOG.map((c) => [
    c.key,
    c.family === 'os'
      ? osPatchId({ ...(c.kbNumber ? { kbNumber: c.kbNumber } : {}), name: c.title })
      : softwarePatchId({ productIdentifier: c.productIdentifier!, title: c.title }),
  ]),
);
const ninjaCreds = new WeakMap<RmmFake, { id: string; secret: string }>();
const tacticalKeys = new WeakMap<RmmFake, string>();

/** Every RMM adapter with a stateful fake, for tests that run the same scenario on each. */
export const RMM_FAKES: RmmVendor[] = [
  {
    kind: 'ninjaone',
    clientId: '1',
    async start(o = {}) {
      // No failing install: every device must end installed or pending a reboot.
      const f = await startFakeNinjaOne({
        failures: [],
        scanDelayMs: 30,
        applyDelayMs: o.installDelayMs ?? 50,
        rebootDelayMs: 30,
      });
      const fake: RmmFake = {
        url: f.url,
        fault: (x) => f.server.fault(x),
        requests: f.server.requests,
        close: () => f.close(),
        deviceIds: () =>
          [...f.state.devices.values()]
            .filter((d) => d.organizationId === 1 && f.state.applicable(d))
            .map((d) => String(d.id)),
        installRuns() {
          const runs = new Map<string, number>();
          for (const a of f.applies()) {
            const k = `${a.deviceId}|${a.family}`;
            runs.set(k, (runs.get(k) ?? 0) + 1);
          }
          return runs;
        },
        vendorStates(id) {
          const d = f.device(Number(id));
          const out = new Map<string, VendorPatchState>();
          const latest = new Map<string, (typeof f.state.installs)[number]>();
          for (const r of f.state.installs.filter((x) => x.deviceId === d.id)) latest.set(r.key, r);
          for (const [key, r] of latest) {
            if (r.status !== 'INSTALLED') continue;
            const os = CATALOG.find((c) => c.key === key)!.family === 'os';
            const waits = os && !!d.os?.needsReboot && r.installedAt >= d.os.lastBootTime;
            out.set(ninjaIds.get(key)!, waits ? 'pending_reboot' : 'installed');
          }
          return out;
        },
        deviceOf(r) {
          const m = /^\/v2\/device\/(\d+)\//.exec(r.path) ?? /^id = (\d+)$/.exec(r.query.df ?? '');
          return m?.[1];
        },
      };
      ninjaCreds.set(fake, { id: f.clientId, secret: f.clientSecret });
      return fake;
    },
    env: (fake) => ({
      NINJAONE_BASE_URL: fake.url,
      NINJAONE_CLIENT_ID: ninjaCreds.get(fake)!.id,
      NINJAONE_CLIENT_SECRET: ninjaCreds.get(fake)!.secret,
      NINJAONE_TIMEOUT_MS: '1500',
    }),
    fastSettings: { retryBaseMs: 20 },
    installPath: /^\/v2\/device\/\d+\/patch\/os\/apply$/,
    // NinjaOne's own policy leaves it at manual approval on ACME-WS-01: patchops must not plan it.
    blocked: 'KB890830',
  },
  {
    kind: 'tacticalrmm',
    clientId: '1',
    async start(o = {}) {
      const f = await startFakeTacticalRmm({
        timeZone: 'UTC',
        ...(o.installDelayMs !== undefined ? { installDelayMs: o.installDelayMs } : {}),
      });
      const windows = f.state.agents.filter(
        (a) => a.plat === 'windows' && f.state.clients[0]!.sites.some((s) => s.id === a.siteId),
      );
      // The seed gives one agent an auto-approving policy; the happy path sets all to Manual.
      for (const a of windows)
        f.setPolicy(
          a.agent_id,
          o.autoApprove ? { critical: 'approve', important: 'approve' } : MANUAL,
        );
      const byPk = new Map(f.state.updates.map((u) => [String(u.id), u.agentPk]));
      const fake: RmmFake = {
        url: f.url,
        fault: (x) => f.fault(x),
        requests: f.requests,
        close: () => f.close(),
        deviceIds: () => windows.map((a) => a.agent_id),
        installRuns: () =>
          new Map(
            windows
              .filter((a) => f.installCount(a.agent_id) > 0)
              .map((a) => [a.agent_id, f.installCount(a.agent_id)]),
          ),
        approveInVendor: (id, kb) => void (f.update(id, kb).action = 'approve'),
        vendorStates(id) {
          const a = f.agent(id);
          const out = new Map<string, VendorPatchState>();
          for (const u of f.state.updates.filter((x) => x.agentPk === a.pk && x.installed)) {
            // A scan-reported install has no date; one through Tactical waits for a boot after it.
            const waits =
              a.needs_reboot && u.date_installed !== null && a.boot_time * 1000 < u.date_installed;
            out.set(`win:${u.kb}`, waits ? 'pending_reboot' : 'installed');
          }
          return out;
        },
        deviceOf(r) {
          const m = /^\/(?:agents|winupdate)\/([^/]+)\//.exec(r.path);
          if (!m) return undefined;
          // PUT /winupdate/{pk}/ names an update row, not an agent.
          const pk = byPk.get(m[1]!);
          if (pk !== undefined) return f.state.agents.find((a) => a.pk === pk)?.agent_id;
          return m[1];
        },
      };
      tacticalKeys.set(fake, f.apiKey);
      return fake;
    },
    env: (fake) => ({
      TACTICAL_API_URL: fake.url,
      TACTICAL_API_KEY: tacticalKeys.get(fake)!,
      TACTICAL_TIME_ZONE: 'UTC',
    }),
    // Tactical cannot report a scan's end: the adapter waits a fixed time (minutes by default).
    fastSettings: { scanWaitMs: 100, retryBaseMs: 20, timeoutMs: 1_500 },
    installPath: /^\/winupdate\/[^/]+\/install\/$/,
    blocked: 'KB890830',
  },
];
