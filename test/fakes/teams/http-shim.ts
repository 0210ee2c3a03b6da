/**
 * Just enough of an express-like request/response over node:http for botbuilder's
 * `CloudAdapter.process(req, res, logic)`: it wants `req.body` already parsed, `req.headers`,
 * `req.method`, and a response with `status()`, `header()`, `send()`, `end()` and `socket`
 * (checked by botbuilder's ResponseT zod schema; lib/interfaces/response.js).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Request } from 'botbuilder';
import { BotResponse, serveBotRequest } from '../../../bot/teams/http.js';

// The production request/response shim (bot/teams/http.ts), served on its own port here.
export { BotResponse };

export interface BotServer {
  /** The messaging endpoint, e.g. `http://127.0.0.1:PORT/api/messages`. */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `handler` on 127.0.0.1 (port 0) at `path` (default /api/messages), e.g.
 * `startBotServer((req, res) => adapter.process(req, res, (ctx) => bot.run(ctx)))`.
 */
export async function startBotServer(
  handler: (req: Request, res: BotResponse) => Promise<void>,
  opts: { path?: string } = {},
): Promise<BotServer> {
  const path = opts.path ?? '/api/messages';
  const server = createServer((req, res) => {
    if ((req.url ?? '').split('?')[0] !== path) {
      res.writeHead(404).end();
      return;
    }
    serveBotRequest(req, res, handler).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
