import bolt from '@slack/bolt';
import type { Logger } from 'pino';

const { SocketModeReceiver } = bolt;

/** How long stop() waits for a reconnect in flight to land, and then for the socket to close. */
export const SOCKET_SETTLE_MS = 10_000;

/** A Socket Mode start-up failure, with a stable code and Slack's error as its cause. */
export class SlackSocketModeError extends Error {
  constructor(
    readonly code: 'SLACK_APP_TOKEN_REJECTED' | 'SLACK_SOCKET_MODE_UNAVAILABLE',
    message: string,
    options: { cause: unknown },
  ) {
    super(message, options);
    this.name = 'SlackSocketModeError';
  }
}

export interface SocketModeLink {
  receiver: InstanceType<typeof SocketModeReceiver>;
  /** One connection attempt: resolves once Slack said hello; rejects with a SlackSocketModeError. */
  connect(): Promise<void>;
  /** connect(), under its former name. */
  start(): Promise<void>;
  /** Resolves once the WebSocket is closed (or SOCKET_SETTLE_MS passed). */
  stop(): Promise<void>;
}

/**
 * Bolt's Socket Mode receiver, with connection logs and a stop() that really stops.
 * @slack/socket-mode 3.1.0's disconnect() does not wait for a reconnect in flight: the
 * new socket then opens after stop() (and keeps the process alive), or that reconnect's
 * start() rejects with `undefined` unhandled, which crashes Node. So stop() first lets a
 * reconnect land, then disconnects and waits for the close.
 */
export function socketModeLink(
  appToken: string,
  clientOptions: { slackApiUrl?: string },
  boltLog: ConstructorParameters<typeof SocketModeReceiver>[0]['logger'],
  log: Logger,
  /** A reconnect of the client's own failed: the owner starts its attempts again. */
  onLost: (err: SlackSocketModeError) => void = () => undefined,
): SocketModeLink {
  const receiver = new SocketModeReceiver({
    appToken,
    logger: boltLog,
    // One try per apps.connections.open, bounded: the client's default (100 retries) kept
    // start() and the process hanging when Slack was unreachable; our owner retries with
    // back-off it can stop.
    installerOptions: {
      clientOptions: { ...clientOptions, retryConfig: { retries: 0 }, timeout: 10_000 },
    },
  });
  const client = receiver.client;
  let inFlight = false;
  let open = false;
  client.on('connecting', () => (inFlight = true));
  client.on('reconnecting', () => {
    inFlight = true;
    log.info('slack socket mode reconnecting');
  });
  client.on('connected', () => {
    inFlight = false;
    open = true;
    log.info('slack socket mode connected');
  });
  client.on('disconnected', () => {
    inFlight = false;
    open = false;
  });
  // The client's own reconnects call start() and leave its rejection unhandled (which would
  // crash Node); ours are awaited. A failed reconnect of its own goes to onLost instead.
  const clientStart = client.start.bind(client);
  let ours = false;
  client.start = async () => {
    const mine = ours;
    try {
      return await clientStart();
    } catch (err) {
      if (mine) throw err;
      log.warn('slack socket mode: a reconnect failed; retrying with back-off');
      onLost(startError(err));
      return undefined as unknown as Awaited<ReturnType<typeof clientStart>>;
    }
  };

  const settle = (event: string) =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        client.off(event, done);
        resolve(false);
      }, SOCKET_SETTLE_MS);
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      client.once(event, done);
    });

  const connect = async () => {
    ours = true;
    try {
      const started = receiver.start();
      ours = false;
      await started;
    } catch (err) {
      throw startError(err);
    } finally {
      ours = false;
    }
  };
  return {
    receiver,
    connect,
    start: connect,
    async stop() {
      if (inFlight && !(await settle('connected')))
        log.warn('slack socket mode: a reconnect was still under way at stop');
      if (!open) {
        // Never connected (or already closed): there is no socket to wait for.
        void client.disconnect();
        return;
      }
      const closed = settle('disconnected');
      // disconnect()'s own promise waits for the close with no limit; `closed` has one.
      void client.disconnect();
      if (!(await closed)) log.warn('slack socket mode: the socket did not close in time');
    },
  };
}

function startError(err: unknown): SlackSocketModeError {
  const slackCode = (err as { data?: { error?: unknown } }).data?.error;
  if (typeof slackCode === 'string')
    return new SlackSocketModeError(
      'SLACK_APP_TOKEN_REJECTED',
      `Slack refused SLACK_APP_TOKEN (${slackCode}) in apps.connections.open: use the app-level token (xapp-…) from Basic Information → App-Level Tokens, with the connections:write scope`,
      { cause: err },
    );
  const why = err instanceof Error ? err.message : String(err);
  return new SlackSocketModeError(
    'SLACK_SOCKET_MODE_UNAVAILABLE',
    `could not open a Socket Mode connection to Slack: ${why}`,
    { cause: err },
  );
}
