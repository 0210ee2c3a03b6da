/**
 * A scan against an RMM that refuses patchops for good (revoked credentials) fails at once
 * with a non-retryable failure naming the vendor's error, instead of being retried for the
 * scan activity's two hours; an outage (5xx) stays retryable.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import { rmmRegistry } from '../../../adapters/rmm/registry.js';
import { adapterDeps } from '../../../adapters/kit.js';
import { createActivities } from '../../../activities/index.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { testDeps } from '../../helpers/deps.js';
import { RMM_FAKES, type RmmFake } from '../../helpers/rmm-fakes.js';
import { testLog } from '../../helpers/temporal.js';

const vendor = RMM_FAKES.find((v) => v.kind === 'tacticalrmm')!;

describe('scan failures', () => {
  let db: TestDatabase;
  let fake: RmmFake;
  before(async () => {
    db = await createTestDatabase();
    fake = await vendor.start();
  });
  after(async () => {
    await fake.close();
    await db.drop();
  });

  const scan = async (env: Record<string, string>) => {
    const parsed = rmmRegistry.parseSettings(vendor.kind, env);
    assert.ok(parsed.ok, JSON.stringify(parsed));
    const settings = { ...(parsed.settings as object), ...vendor.fastSettings };
    const rmm = rmmRegistry.create(vendor.kind, settings, adapterDeps(testLog, '/tmp'));
    const acts = createActivities({ ...testDeps(db.store), rmm });
    const started = Date.now();
    const err = await new MockActivityEnvironment()
      .run((a: { clientId: string; scanId: string }) => acts.scanClient(a), {
        clientId: vendor.clientId,
        scanId: 'scan-1',
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    return { err, ms: Date.now() - started };
  };

  it('revoked credentials fail the scan at once, not retryable, naming the cause', async () => {
    const env = { ...vendor.env(fake), TACTICAL_API_KEY: 'REVOKEDKEY0000000000000000000000' };
    const { err, ms } = await scan(env);
    assert.ok(
      err instanceof ApplicationFailure,
      `expected an ApplicationFailure, got ${String(err)}`,
    );
    assert.equal(err.nonRetryable, true);
    assert.match(String(err.type), /AUTH/);
    assert.ok(ms < 10_000, `took ${ms} ms`);
    const devices = await db.pool.query<{ n: number }>(`select count(*)::int as n from devices`);
    assert.equal(devices.rows[0]!.n, 0, 'nothing recorded');
  });

  it('an outage stays retryable (the activity is retried later)', async () => {
    fake.fault({ path: /.*/, status: 503, times: 100 });
    const { err } = await scan(vendor.env(fake));
    assert.ok(err instanceof Error);
    assert.ok(!(err instanceof ApplicationFailure && err.nonRetryable), String(err));
  });
});
