import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebClient } from '@slack/web-api';
import { startFakeSlack, type FakeSlack } from '../fakes/slack/web-api.js';

describe('fake Slack: file uploads (getUploadURLExternal → upload → completeUploadExternal)', () => {
  let fake: FakeSlack;
  let client: WebClient;
  before(async () => {
    fake = await startFakeSlack();
    client = new WebClient('xoxb-test', { slackApiUrl: fake.url, retryConfig: { retries: 0 } });
  });
  after(async () => fake.close());

  it('filesUploadV2 shares the bytes in the channel with the comment', async () => {
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    const r = await client.filesUploadV2({
      channel_id: 'C0001',
      file: bytes,
      filename: 'chart.png',
      title: 'Chart',
      initial_comment: 'the weekly report',
    });
    assert.equal(r.ok, true);
    const [file] = [...fake.files.values()];
    assert.deepEqual(file?.bytes, bytes);
    assert.deepEqual([file?.title, file?.channels], ['Chart', ['C0001']]);
    const share = fake.messages.get('C0001')?.at(-1);
    assert.equal(share?.text, 'the weekly report');
    assert.equal((share?.files?.[0] as { name?: string }).name, 'chart.png');
  });

  it('answers as Slack does: no length, a file never uploaded, a missing scope', async () => {
    await assert.rejects(
      client.files.getUploadURLExternal({ filename: 'x.png', length: 0 }),
      /invalid_arguments/,
    );
    const { file_id } = await client.files.getUploadURLExternal({ filename: 'x.png', length: 3 });
    await assert.rejects(
      client.files.completeUploadExternal({ files: [{ id: file_id! }], channel_id: 'C0001' }),
      /file_not_found/,
    );
    fake.scopes.splice(fake.scopes.indexOf('files:write'), 1);
    await assert.rejects(
      client.files.getUploadURLExternal({ filename: 'x.png', length: 3 }),
      /missing_scope/,
    );
  });
});
