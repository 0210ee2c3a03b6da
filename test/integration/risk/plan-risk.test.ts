import { MockActivityEnvironment } from '@temporalio/testing';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPlanActivities, type PlanResult } from '../../../activities/plan.js';
import { buildPatchPage } from '../../../bot/cards/build.js';
import type { Device, Patch } from '../../../domain/model.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { policy, testDeps } from '../../helpers/deps.js';

/*
 * Two clients share patch ids. Intel (KEV, NVD, EPSS) comes from PostgreSQL rows written
 * here; the 7-Zip and Defender patches name no CVE and stand on their own fields.
 *
 * win:KB5091542 — CVE-2026-58312: KEV (added 2026-11-14, due 2026-12-05), NVD vector
 *   AV:N/PR:N/UI:N (automatable), C:H/I:L (partial). Exposed acme devices: KEV, exposed,
 *   automatable, partial → 3 days (act), from the KEV listing (later than first seen).
 *   Globex (not exposed) → 14 days (attend) from first seen 2026-11-25 → 2026-12-09, but
 *   CISA's due date (end of 2026-12-05) is earlier.
 * app:chrome — CVE-2026-7001: EPSS 0.8 (→ public_poc, not active), vector UI:R (not
 *   automatable), C:H/I:H (total). Exposed → 14 days (attend; acme's policy says 7d);
 *   not exposed → fix on system upgrade (upgrade, 90d).
 * app:7zip (CVSS 7.8, moderate) and av:defs: not automatable, partial; exposed → 60 days.
 */

const FIRST_SEEN_ACME = '2026-11-12T09:00:00Z';
const FIRST_SEEN_GLOBEX = '2026-11-25T08:00:00Z';

const device = (d: Partial<Device> & Pick<Device, 'id' | 'clientId'>): Device => ({
  siteId: `${d.clientId}-hq`,
  hostname: d.id,
  osFamily: 'windows',
  osVersion: '11 25H2',
  tags: [],
  criticality: 'medium',
  internetExposed: false,
  timezone: 'UTC',
  online: true,
  rmmKind: 'simulator',
  rmmRef: d.id,
  ...d,
});
const patch = (p: Partial<Patch> & Pick<Patch, 'id'>): Patch => ({
  vendorRef: p.id,
  title: p.id,
  product: 'Windows 11 Version 25H2',
  kind: 'application',
  category: 'third_party',
  vendorSeverity: 'moderate',
  cvss: null,
  epss: null,
  kev: false,
  cveIds: [],
  releaseDate: '2026-11-10',
  rebootRequired: false,
  uninstallable: true,
  ...p,
});

const PATCHES: Patch[] = [
  patch({
    id: 'win:KB5091542',
    kind: 'os',
    category: 'security',
    vendorSeverity: 'critical',
    cvss: 8.8,
    epss: 0.37,
    kev: true,
    cveIds: ['CVE-2026-58312'],
  }),
  patch({
    id: 'app:chrome',
    product: 'Google Chrome',
    vendorSeverity: 'important',
    cvss: 8.8,
    cveIds: ['CVE-2026-7001'],
  }),
  patch({ id: 'app:7zip', product: '7-Zip', cvss: 7.8 }),
  patch({
    id: 'av:defs',
    product: 'Microsoft Defender Antivirus',
    category: 'definition',
    vendorSeverity: 'none',
  }),
];

const ACME = policy(`
scope: { level: client, id: acme }
approval:
  default: auto
  rules:
    - { tiers: [forensic, act], rings: [pilot], action: auto }
    - { tiers: [forensic, act], action: needs_approval }
rings:
  - { name: pilot, members: { groups: [canary] }, soak: 1h }
  - { name: broad, members: { percent: 100 }, soak: 0s }
sla: { attend: 7d }
`);

describe('planning with risk tiers, SLA due dates and order (PostgreSQL)', () => {
  let db: TestDatabase;
  let activities: ReturnType<typeof createPlanActivities>;
  // In an activity's context, as the worker runs it (it heartbeats per page).
  const plan = (a: { rolloutId: string; clientId: string }): Promise<PlanResult> =>
    new MockActivityEnvironment().run((x: typeof a) => activities.planRollout(x), a);
  const results: Record<string, PlanResult> = {};

  before(async () => {
    db = await createTestDatabase();
    const { store } = db;
    activities = createPlanActivities(testDeps(store, { policies: [ACME] }));
    await store.inventory.upsertClients([
      { id: 'acme', name: 'Acme' },
      { id: 'globex', name: 'Globex' },
    ]);
    await store.inventory.upsertSites(
      ['acme', 'globex'].map((c) => ({ id: `${c}-hq`, clientId: c, name: 'HQ', timezone: 'UTC' })),
    );
    // Planning reads devices the rollout's own inventory sync saw: create rollouts first.
    for (const c of ['acme', 'globex'])
      await store.rollouts.create({ id: `r-${c}`, clientId: c, startedBy: 'test', policy: {} });
    await store.inventory.upsertDevices([
      device({
        id: 'acme-ws1',
        clientId: 'acme',
        tags: ['canary'],
        internetExposed: true,
        criticality: 'high',
      }),
      device({ id: 'acme-ws2', clientId: 'acme', internetExposed: true }),
      device({ id: 'globex-ws1', clientId: 'globex', criticality: 'low' }),
    ]);
    await store.inventory.upsertPatches(PATCHES);
    await store.inventory.recordScan(
      'acme-ws1',
      ['win:KB5091542', 'app:chrome', 'app:7zip', 'av:defs'],
      [],
    );
    await store.inventory.recordScan('acme-ws2', ['win:KB5091542'], []);
    await store.inventory.recordScan('globex-ws1', ['win:KB5091542', 'app:chrome'], []);
    await db.pool.query(
      `update device_patches set detected_at = case when device_id like 'acme%' then $1::timestamptz else $2::timestamptz end`,
      [FIRST_SEEN_ACME, FIRST_SEEN_GLOBEX],
    );
    await db.pool.query(
      `insert into intel_kev (cve_id, vendor_project, product, vulnerability_name, date_added,
         short_description, required_action, due_date, known_ransomware, notes)
       values ('CVE-2026-58312', 'Microsoft', 'Windows', 'Windows RCE', '2026-11-14', 'x', 'patch',
         '2026-12-05', 'Unknown', '')`,
    );
    await db.pool.query(
      `insert into intel_nvd (cve_id, last_modified, cvss_version, base_score, vector_string, metric_type, metric_source)
       values ('CVE-2026-58312', '2026-11-14T00:00:00', '3.1', 9.1, 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:L/A:N', 'Primary', 'nvd@nist.gov'),
              ('CVE-2026-7001', '2026-11-14T00:00:00', '3.1', 8.8, 'CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H', 'Primary', 'nvd@nist.gov')`,
    );
    await db.pool.query(
      `insert into intel_epss (cve_id, epss, percentile, score_date) values ('CVE-2026-7001', 0.8, 0.99, '2026-11-20')`,
    );
    for (const c of ['acme', 'globex'])
      results[c] = await plan({ rolloutId: `r-${c}`, clientId: c });
  });
  after(async () => db?.drop());

  const pairs = async () =>
    (
      await db.pool.query<{ device_id: string; patch_id: string; risk_tier: string; due: string }>(
        `select device_id, patch_id, risk_tier, to_char(due_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI') as due
         from device_patches order by device_id, patch_id`,
      )
    ).rows.map((r) => `${r.device_id} ${r.patch_id} ${r.risk_tier} ${r.due}`);

  it('stores each device × patch tier and due date, per client', async () => {
    assert.deepEqual(await pairs(), [
      'acme-ws1 app:7zip track 2027-01-11T09:00',
      'acme-ws1 app:chrome attend 2026-11-19T09:00', // acme's sla: attend 7d
      'acme-ws1 av:defs track 2027-01-11T09:00',
      'acme-ws1 win:KB5091542 act 2026-11-17T00:00', // from the KEV listing 2026-11-14
      'acme-ws2 win:KB5091542 act 2026-11-17T00:00',
      'globex-ws1 app:chrome upgrade 2027-02-23T08:00',
      'globex-ws1 win:KB5091542 attend 2026-12-06T00:00', // CISA's KEV due date
    ]);
  });

  it('orders each rollout: tier, then FTC group, then tie-breaker', async () => {
    const order = async (rolloutId: string) =>
      (
        await db.pool.query<{ patch_id: string; risk_tier: string; due: string; rank: number }>(
          `select patch_id, risk_tier, rank, to_char(due_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI') as due
           from rollout_patches where rollout_id = $1 order by rank`,
          [rolloutId],
        )
      ).rows.map((r) => `${r.rank} ${r.patch_id} ${r.risk_tier} ${r.due}`);
    assert.deepEqual(await order('r-acme'), [
      '1 win:KB5091542 act 2026-11-17T00:00',
      '2 app:chrome attend 2026-11-19T09:00',
      '3 av:defs track 2027-01-11T09:00', // security software before other apps
      '4 app:7zip track 2027-01-11T09:00',
    ]);
    assert.deepEqual(await order('r-globex'), [
      '1 win:KB5091542 attend 2026-12-06T00:00',
      '2 app:chrome upgrade 2027-02-23T08:00',
    ]);
    const devices = await db.pool.query<{ device_id: string; ring: string; patch_ids: string[] }>(
      `select device_id, ring, patch_ids from rollout_devices order by device_id`,
    );
    assert.deepEqual(devices.rows, [
      {
        device_id: 'acme-ws1',
        ring: 'pilot',
        patch_ids: ['win:KB5091542', 'app:chrome', 'av:defs', 'app:7zip'],
      },
      { device_id: 'acme-ws2', ring: 'broad', patch_ids: ['win:KB5091542'] },
      { device_id: 'globex-ws1', ring: 'broad', patch_ids: ['win:KB5091542', 'app:chrome'] },
    ]);
  });

  it('auto-approves the act tier in the pilot ring and asks before broad', () => {
    const acme = results.acme!;
    assert.equal(acme.needsApproval, false);
    assert.deepEqual(
      acme.settings.rings.map((r) => [r.name, r.promotion]),
      [
        ['pilot', 'manual'],
        ['broad', 'auto'],
      ],
    );
    assert.deepEqual(acme.summary.approvalBefore, ['broad']);
    // Globex has no client policy: the global default asks before anything starts.
    assert.equal(results.globex!.needsApproval, true);
    assert.equal(results.globex!.summary.approvalBefore, undefined);
  });

  it('shows the tie-breaker and its raw inputs on the card’s details', async () => {
    const page = await buildPatchPage(db.store, 'r-acme', 0);
    assert.deepEqual(
      page.patches.map((p) => p.patchId),
      ['win:KB5091542', 'app:chrome', 'av:defs', 'app:7zip'],
    );
    const kb = page.patches[0]!.risk!;
    assert.deepEqual(
      { ...kb },
      {
        tier: 'act',
        timeline: '3 days',
        cve: 'CVE-2026-58312',
        cvss: 9.1, // NVD's, not the vendor's 8.8
        vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:L/A:N',
        epss: 0.37, // intel has none: the patch's own
        kev: true,
        kevDueDate: '2026-12-05',
        exploitation: 'active',
        automatable: true,
        technicalImpact: 'partial',
        internetExposed: true,
        criticality: 'high', // acme-ws1 outranks acme-ws2 (medium)
        tieBreaker: 92.0, // 9.1 × (3 + 0.37) × 3, rounded
        dueAt: '2026-11-17T00:00:00.000Z',
        ftc: 'operating_system',
        source: 'intel',
        deviceId: 'acme-ws1',
      },
    );
  });

  it('planning again writes the same plan (a retried activity)', async () => {
    const before = await pairs();
    const again = await plan({ rolloutId: 'r-acme', clientId: 'acme' });
    assert.deepEqual(again, results.acme);
    assert.deepEqual(await pairs(), before);
  });
});
