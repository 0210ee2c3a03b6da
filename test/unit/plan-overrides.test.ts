import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deviceOverrides, toSettings } from '../../domain/policy-settings.js';
import { effectivePolicy, parsePolicy, type PolicyDocument } from '../../domain/policy/index.js';

const doc = (yaml: string): PolicyDocument => {
  const r = parsePolicy(yaml, 'test.yaml');
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.policy;
};
const timing = { jobPollMs: 50, offlineRetryMs: 1_000 };

describe('device overrides from the policy cascade', () => {
  const policies = [
    doc('scope: { level: global }\nreboot: { mode: if_required }'),
    doc(`scope: { level: site, id: acme-berlin }
windows:
  - { name: nights, rule: { daily: true }, start: "02:00", duration: 3h, timezone: site }`),
    doc(
      'scope: { level: group, id: sql }\nreboot: { mode: never }\nrollback: { onFailure: uninstall }',
    ),
  ];
  const settingsFor = (siteId: string, groups: string[]) =>
    toSettings(effectivePolicy(policies, { clientId: 'acme', siteId, groups }).policy, timing);
  const client = settingsFor('', []);

  it('is undefined where the device inherits the client level', () => {
    assert.equal(deviceOverrides(settingsFor('acme-paris', ['web']), client), undefined);
  });

  it("carries only what the device's site or groups set differently", () => {
    const berlin = deviceOverrides(settingsFor('acme-berlin', []), client);
    assert.deepEqual(Object.keys(berlin ?? {}), ['windows']);
    assert.equal(berlin?.windows?.[0]?.name, 'nights');
    const sql = deviceOverrides(settingsFor('acme-paris', ['sql']), client);
    assert.deepEqual(sql, {
      reboot: { ...client.reboot, mode: 'never' },
      uninstallOnFailure: true,
    });
  });
});
