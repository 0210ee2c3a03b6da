import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger, redactUrl } from '../../../cli/logger.js';

describe('secrets in logs', () => {
  it('redactUrl hides the password of a connection URL', () => {
    assert.equal(redactUrl('postgres://u:s3cret@h:5432/db'), 'postgres://u:***@h:5432/db');
    assert.equal(redactUrl('not a url'), '[unparseable url]');
  });

  it('the logger replaces secret-bearing fields', () => {
    let out = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const log = createLogger({ level: 'info', format: 'json' }, 'test', sink);
    log.info(
      {
        databaseUrl: 'postgres://u:pw@h/db',
        token: 'xoxb-1',
        temporal: { apiKey: 'k-123' },
        device: 'ws-01',
      },
      'hello',
    );
    assert.ok(!out.includes('xoxb-1'), out);
    assert.ok(!out.includes('pw@h'), out);
    assert.ok(!out.includes('k-123'), out);
    assert.match(out, /"device":"ws-01"/);
    assert.equal(out.match(/\[redacted\]/g)?.length, 3);
  });
});
