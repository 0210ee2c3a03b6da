import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A front door's HTTP entry: Slack's Bolt listener at /slack/*, Teams' adapter at /api/messages. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface BotServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** One HTTP server for every configured front door, plus GET /healthz. */
export async function startBotServer(
  routes: { slack?: RouteHandler | undefined; teams?: RouteHandler | undefined },
  host: string,
  port: number,
  onError: (err: unknown) => void,
): Promise<BotServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const handler = path.startsWith('/slack/')
      ? routes.slack
      : path === '/api/messages'
        ? routes.teams
        : undefined;
    if (path === '/healthz' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ ok: true, slack: Boolean(routes.slack), teams: Boolean(routes.teams) }),
      );
      return;
    }
    if (!handler) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    Promise.resolve(handler(req, res)).catch((err: unknown) => {
      onError(err);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    server,
    url: `http://${shown}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
