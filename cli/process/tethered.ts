import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

/**
 * Starts a long-lived helper process (Temporal dev server, PostgreSQL) tethered to this
 * Node process: a tiny shell wrapper holds a pipe from us and kills the helper the moment
 * the pipe closes — which happens on a clean stop, on Ctrl-C and also when we are killed
 * with SIGKILL, so no orphan survives us.
 */
const WRAPPER = [
  // Background jobs of a non-interactive shell get /dev/null as stdin, so keep our pipe on fd 3.
  'exec 3<&0',
  '"$@" </dev/null 3<&- &',
  'child=$!',
  // The watcher reads our pipe; EOF means the parent is gone or asked us to stop.
  '( read -r _ <&3 ; kill -"$TETHER_SIGNAL" "$child" 2>/dev/null ) &',
  'watcher=$!',
  'trap \'kill -"$TETHER_SIGNAL" "$child" 2>/dev/null\' TERM INT',
  'wait "$child"; status=$?',
  // wait returns early when a trapped signal arrives; wait again for the real exit.
  'while kill -0 "$child" 2>/dev/null; do wait "$child"; status=$?; done',
  'kill "$watcher" 2>/dev/null',
  'exit $status',
].join('\n');

export interface Tethered {
  process: ChildProcess;
  /** Resolves with the exit code once the helper has exited. */
  exited: Promise<number | null>;
  /** Asks the helper to stop (SIGTERM), escalating to SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export function spawnTethered(
  command: string,
  args: string[],
  opts: {
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    /** Run as this user (PostgreSQL refuses root). */
    uid?: number;
    gid?: number;
    /** Signal that asks the helper to stop (PostgreSQL: SIGINT is its fast shutdown). */
    stopSignal?: 'TERM' | 'INT';
  } = {},
): Tethered {
  const child = spawn('bash', ['-c', WRAPPER, 'patchops-tether', command, ...args], {
    cwd: opts.cwd,
    env: { ...(opts.env ?? process.env), TETHER_SIGNAL: opts.stopSignal ?? 'TERM' },
    ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
    ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true, // own process group, so a final SIGKILL reaches the helper too
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  let done = false;
  void exited.then(() => (done = true));
  const stop = async (graceMs = 15_000): Promise<void> => {
    if (done) return;
    child.stdin?.end();
    const timer = setTimeout(() => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, graceMs);
    await exited;
    clearTimeout(timer);
  };
  return { process: child, exited, stop };
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port')),
      );
    });
  });
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
