/**
 * File uploads as Slack documents them since files.upload was retired
 * (https://docs.slack.dev/reference/methods/files.getUploadURLExternal and
 * …/files.completeUploadExternal), both needing `files:write`:
 *  1. files.getUploadURLExternal { filename, length, alt_txt? } → { upload_url, file_id };
 *  2. POST the bytes to upload_url, raw or multipart/form-data → HTTP 200 "OK - <length>";
 *  3. files.completeUploadExternal { files: [{ id, title? }], channel_id?, initial_comment?,
 *     thread_ts? } → { files: [...] }; with channel_id the file is shared there as a message
 *     whose text is initial_comment.
 * Upload URLs live on the fake's own origin under /upload/v1/<file id> (uploadBytes below).
 */
import {
  fail,
  invalidArguments,
  str,
  type ApiResult,
  type Body,
  type MethodSpec,
} from './state.js';
import { FAKE_WORKSPACE } from './workspace.js';

/** A file as the fake holds it: announced, then uploaded, then (maybe) shared. */
export interface FakeFile {
  id: string;
  filename: string;
  length: number;
  altText?: string;
  title?: string;
  /** What the upload URL received; undefined until then. */
  bytes?: Buffer;
  /** Channels it was shared to by files.completeUploadExternal. */
  channels: string[];
  completed: boolean;
}

export class FakeFiles {
  readonly byId = new Map<string, FakeFile>();
  private counter = 0;

  nextId(): string {
    this.counter += 1;
    return `F${String(this.counter).padStart(10, '0')}`;
  }
}

/** The file object files.completeUploadExternal answers with (the fields apps read). */
function fileObject(f: FakeFile): Record<string, unknown> {
  return {
    id: f.id,
    name: f.filename,
    title: f.title ?? f.filename,
    mimetype: f.filename.endsWith('.png') ? 'image/png' : 'application/octet-stream',
    filetype: f.filename.split('.').pop() ?? 'binary',
    size: f.bytes?.length ?? 0,
    user: FAKE_WORKSPACE.botUserId,
    is_external: false,
    url_private: `https://files.slack.com/files-pri/${FAKE_WORKSPACE.teamId}-${f.id}/${f.filename}`,
    ...(f.altText ? { alt_txt: f.altText } : {}),
  };
}

function parseFiles(value: unknown): Array<{ id: string; title?: string }> | undefined {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (!Array.isArray(parsed) || parsed.length === 0) return undefined;
  const out: Array<{ id: string; title?: string }> = [];
  for (const f of parsed as unknown[]) {
    if (!f || typeof f !== 'object' || typeof (f as { id?: unknown }).id !== 'string')
      return undefined;
    const { id, title } = f as { id: string; title?: unknown };
    out.push({ id, ...(typeof title === 'string' ? { title } : {}) });
  }
  return out;
}

export function fileMethods(files: FakeFiles, origin: () => string): Record<string, MethodSpec> {
  const getUploadURLExternal: MethodSpec = {
    scopes: ['files:write'],
    handle(body: Body): ApiResult {
      const filename = str(body.filename);
      const length = Number(str(body.length));
      if (!filename) return invalidArguments('missing required field: filename');
      if (!Number.isInteger(length) || length <= 0)
        return invalidArguments('missing required field: length');
      const id = files.nextId();
      const alt = str(body.alt_txt) ?? str(body.alt_text);
      files.byId.set(id, {
        id,
        filename,
        length,
        ...(alt ? { altText: alt } : {}),
        channels: [],
        completed: false,
      });
      return { ok: true, upload_url: `${origin()}/upload/v1/${id}`, file_id: id };
    },
  };

  const completeUploadExternal: MethodSpec = {
    scopes: ['files:write'],
    handle(body, ctx): ApiResult {
      const list = parseFiles(body.files);
      if (!list) return invalidArguments('files must be a JSON array of { id, title }');
      const found: FakeFile[] = [];
      for (const f of list) {
        const file = files.byId.get(f.id);
        // Slack cannot complete a file whose bytes never arrived.
        if (!file || !file.bytes || file.completed) return fail('file_not_found');
        found.push(file);
      }
      const channelId = str(body.channel_id);
      let channel: string | undefined;
      if (channelId) {
        const conv = ctx.state.resolveConversation(channelId);
        if (!conv) return fail('channel_not_found');
        if (conv.channel && conv.channel.botIsMember === false) return fail('not_in_channel');
        channel = conv.id;
      }
      list.forEach((f, i) => {
        const file = found[i]!;
        if (f.title) file.title = f.title;
        file.completed = true;
        if (channel) file.channels.push(channel);
      });
      if (channel) {
        const threadTs = str(body.thread_ts);
        const history = ctx.state.messages.get(channel) ?? [];
        history.push({
          type: 'message',
          channel,
          ts: ctx.state.nextTs(),
          text: str(body.initial_comment) ?? '',
          files: found.map(fileObject),
          upload: true,
          ...(threadTs ? { thread_ts: threadTs } : {}),
          user: FAKE_WORKSPACE.botUserId,
          bot_id: FAKE_WORKSPACE.botId,
          app_id: FAKE_WORKSPACE.appId,
          team: FAKE_WORKSPACE.teamId,
        });
        ctx.state.messages.set(channel, history);
      }
      return { ok: true, files: found.map(fileObject) };
    },
  };

  return {
    'files.getUploadURLExternal': getUploadURLExternal,
    'files.completeUploadExternal': completeUploadExternal,
  };
}

/**
 * The upload URL's answer: raw bytes or a multipart form (one file part) are both accepted,
 * as Slack's upload service does. Returns the HTTP status and body text.
 */
export async function uploadBytes(
  files: FakeFiles,
  fileId: string,
  contentType: string,
  raw: Buffer,
): Promise<{ status: number; text: string }> {
  const file = files.byId.get(fileId);
  if (!file || file.completed) return { status: 404, text: 'file not found' };
  let bytes = raw;
  if (contentType.toLowerCase().startsWith('multipart/form-data')) {
    const form = await new Request('http://upload.local/', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: raw,
    }).formData();
    const part = [...form.values()].find((v) => typeof v !== 'string') as Blob | undefined;
    if (!part) return { status: 400, text: 'no file part in the form' };
    bytes = Buffer.from(await part.arrayBuffer());
  }
  file.bytes = bytes;
  return { status: 200, text: `OK - ${bytes.length}` };
}
