import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detailsModal, renderBlocks } from '../../bot/cards/block-kit.js';
import type { PatchPage } from '../../bot/cards/model.js';
import { riskLines } from '../../bot/cards/text.js';
import { renderAdaptiveCard, renderDetailsCard } from '../../bot/teams/adaptive.js';
import type { RiskInputs } from '../../domain/risk-order.js';
import { checkView } from '../fakes/slack/block-kit.js';
import { sampleCard } from '../helpers/cards.js';

const risk: RiskInputs = {
  tier: 'act',
  timeline: '3 days',
  cve: 'CVE-2026-58312',
  cvss: 9.1,
  vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:L/A:N',
  epss: 0.37,
  kev: true,
  kevDueDate: '2026-12-05',
  exploitation: 'active',
  automatable: true,
  technicalImpact: 'partial',
  internetExposed: true,
  criticality: 'high',
  tieBreaker: 92,
  dueAt: '2026-11-17T00:00:00.000Z',
  ftc: 'operating_system',
  source: 'intel',
  deviceId: 'acme-ws1',
};

const page: PatchPage = {
  rolloutId: 'r-acme',
  page: 0,
  pages: 1,
  total: 2,
  patches: [
    {
      patchId: 'win:KB5091542',
      title: 'Cumulative Update',
      severity: 'critical',
      cves: ['CVE-2026-58312'],
      kev: true,
      decision: 'needs_approval',
      devices: 2,
      risk,
    },
    // A plan made before tiers has no risk inputs; the row renders as before.
    {
      patchId: 'app:7zip',
      title: '7-Zip',
      severity: 'moderate',
      cves: [],
      kev: false,
      decision: 'auto',
      devices: 1,
      risk: null,
    },
  ],
};

describe('risk on cards', () => {
  it('spells out the tie-breaker with its raw inputs', () => {
    assert.deepEqual(riskLines(risk), [
      'act (3 days) · due 2026-11-17 00:00 UTC · operating system',
      'tie-breaker 92 = CVSS 9.1 × (active 3 + EPSS 0.37) × high criticality 3',
      'CVE-2026-58312 · KEV (CISA due 2026-12-05) · internet-exposed · automatable · partial impact · on acme-ws1 · intel',
    ]);
    const vendorOnly = riskLines({
      ...risk,
      cvss: null,
      epss: null,
      kev: false,
      cve: null,
      source: 'patch',
    });
    assert.match(vendorOnly[1] ?? '', /CVSS n\/a \(vendor severity\) × \(active 3\)/);
    assert.match(vendorOnly[2] ?? '', /^no CVE listed · not in KEV .* vendor data$/);
  });

  it('Slack details and Teams details show them under each patch', () => {
    const slack = JSON.stringify(detailsModal(page));
    assert.match(slack, /tie-breaker 92 = CVSS 9\.1/);
    assert.match(slack, /KEV \(CISA due 2026-12-05\)/);
    const teams = JSON.stringify(renderDetailsCard(page));
    assert.match(teams, /tie-breaker 92 = CVSS 9\.1/);
    assert.equal(teams.match(/tie-breaker/g)?.length, 1, 'only the row that has inputs');
  });

  it('a full page of patches with risk inputs stays inside Slack’s modal limits', () => {
    const full: PatchPage = {
      ...page,
      pages: 3,
      total: 45,
      patches: Array.from({ length: 15 }, (_, i) => ({
        ...page.patches[0]!,
        patchId: `KB${i}`,
        title: 't'.repeat(400),
        cves: Array.from({ length: 20 }, (_, j) => `CVE-2026-${j}`),
      })),
    };
    assert.deepEqual(checkView(detailsModal(full), ['modal']), []);
  });

  it('the rollout card names the most urgent tier and its due date', () => {
    const card = sampleCard({ urgency: { tier: 'forensic', dueAt: '2026-11-17T00:00:00.000Z' } });
    assert.match(
      JSON.stringify(renderBlocks(card)),
      /Most urgent\*\\nforensic — due 2026-11-17 00:00 UTC/,
    );
    assert.match(
      JSON.stringify(renderAdaptiveCard(card)),
      /"title":"Most urgent","value":"forensic — due 2026-11-17 00:00 UTC"/,
    );
    assert.doesNotMatch(JSON.stringify(renderBlocks(sampleCard())), /Most urgent/);
  });
});
