/**
 * What the NinjaOne contract tests share: an adapter wired to a fresh fake NinjaOne with a
 * movable clock, a log that keeps every line (so tests can prove no secret reaches it), and
 * helpers to expect an RmmError code and to poll a job to its end.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { createHttpClient } from '../../../adapters/http/client.js';
import type { AdapterDeps } from '../../../adapters/kit.js';
import {
  createNinjaOne,
  ninjaoneSettingsSchema,
  type NinjaOneAdapter,
} from '../../../adapters/rmm/ninjaone/index.js';
import { RmmError, type JobStatus, type RmmErrorCode } from '../../../adapters/rmm/types.js';
import { startFakeNinjaOne, type FakeNinjaOne, type FakeNinjaOneOptions } from './index.js';

/** Every log line and error message the tests saw. */
export const logLines: string[] = [];
export const errorTexts: string[] = [];
/** Every client secret handed out; none may appear in logLines or errorTexts. */
export const secrets = new Set<string>();
const log = pino(
  { level: 'debug' },
  new Writable({ write: (chunk: Buffer, _e, cb) => (logLines.push(chunk.toString()), cb()) }),
);
const fakes: FakeNinjaOne[] = [];
/** Closes every fake started by `setup`; call from the test file's `after`. */
export const closeFakes = () => Promise.all(fakes.map((f) => f.close()));

export interface Setup {
  fake: FakeNinjaOne;
  rmm: NinjaOneAdapter;
  /** Moves the adapter's clock (not the fake's). */
  shiftClock: (ms: number) => void;
}

/** A fresh fake NinjaOne and an adapter on it (report page size 2, short timeouts). */
export async function setup(
  fakeOpts: FakeNinjaOneOptions = {},
  env: Record<string, string> = {},
): Promise<Setup> {
  const fake = await startFakeNinjaOne(fakeOpts);
  fakes.push(fake);
  secrets.add(fake.clientSecret);
  const settings = ninjaoneSettingsSchema.parse({
    NINJAONE_BASE_URL: fake.url,
    NINJAONE_CLIENT_ID: fake.clientId,
    NINJAONE_CLIENT_SECRET: fake.clientSecret,
    NINJAONE_TIMEOUT_MS: '1500',
    NINJAONE_PAGE_SIZE: '2',
    ...env,
  });
  let offset = 0;
  const deps: AdapterDeps = {
    log,
    http: (o) => createHttpClient({ ...o, log }),
    clock: () => new Date(Date.now() + offset),
    dataDir: mkdtempSync(path.join(tmpdir(), 'ninjaone-')),
  };
  const rmm = createNinjaOne({ ...settings, retryBaseMs: 10 }, deps);
  return { fake, rmm, shiftClock: (ms) => (offset += ms) };
}

/** Expects `p` to fail with RmmError `code`; keeps the message for the secrets check. */
export async function rejects(p: Promise<unknown>, code: RmmErrorCode): Promise<RmmError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof RmmError, `expected RmmError ${code}, got ${String(err)}`);
    errorTexts.push(err.message, String(err.stack));
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

export async function poll<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  ms = 10_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export const finished = (rmm: NinjaOneAdapter, jobId: string) =>
  poll<JobStatus>('job to finish', async () => {
    const s = await rmm.readJob(jobId);
    return s.state === 'succeeded' || s.state === 'failed' ? s : undefined;
  });

export const outcomes = (s: JobStatus) =>
  Object.fromEntries(s.results.map((r) => [r.patchId, r.outcome]));
export const KB = (kb: string) => `ninjaone:os:${kb}`;
const sw = (product: string, title: string) => `ninjaone:sw:${product}:${title}`;
export const CHROME = sw('2f6a1f0c-6c1e-4a8b-9d4e-0c9b6f1e2a01', 'google-chrome-130.0.6723.92');
export const JAVA = sw('c1e5a7b9-3d2f-4e6a-9b8c-5d7e9f1a3b03', 'java-8-update-431');
