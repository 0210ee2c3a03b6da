/**
 * A local fake of Slack's Socket Mode WebSocket endpoint, speaking the protocol of
 * https://docs.slack.dev/apis/events-api/using-socket-mode:
 * - apps.connections.open (the fake Web API) hands out a single-use URL
 *   `ws://127.0.0.1:PORT/link/?ticket=…&app_id=…`; an unknown or reused ticket is refused
 *   with HTTP 401 at the upgrade;
 * - on connect the server sends `{"type":"hello","num_connections":n,"debug_info":{…},
 *   "connection_info":{"app_id":"A…"}}` — @slack/socket-mode's start() resolves on it;
 * - events arrive in envelopes `{"envelope_id","type","payload","accepts_response_payload",
 *   "retry_attempt","retry_reason"}` with type `events_api`, `interactive` or
 *   `slash_commands`; the payload is the JSON object, never form-encoded;
 * - the app acknowledges each with `{"envelope_id":"…","payload":{…}?}` on the same socket;
 * - `{"type":"disconnect","reason":"refresh_requested"|"warning"|"link_disabled"}` asks the
 *   app to reconnect through a fresh apps.connections.open.
 * Ping frames from the client are answered by `ws` itself (the client gives up after 5 s
 * without a pong); the server pings too, as Slack does, and the client gives up after 30 s
 * without one.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import WebSocket from 'ws';
import type { SlackPayload } from './payloads.js';
import {
  envelopeOf,
  frameText,
  type EnvelopeType,
  type SocketEnvelope,
} from './socket-envelopes.js';

export interface SocketAck {
  envelopeId: string;
  /** The ack's `payload` (a slash command's response, a view's errors …); absent when not sent. */
  payload: unknown;
  /** The connection it came on. */
  connection: number;
  at: number;
}

export interface Delivery {
  envelope: SocketEnvelope;
  connection: number;
  sentAt: number;
  /** The first ack that arrived for this delivery. */
  ack: SocketAck | undefined;
  /** Waits for the ack; fails after `ms` (default 3,000, Slack's limit before it retries). */
  acked(ms?: number): Promise<SocketAck>;
}

export interface FakeConnection {
  id: number;
  appId: string;
  openedAt: number;
  closedAt?: number;
  /** The close code the connection ended with (1000 when the app closed it cleanly). */
  closeCode?: number;
}

export interface DeliverOptions {
  /** Default: false for events_api, true otherwise (as Slack sends them). */
  acceptsResponsePayload?: boolean;
  retryAttempt?: number;
  retryReason?: string;
  envelopeId?: string;
}

export interface FakeSocketMode {
  /** Every connection ever opened, in order. */
  connections: readonly FakeConnection[];
  /** Connections open now. */
  readonly openCount: number;
  deliveries: readonly Delivery[];
  /** Acks that matched no unacknowledged delivery (duplicates, unknown envelope ids). */
  strayAcks: readonly SocketAck[];
  /** Text frames from the app that were not acks. */
  otherFrames: readonly string[];
  /** Upgrades refused (bad path, unknown or reused ticket). */
  readonly refused: number;
  /** Waits until at least `count` connections have been opened and the newest is open. */
  connected(count?: number, ms?: number): Promise<FakeConnection>;
  /** Sends a payload built by payloads.ts (or a raw envelope body) on the newest connection. */
  deliver(
    p: SlackPayload | { type: EnvelopeType; payload: Record<string, unknown> },
    opts?: DeliverOptions,
  ): Delivery;
  /** Sends an envelope again, as Slack does when no ack came: same envelope id, retry_attempt + 1. */
  redeliver(d: Delivery, reason?: string): Delivery;
  /** Tells every open connection to reconnect; returns how many were told. */
  disconnect(reason?: 'refresh_requested' | 'warning' | 'link_disabled'): number;
  close(): Promise<void>;
}

export interface SocketModeServer extends FakeSocketMode {
  /** For apps.connections.open: a new single-use URL for the app. */
  issueUrl(appId: string): string;
}

interface Live {
  info: FakeConnection;
  ws: WebSocket;
  ping: NodeJS.Timeout | undefined;
}

/**
 * Serves Socket Mode on `server` (the fake Web API's HTTP server) at /link/. `origin` is
 * the server's http:// origin, known once it listens.
 */
export function attachSocketMode(
  server: Server,
  origin: () => string,
  opts: { pingIntervalMs?: number } = {},
): SocketModeServer {
  const wss = new WebSocket.Server({ noServer: true });
  const tickets = new Map<string, { appId: string; used: boolean }>();
  const live: Live[] = [];
  const connections: FakeConnection[] = [];
  const deliveries: Delivery[] = [];
  const strayAcks: SocketAck[] = [];
  const otherFrames: string[] = [];
  const waiters = new Set<() => void>();
  const changed = () => waiters.forEach((w) => w());
  let refused = 0;

  function waitFor<T>(what: string, fn: () => T | undefined, ms: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const v = fn();
        if (v === undefined) return;
        done();
        resolve(v);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`fake Socket Mode: timed out after ${ms} ms waiting for ${what}`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  }

  function refuse(socket: Duplex, status: number): void {
    refused += 1;
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
    );
  }

  function onAck(conn: Live, text: string): void {
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      frame = undefined;
    }
    const id = (frame as { envelope_id?: unknown } | undefined)?.envelope_id;
    if (typeof id !== 'string') {
      otherFrames.push(text);
      return;
    }
    const ack: SocketAck = {
      envelopeId: id,
      payload: (frame as { payload?: unknown }).payload,
      connection: conn.info.id,
      at: Date.now(),
    };
    const d = deliveries.find((x) => x.envelope.envelope_id === id && !x.ack);
    if (d) d.ack = ack;
    else strayAcks.push(ack);
    changed();
  }

  function onConnection(ws: WebSocket, appId: string): void {
    const info: FakeConnection = { id: connections.length + 1, appId, openedAt: Date.now() };
    const conn: Live = { info, ws, ping: undefined };
    connections.push(info);
    live.push(conn);
    ws.on('message', (data) => onAck(conn, frameText(data)));
    ws.on('close', (code) => {
      info.closedAt = Date.now();
      info.closeCode = code;
      clearInterval(conn.ping);
      live.splice(live.indexOf(conn), 1);
      changed();
    });
    const interval = opts.pingIntervalMs ?? 10_000;
    if (interval > 0) conn.ping = setInterval(() => ws.ping(), interval);
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: live.length,
        debug_info: {
          host: `applink-fake-${info.id}`,
          started: new Date(info.openedAt).toISOString().replace('T', ' ').slice(0, 23),
          build_number: 1,
          approximate_connection_time: 18060,
        },
        connection_info: { app_id: appId },
      }),
    );
    changed();
  }

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const ticket = tickets.get(url.searchParams.get('ticket') ?? '');
    if (url.pathname !== '/link/') return refuse(socket, 404);
    if (!ticket || ticket.used) return refuse(socket, 401);
    ticket.used = true;
    // @types/ws 6 types the socket as net.Socket; Node hands `upgrade` a Duplex that is one.
    wss.handleUpgrade(req, socket as Socket, head, (ws) => onConnection(ws, ticket.appId));
  });

  function send(envelope: SocketEnvelope): Delivery {
    const conn = live.filter((c) => c.ws.readyState === WebSocket.OPEN).at(-1);
    if (!conn) throw new Error('fake Socket Mode: no open connection to deliver to');
    conn.ws.send(JSON.stringify(envelope));
    const d: Delivery = {
      envelope,
      connection: conn.info.id,
      sentAt: Date.now(),
      ack: undefined,
      acked: (ms = 3_000) =>
        waitFor(`the ack of ${envelope.type} envelope ${envelope.envelope_id}`, () => d.ack, ms),
    };
    deliveries.push(d);
    return d;
  }

  return {
    connections,
    get openCount() {
      return live.length;
    },
    deliveries,
    strayAcks,
    otherFrames,
    get refused() {
      return refused;
    },
    issueUrl(appId) {
      const ticket = randomUUID();
      tickets.set(ticket, { appId, used: false });
      const ws = origin().replace(/^http/, 'ws');
      return `${ws}/link/?ticket=${ticket}&app_id=${encodeURIComponent(appId)}`;
    },
    connected: (count = 1, ms = 15_000) =>
      waitFor(
        `connection #${count}`,
        () => {
          const c = connections.at(-1);
          return c && connections.length >= count && c.closedAt === undefined ? c : undefined;
        },
        ms,
      ),
    deliver(p, o = {}) {
      const { type, payload } = 'body' in p ? envelopeOf(p) : p;
      return send({
        envelope_id: o.envelopeId ?? randomUUID(),
        type,
        payload,
        accepts_response_payload: o.acceptsResponsePayload ?? type !== 'events_api',
        retry_attempt: o.retryAttempt ?? 0,
        retry_reason: o.retryReason ?? '',
      });
    },
    redeliver: (d, reason = 'timeout') =>
      send({
        ...d.envelope,
        retry_attempt: d.envelope.retry_attempt + 1,
        retry_reason: reason,
      }),
    disconnect(reason = 'refresh_requested') {
      const open = live.filter((c) => c.ws.readyState === WebSocket.OPEN);
      for (const c of open)
        c.ws.send(
          JSON.stringify({
            type: 'disconnect',
            reason,
            debug_info: { host: `applink-fake-${c.info.id}` },
          }),
        );
      return open.length;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of live) clearInterval(c.ping);
        // ws 7 terminates every client on close().
        wss.close(() => resolve());
      }),
  };
}
