import type { WebClient } from '@slack/web-api';
import type { ImageFile, PostedMessage } from '../../adapters/chat/types.js';
import { withRateLimit } from './retry.js';

/**
 * Shares an image in a channel with `text` as its message, the way Slack takes files now
 * (WebClient.filesUploadV2: files.getUploadURLExternal, the upload, then
 * files.completeUploadExternal; scope files:write). The message's reference is the file id:
 * Slack shares the file asynchronously and names no message ts. With `recheck`, the
 * channel's recent history is searched for the file name first, so a retry does not share
 * a second copy.
 */
export async function postSlackImage(
  client: WebClient,
  conversation: string,
  image: ImageFile,
  text: string,
  opts: { recheck: boolean },
): Promise<PostedMessage> {
  if (opts.recheck) {
    const found = await findSlackImage(client, conversation, image.filename);
    if (found) return found;
  }
  const r = await withRateLimit(() =>
    client.filesUploadV2({
      channel_id: conversation,
      file: Buffer.from(image.png),
      filename: image.filename,
      title: image.title,
      alt_text: image.altText,
      initial_comment: text,
    }),
  );
  const id = r.files
    .flatMap((c) => (c as { files?: Array<{ id?: string }> }).files ?? [])
    .find((f) => f.id)?.id;
  if (!id) throw new Error(`files.completeUploadExternal to ${conversation} returned no file id`);
  return { conversation, messageRef: id };
}

/** The file share of `filename` among the channel's last 100 messages, if any. */
export async function findSlackImage(
  client: WebClient,
  conversation: string,
  filename: string,
): Promise<PostedMessage | undefined> {
  const r = await withRateLimit(() =>
    client.conversations.history({ channel: conversation, limit: 100 }),
  );
  for (const m of r.messages ?? []) {
    const file = m.files?.find((f) => f.name === filename);
    if (file?.id) return { conversation, messageRef: file.id };
  }
  return undefined;
}
