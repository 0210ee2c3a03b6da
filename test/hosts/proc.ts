/** Small process helpers for the test-host harness. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; never throws on a non-zero exit (the caller decides). */
export function run(
  command: string,
  args: readonly string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) =>
      resolve({ code: code ?? 128 + (signal ? 9 : 0), stdout, stderr }),
    );
    // A child that exits without reading its input (nsenter into a host that is going
    // down) closes the pipe first: that is its exit code's business, not an EPIPE crash.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Like run, but a non-zero exit is an error naming the command and its stderr. */
export async function runOk(command: string, args: readonly string[]): Promise<string> {
  const r = await run(command, args);
  if (r.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  }
  return r.stdout;
}

/** PIDs (machine namespace) whose parent is `ppid`. */
export async function childPids(ppid: number): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => undefined);
    if (stat === undefined) continue; // exited while we looked
    // Field 4 (ppid) follows the parenthesised command, which may itself hold spaces.
    const ppidField = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
    if (Number(ppidField) === ppid) out.push(Number(name));
  }
  return out;
}

/** True while `pid` runs (a zombie, awaiting its parent's wait, counts as ended). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Resolves once 127.0.0.1:port answers with an SSH banner; fails after `ms`. */
export async function waitForSshBanner(
  port: number,
  ms: number,
  down: () => boolean,
): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (down()) throw new Error(`host on port ${port} ended before sshd answered`);
    if (await banner(port)) return;
    if (Date.now() > end) throw new Error(`no SSH banner on 127.0.0.1:${port} after ${ms} ms`);
    await sleep(50);
  }
}

function banner(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let seen = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('data', (c: Buffer) => {
      seen += c.toString('latin1');
      if (seen.includes('\n')) done(seen.startsWith('SSH-2.0-'));
    });
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}
