/**
 * Slack's side of a `response_url` (https://docs.slack.dev/interactivity/handling-user-interaction#message_responses):
 * the app POSTs a JSON message to the URL a slash command or an interaction carried, and
 * Slack answers 200 `ok`. Bolt's `respond()` posts there. Records every body received.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ResponseUrlSink {
  /** A response_url to put in payloads. */
  url: string;
  /** Every JSON body posted, in arrival order. */
  bodies: unknown[];
  close(): Promise<void>;
}

export async function startResponseUrlSink(): Promise<ResponseUrlSink> {
  const bodies: unknown[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      try {
        bodies.push(JSON.parse(raw || '{}'));
      } catch {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/commands/T0001/1/fakeresponsetoken`,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
