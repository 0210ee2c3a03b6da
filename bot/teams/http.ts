import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, Response } from 'botbuilder';

/** The Bot Connector posts single activities; anything this large is not one. */
export const MAX_BODY_BYTES = 1_048_576;

/**
 * node:http ⇄ the express-like request/response botbuilder's CloudAdapter.process expects:
 * `req.body` already parsed, and a response with status/header/send/end/socket. A body that is
 * not a JSON object is left undefined so the adapter answers 400 as it would behind express.
 */
export async function readBotRequest(req: IncomingMessage): Promise<Request | { tooLarge: true }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return { tooLarge: true };
    chunks.push(chunk as Buffer);
  }
  let body: Record<string, unknown> | undefined;
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) body = v as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  return { body, headers: req.headers, method: req.method };
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
