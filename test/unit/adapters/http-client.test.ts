import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { z } from 'zod';
import { createHttpClient } from '../../../adapters/http/client.js';
import { HttpFailure } from '../../../adapters/http/errors.js';
import { json, startFakeHttp, type FakeHttpServer } from '../../fakes/http/server.js';

const SECRET = 'hunter2-very-secret-password';
const lines: string[] = [];
const log = pino(
  { level: 'debug' },
  new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  }),
);

const thing = z.object({ id: z.string(), count: z.number() });

describe('shared HTTP plumbing', () => {
  let fake: FakeHttpServer;
  let created = 0;
  before(async () => {
    fake = await startFakeHttp([
      { method: 'GET', pattern: /^\/thing$/, handler: () => json(200, { id: 'a', count: 1 }) },
      {
        method: 'POST',
        pattern: /^\/thing$/,
        handler: () => json(201, { id: `n${++created}`, count: created }),
      },
      { method: 'GET', pattern: /^\/odd$/, handler: () => json(200, { id: 7, count: 'x' }) },
      {
        method: 'GET',
        pattern: /^\/leaky$/,
        handler: () => json(400, { error: { message: `bad password ${SECRET}`, detail: 'no' } }),
      },
    ]);
  });
  after(() => fake.close());

  const client = (timeoutMs = 2_000) =>
    createHttpClient({
      vendor: 'Acme',
      baseURL: fake.url,
      log,
      timeoutMs,
      retryBaseMs: 10,
      maxRetryAfterMs: 2_000,
      secrets: [SECRET],
      headers: { Authorization: `Basic ${Buffer.from(`me:${SECRET}`).toString('base64')}` },
    });

  it('retries a GET after a 500 and parses the answer', async () => {
    fake.fault({ method: 'GET', path: /^\/thing$/, status: 500, times: 2 });
    const before = fake.requestsTo('GET', /^\/thing$/).length;
    const r = await client().request({ method: 'GET', url: '/thing', schema: thing });
    assert.deepEqual(r.data, { id: 'a', count: 1 });
    assert.equal(fake.requestsTo('GET', /^\/thing$/).length - before, 3);
    const ua = fake.requests.at(-1)!.headers['user-agent'];
    assert.match(ua ?? '', /^patchops\//);
  });

  it('never repeats a POST that got a 500: the outcome is unknown', async () => {
    fake.fault({ method: 'POST', path: /^\/thing$/, status: 500 });
    const before = fake.requestsTo('POST', /^\/thing$/).length;
    await assert.rejects(
      client().request({ method: 'POST', url: '/thing', data: {}, schema: thing }),
      (e: unknown) => e instanceof HttpFailure && e.kind === 'outcome_unknown' && e.retryable,
    );
    assert.equal(fake.requestsTo('POST', /^\/thing$/).length - before, 1);
  });

  it('treats a POST that timed out after the vendor acted as unknown, not failed', async () => {
    fake.fault({ method: 'POST', path: /^\/thing$/, commitThenHang: true });
    const createdBefore = created;
    await assert.rejects(
      client(300).request({ method: 'POST', url: '/thing', data: {}, schema: thing }),
      (e: unknown) => e instanceof HttpFailure && e.kind === 'outcome_unknown',
    );
    assert.equal(created, createdBefore + 1, 'the fake did the work once');
  });

  it('retries a POST refused with 429, waiting as Retry-After says', async () => {
    fake.fault({ method: 'POST', path: /^\/thing$/, status: 429, retryAfterSeconds: 1 });
    const t0 = Date.now();
    const r = await client().request({ method: 'POST', url: '/thing', data: {}, schema: thing });
    assert.ok(Date.now() - t0 >= 950, 'waited for Retry-After');
    assert.match(r.data.id, /^n\d+$/);
  });

  it('gives a long Retry-After back to the caller instead of waiting in-process', async () => {
    fake.fault({ method: 'GET', path: /^\/thing$/, status: 429, retryAfterSeconds: 3600 });
    await assert.rejects(
      client().request({ method: 'GET', url: '/thing', schema: thing }),
      (e: unknown) =>
        e instanceof HttpFailure &&
        e.kind === 'rate_limited' &&
        e.details.retryAfterMs !== undefined &&
        e.details.retryAfterMs > 3_000_000,
    );
  });

  it('fails a wire-format mismatch naming vendor, endpoint and field, without retrying', async () => {
    const before = fake.requestsTo('GET', /^\/odd$/).length;
    await assert.rejects(
      client().request({ method: 'GET', url: '/odd', schema: thing }),
      (e: unknown) =>
        e instanceof HttpFailure &&
        e.kind === 'wire_format' &&
        !e.retryable &&
        e.message.startsWith('Acme GET /odd:') &&
        /\bid\b/.test(e.message) &&
        /\bcount\b/.test(e.message),
    );
    assert.equal(fake.requestsTo('GET', /^\/odd$/).length - before, 1);
  });

  it('keeps secrets out of errors and log lines', async () => {
    fake.fault({ method: 'GET', path: /^\/thing$/, status: 503 });
    await client().request({ method: 'GET', url: '/thing', schema: thing });
    const err = await client()
      .request({ method: 'GET', url: '/leaky', schema: thing })
      .catch((e: unknown) => e);
    assert.ok(err instanceof HttpFailure && err.kind === 'bad_request');
    const basic = Buffer.from(`me:${SECRET}`).toString('base64');
    const everything = [
      err.message,
      JSON.stringify(err),
      JSON.stringify(err.details.body),
      String(err.stack),
      ...lines,
    ].join('\n');
    assert.ok(
      lines.some((l) => l.includes('retrying')),
      'the retry was logged',
    );
    assert.ok(!everything.includes(SECRET), 'password leaked');
    assert.ok(!everything.includes(basic), 'Authorization header leaked');
    assert.match(err.message, /bad password \[redacted\]/);
  });
});
