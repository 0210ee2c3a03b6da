/**
 * Process measurements for bench/rollout, read from /proc (Linux only): resident memory
 * of one process and CPU time of a whole process tree (a tethered server is a bash
 * wrapper whose child is the real server, and PostgreSQL forks a backend per connection).
 */
import { readFileSync, readdirSync } from 'node:fs';
import pg from 'pg';

const PAGE_TICKS = 100; // USER_HZ: clock ticks per second on Linux

/** VmRSS and VmHWM (peak RSS) of a process, in bytes; undefined once it has exited. */
export function memory(pid: number): { rss: number; peak: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rss: kb('VmRSS') * 1024, peak: kb('VmHWM') * 1024 };
  } catch {
    return undefined;
  }
}

interface Stat {
  ppid: number;
  /** utime + stime + cutime + cstime, in seconds (reaped children included). */
  cpu: number;
}

function stat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces: split after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const n = (i: number) => Number(fields[i] ?? 0);
    // fields[0] is field 3 (state): ppid is field 4, utime..cstime are fields 14..17.
    return { ppid: n(1), cpu: (n(11) + n(12) + n(13) + n(14)) / PAGE_TICKS };
  } catch {
    return undefined;
  }
}

/** CPU seconds used so far by `root` and every live descendant of it. */
export function treeCpuSeconds(root: number | undefined): number | undefined {
  if (root === undefined) return undefined;
  const stats = new Map<number, Stat>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = stat(Number(name));
    if (s) stats.set(Number(name), s);
  }
  if (!stats.has(root)) return undefined;
  const children = new Map<number, number[]>();
  for (const [pid, s] of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  let total = 0;
  const queue = [root];
  while (queue.length) {
    const pid = queue.pop()!;
    total += stats.get(pid)?.cpu ?? 0;
    queue.push(...(children.get(pid) ?? []));
  }
  return total;
}

/** Samples a process's RSS every `everyMs`, keeping the highest value seen. */
export function sampleRss(pid: number, everyMs = 250): { stop(): number } {
  let max = memory(pid)?.rss ?? 0;
  const timer = setInterval(() => {
    max = Math.max(max, memory(pid)?.rss ?? 0);
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      max = Math.max(max, memory(pid)?.rss ?? 0);
      return max;
    },
  };
}

/**
 * The postmaster of the PostgreSQL server at `url` when it runs on this machine (the
 * parent of our own backend), so that its CPU time can be measured; else undefined. On a
 * shared server this counts every database's work, not only the bench's.
 */
export async function postgresServerPid(url: string): Promise<number | undefined> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ pid: number }>('select pg_backend_pid() as pid');
    const backend = r.rows[0]?.pid;
    return backend === undefined ? undefined : stat(backend)?.ppid;
  } finally {
    await c.end();
  }
}
