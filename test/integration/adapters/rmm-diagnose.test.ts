/**
 * `diagnose()` of the NinjaOne and Tactical RMM adapters against their fakes: the lines
 * `patchops doctor` prints below the connection check (the vendor's own patch policy, and
 * for Tactical whether TACTICAL_TIME_ZONE is needed).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { createHttpClient } from '../../../adapters/http/client.js';
import type { AdapterDeps } from '../../../adapters/kit.js';
import { createNinjaOne, ninjaoneSettingsSchema } from '../../../adapters/rmm/ninjaone/index.js';
import { createTacticalRmm } from '../../../adapters/rmm/tacticalrmm/index.js';
import type { Diagnosis } from '../../../adapters/rmm/types.js';
import { startFakeNinjaOne, type FakeNinjaOne } from '../../fakes/ninjaone/index.js';
import {
  agentIdOf,
  MANUAL,
  startFakeTacticalRmm,
  type FakeTacticalRmm,
} from '../../fakes/tacticalrmm/index.js';

const log = pino({ level: 'silent' });
const deps: AdapterDeps = {
  log,
  http: (o) => createHttpClient({ ...o, log, retryBaseMs: 5 }),
  clock: () => new Date(),
  dataDir: '/tmp',
};
const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of closers) await c();
});

const lines = (ds: Diagnosis[]) => ds.map((d) => `${d.state} ${d.part}: ${d.detail}`).join('\n');

describe('NinjaOne diagnose', () => {
  const ninja = async (): Promise<[FakeNinjaOne, ReturnType<typeof createNinjaOne>]> => {
    const fake = await startFakeNinjaOne();
    closers.push(() => fake.close());
    const settings = ninjaoneSettingsSchema.parse({
      NINJAONE_BASE_URL: fake.url,
      NINJAONE_CLIENT_ID: fake.clientId,
      NINJAONE_CLIENT_SECRET: fake.clientSecret,
      NINJAONE_TIMEOUT_MS: '1500',
    });
    return [fake, createNinjaOne(settings, deps)];
  };

  it('warns that the install schedule and reboot setting cannot be read when patches are approved', async () => {
    const [, rmm] = await ninja();
    const ds = await rmm.diagnose();
    assert.equal(ds.length, 1, lines(ds));
    assert.equal(ds[0]!.part, 'patch-policy');
    assert.equal(ds[0]!.state, 'warn');
    assert.match(ds[0]!.detail, /sampled pending patches are approved in NinjaOne/);
    assert.match(ds[0]!.detail, /no automatic install schedule and reboot "Never"/);
  });

  it('warns that a deploy would install nothing when every pending patch waits for manual approval', async () => {
    const [fake, rmm] = await ninja();
    for (const d of fake.state.devices.values())
      for (const p of d.patches.values()) p.status = 'MANUAL';
    const [d] = await rmm.diagnose();
    assert.equal(d?.state, 'warn');
    assert.match(d.detail, /wait for manual approval in NinjaOne/);
    assert.match(d.detail, /Set the policies' approval to automatic/);
  });

  it('says the check is down, without the secret, when NinjaOne fails', async () => {
    const [fake, rmm] = await ninja();
    fake.server.fault({ path: /^\/v2\/queries\/os-patches$/, status: 503, times: 10 });
    const ds = await rmm.diagnose();
    assert.equal(ds[0]?.state, 'down', lines(ds));
    assert.match(ds[0].detail, /could not sample pending patches: UNAVAILABLE/);
    assert.ok(!ds[0].detail.includes(fake.clientSecret));
  });
});

describe('Tactical RMM diagnose', () => {
  const tactical = async (
    o: { timeZone?: string; canViewCoreSettings?: boolean } = {},
  ): Promise<[FakeTacticalRmm, ReturnType<typeof createTacticalRmm>]> => {
    const fake = await startFakeTacticalRmm(
      o.canViewCoreSettings === undefined ? {} : { canViewCoreSettings: o.canViewCoreSettings },
    );
    closers.push(() => fake.close());
    const rmm = createTacticalRmm(
      {
        apiUrl: fake.url,
        apiKey: fake.apiKey,
        retries: 1,
        retryBaseMs: 5,
        ...(o.timeZone ? { timeZone: o.timeZone } : {}),
      },
      deps,
    );
    return [fake, rmm];
  };
  const of = (ds: Diagnosis[], part: string) => ds.filter((d) => d.part === part);

  it('names each site and agent whose policy auto-approves, with the fix', async () => {
    const [, rmm] = await tactical();
    const ds = await rmm.diagnose();
    const policy = of(ds, 'patch-policy');
    const approve = policy.filter((d) => /auto-approves/.test(d.detail));
    // The seed: site Berlin HQ's workstation automation policy approves Critical and
    // Important, and agent WS-BERLIN-02's effective policy is that one.
    assert.deepEqual(
      approve.map((d) => d.detail.split(' (')[0]).sort(),
      ['agent WS-BERLIN-02', 'site "Berlin HQ"'],
      lines(ds),
    );
    for (const d of approve) {
      assert.equal(d.state, 'warn');
      assert.match(
        d.detail,
        /auto-approves critical, important updates: set every severity to Manual/,
      );
    }
    // The same policy reboots after install and installs daily: each its own line.
    assert.ok(
      policy.some((d) => /WS-BERLIN-02 .*Reboot after installation" to Never/.test(d.detail)),
    );
    assert.ok(
      policy.some((d) => /Berlin HQ.*installs approved updates on a daily schedule/.test(d.detail)),
    );
    assert.ok(!policy.some((d) => /Munich|WS-BERLIN-01|Globex/.test(d.detail)), lines(ds));
    const [tz] = of(ds, 'time-zone');
    assert.equal(tz?.state, 'ok');
    assert.match(
      tz.detail,
      /Europe\/Berlin, read from \/core\/settings\/ \(TACTICAL_TIME_ZONE not needed\)/,
    );
  });

  it('is ok when every policy is Manual and TACTICAL_TIME_ZONE is set', async () => {
    const [fake, rmm] = await tactical({ timeZone: 'Europe/Berlin' });
    for (const p of fake.state.policies) if (p.patch) Object.assign(p.patch, MANUAL);
    fake.setPolicy(agentIdOf('ws-berlin-02'), MANUAL);
    const ds = await rmm.diagnose();
    assert.deepEqual(
      ds.map((d) => [d.part, d.state]),
      [
        ['patch-policy', 'ok'],
        ['time-zone', 'ok'],
      ],
      lines(ds),
    );
    assert.match(ds[0]!.detail, /\(\d+ client\/site scopes and 5 Windows agents checked\)/);
    assert.equal(ds[1]!.detail, 'TACTICAL_TIME_ZONE=Europe/Berlin');
    assert.equal(fake.requestsTo('GET', /^\/core\/settings\/$/).length, 0);
  });

  it('says TACTICAL_TIME_ZONE is needed when the key may not read core settings', async () => {
    const [, rmm] = await tactical({ canViewCoreSettings: false });
    const [tz] = of(await rmm.diagnose(), 'time-zone');
    assert.equal(tz?.state, 'warn');
    assert.match(tz.detail, /set TACTICAL_TIME_ZONE .*View Core Settings permission/);
  });
});
