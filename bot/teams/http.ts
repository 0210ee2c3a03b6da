import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, Response } from 'botbuilder';
import { z } from 'zod';

/** The Bot Connector posts single activities; anything this large is not one. */
export const MAX_BODY_BYTES = 1_048_576;

/**
 * What every activity the Bot Connector posts carries; without these botbuilder fails with a
 * 500, which the Connector would retry. Everything else is botbuilder's to check.
 */
const isHttpUrl = (v: string) => {
  try {
    return ['http:', 'https:'].includes(new URL(v).protocol);
  } catch {
    return false;
  }
};
const account = z.looseObject({ id: z.string({ message: 'expected the account id' }) });
const incomingActivity = z.looseObject({
  type: z.string({ message: 'expected the activity type, e.g. "message"' }).min(1),
  serviceUrl: z
    .string({ message: 'expected the Bot Connector URL to answer on' })
    .min(1)
    .refine(isHttpUrl, 'expected an http(s) URL'),
  conversation: z.looseObject({
    id: z.string({ message: 'expected the conversation id' }).min(1),
    tenantId: z.string().nullish(),
    conversationType: z.string().nullish(),
  }),
  // Fields botbuilder and the bot read as these types; other shapes are a client's mistake.
  id: z.string().nullish(),
  channelId: z.string().nullish(),
  text: z.string().nullish(),
  from: account.nullish(),
  recipient: account.nullish(),
  membersAdded: z.array(account).nullish(),
  membersRemoved: z.array(account).nullish(),
  channelData: z.looseObject({}).nullish(),
  name: z.string().nullish(),
  action: z.string().nullish(),
});

/** How much of an oversized body is read (and dropped) so its sender gets the 413. */
const DRAIN_LIMIT_BYTES = 32 * MAX_BODY_BYTES;

/** A request that is no activity: the fields that are wrong, for a 400. */
export interface BadActivity {
  invalid: string;
}

/**
 * node:http ⇄ the express-like request/response botbuilder's CloudAdapter.process expects:
 * `req.body` already parsed, and a response with status/header/send/end/socket. A body that is
 * not a JSON object is left undefined so the adapter answers 400 as it would behind express;
 * an object that is no activity is refused here with the fields that are missing.
 */
async function readBotRequest(
  req: IncomingMessage,
): Promise<Request | BadActivity | { tooLarge: true }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > DRAIN_LIMIT_BYTES) {
      req.destroy();
      return { tooLarge: true };
    }
    if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  if (size > MAX_BODY_BYTES) return { tooLarge: true };
  let body: Record<string, unknown> | undefined;
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) body = v as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  if (body) {
    const checked = incomingActivity.safeParse(body);
    if (!checked.success)
      return {
        invalid: checked.error.issues
          .map((i) => `activity.${i.path.join('.')}: ${i.message}`)
          .join('; '),
      };
  }
  return { body, headers: req.headers, method: req.method };
}

/**
 * Reads the activity and hands it to `process` (CloudAdapter.process) with a BotResponse;
 * answers 413 for an oversized body and 400 naming the fields when it is no activity.
 */
export async function serveBotRequest(
  req: IncomingMessage,
  res: ServerResponse,
  process: (request: Request, response: BotResponse) => Promise<void>,
): Promise<void> {
  const request = await readBotRequest(req);
  if ('tooLarge' in request) {
    res.writeHead(413, { 'content-type': 'text/plain' }).end('activity too large');
    return;
  }
  if ('invalid' in request) {
    res
      .writeHead(400, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error: { code: 'BadRequest', message: request.invalid } }));
    return;
  }
  await process(request, new BotResponse(res));
}

/** Buffers status, headers and body; `end()` writes them (objects as JSON). */
export class BotResponse implements Response {
  private code = 200;
  private body: string | undefined;
  private readonly headers: Record<string, string> = {};

  constructor(private readonly res: ServerResponse) {}

  get socket(): unknown {
    return this.res.socket;
  }

  status(code: number): this {
    this.code = code;
    return this;
  }

  header(name: string, value: unknown): this {
    this.headers[name.toLowerCase()] = String(value);
    return this;
  }

  send(body?: unknown): this {
    if (body === undefined || body === null) return this;
    const isText = typeof body === 'string' || Buffer.isBuffer(body);
    this.headers['content-type'] ??= isText
      ? 'text/plain; charset=utf-8'
      : 'application/json; charset=utf-8';
    this.body = isText ? body.toString() : JSON.stringify(body);
    return this;
  }

  end(): this {
    if (!this.res.headersSent) this.res.writeHead(this.code, this.headers);
    this.res.end(this.body);
    return this;
  }
}
