/**
 * The test entry point (`npm test`). Starts what the suites share — one throwaway Temporal
 * dev server and, unless DATABASE_URL is set, an embedded PostgreSQL — runs the groups
 * with node's test runner, then checks that no process started by the tests survived.
 *
 *   npm test                 all groups: unit, integration, workflow, e2e
 *   npm test -- unit e2e     only these groups
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../cli/process/tethered.js';
import { PROJECT_ROOT } from '../cli/runtime.js';
import { startTemporal } from '../cli/temporal/start.js';
import { startEmbeddedPostgres } from '../store/embedded.js';

const GROUPS = ['unit', 'integration', 'workflow', 'e2e'] as const;
type Group = (typeof GROUPS)[number];
const here = path.dirname(fileURLToPath(import.meta.url));

function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...testFiles(full));
    else if (name.endsWith('.test.ts')) out.push(full);
  }
  return out.sort();
}

interface Tally {
  pass: number;
  fail: number;
  skipped: number;
}

async function runGroup(group: Group, env: NodeJS.ProcessEnv): Promise<Tally> {
  const files = testFiles(path.join(here, group));
  if (files.length === 0) return { pass: 0, fail: 0, skipped: 0 };
  // Workflow and e2e files spend most of their time waiting (timers, child processes, the
  // dev server), so three at once finish sooner than two on a 2-core machine.
  const concurrency = group === 'unit' ? 4 : group === 'integration' ? 2 : 3;
  process.stdout.write(`\n== ${group} (${files.length} files) ==\n`);
  const started = Date.now();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-reporter=spec',
      `--test-concurrency=${concurrency}`,
      ...files,
    ],
    { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    process.stdout.write(chunk);
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const count = (label: string) =>
    Number(new RegExp(`^ℹ ${label} (\\d+)$`, 'm').exec(output)?.[1] ?? 0);
  const tally = {
    pass: count('pass'),
    fail: count('fail'),
    skipped: count('skipped') + count('todo'),
  };
  if (code !== 0 && tally.fail === 0) tally.fail = 1; // a crash outside any test still fails the run
  process.stdout.write(
    `== ${group}: ${tally.pass} passed, ${tally.fail} failed in ${((Date.now() - started) / 1000).toFixed(1)} s ==\n`,
  );
  return tally;
}

/** Processes whose command line mentions the run's scratch directory: anything left is an orphan. */
function leftovers(marker: string): string[] {
  const ps = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return ps
    .split('\n')
    .filter((line) => line.includes(marker) && !line.includes('ps -eo'))
    .map((l) => l.trim());
}

async function main(): Promise<number> {
  const wanted = process.argv.slice(2).filter((a) => a !== '--');
  const groups = wanted.length ? wanted : [...GROUPS];
  for (const g of groups) {
    if (!GROUPS.includes(g as Group)) {
      process.stderr.write(`unknown test group "${g}": expected one of ${GROUPS.join(', ')}\n`);
      return 2;
    }
  }
  const scratch = mkdtempSync(path.join(tmpdir(), 'patchops-test-'));
  chmodSync(scratch, 0o755); // embedded PostgreSQL runs as the postgres user when we are root
  const stops: Array<() => Promise<void>> = [];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATCHOPS_TEST_TMP: scratch,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    LOG_FORMAT: 'json',
  };
  let totals: Tally = { pass: 0, fail: 0, skipped: 0 };
  try {
    if (groups.some((g) => g !== 'unit')) {
      let t = Date.now();
      const temporal = await startTemporal({
        root: PROJECT_ROOT,
        explicitCli: process.env.TEMPORAL_CLI,
        dbFile: path.join(scratch, 'temporal.db'),
      });
      stops.push(() => temporal.stop());
      env.PATCHOPS_TEST_TEMPORAL_ADDRESS = temporal.address;
      process.stdout.write(
        `Temporal dev server ${temporal.address} (${temporal.source}) ready in ${Date.now() - t} ms\n`,
      );
      if (process.env.DATABASE_URL) {
        env.PATCHOPS_TEST_DATABASE_URL = process.env.DATABASE_URL;
        process.stdout.write("PostgreSQL: DATABASE_URL (the machine's server)\n");
      } else {
        t = Date.now();
        const pg = await startEmbeddedPostgres({
          dir: path.join(scratch, 'pg'),
          port: await freePort(),
        });
        stops.push(() => pg.stop());
        env.PATCHOPS_TEST_DATABASE_URL = pg.url;
        process.stdout.write(`PostgreSQL: embedded, ready in ${Date.now() - t} ms\n`);
      }
    }
    delete env.DATABASE_URL; // tests choose their database explicitly
    for (const g of groups) {
      const r = await runGroup(g as Group, env);
      totals = {
        pass: totals.pass + r.pass,
        fail: totals.fail + r.fail,
        skipped: totals.skipped + r.skipped,
      };
    }
  } finally {
    for (const stop of stops.reverse())
      await stop().catch((err: unknown) => process.stderr.write(`teardown: ${String(err)}\n`));
  }
  const orphans = leftovers(scratch);
  if (orphans.length) {
    process.stdout.write(
      `\nprocesses left running by the tests (killed now):\n${orphans.join('\n')}\n`,
    );
    for (const line of orphans) {
      try {
        process.kill(Number(line.split(/\s+/)[0]), 'SIGKILL');
      } catch {
        /* gone meanwhile */
      }
    }
    totals.fail += 1;
  }
  rmSync(scratch, { recursive: true, force: true });
  process.stdout.write(
    `\ntests: ${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped\n`,
  );
  return totals.fail ? 1 : 0;
}

process.exitCode = await main();
