#!/usr/bin/env node
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig, type Config } from './config.js';
import { CliError } from './errors.js';
import { createLogger, packageVersion, type Logger } from './logger.js';
import { runDev } from './commands/dev.js';
import { registerLifecycleCommands } from './commands/lifecycle.js';
import { registerEmergencyCommand } from './commands/emergency.js';
import { registerReportCommand } from './commands/report.js';
import { registerTeamsCommands } from './commands/teams-package.js';
import { registerIntelCommands } from './commands/intel.js';
import { runBot } from './commands/bot.js';
import { formatDoctor, runDoctor } from './commands/doctor.js';
import { adapterTable } from './commands/adapters.js';
import { registerAuditCommands } from './commands/audit.js';
import { runMigrate } from './commands/migrate.js';
import { runWorker } from './commands/worker.js';
import { runSimulator } from './commands/simulator.js';
import { PROJECT_ROOT } from './runtime.js';
import { resolveTemporalCli } from './temporal/resolve-cli.js';

interface Context {
  config: Config;
  log: Logger;
}

let ctx: Context | undefined;
/** Config is read once, lazily, so `--help` works even with a broken environment. */
function context(): Context {
  if (!ctx) {
    const config = loadConfig();
    ctx = { config, log: createLogger(config.log) };
  }
  return ctx;
}

function portOption(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new InvalidArgumentError('expected a port number from 0 to 65535');
  return port;
}

function countOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new InvalidArgumentError('expected a whole number of workers from 1 to 64');
  return n;
}

const program = new Command()
  .name('patchops')
  .description(
    'Patch management as chat-ops: durable Temporal workflows, approvals from Slack and Teams.',
  )
  .version(packageVersion(), '-V, --version', 'print the patchops version')
  .showHelpAfterError()
  .exitOverride();

program
  .command('dev')
  .description(
    'run everything locally: PostgreSQL (embedded unless DATABASE_URL), Temporal dev server, worker',
  )
  .option('--once', 'start, run the self-check and the demo, then stop')
  .option('--no-demo', 'skip the demo rollouts on the simulated fleet')
  .option('--yes', 'approve demo rollouts as the demo user without asking (for no terminal)')
  .option(
    '--workers <n>',
    'workers to run (more than 1 starts `patchops worker` processes sharing one served simulator)',
    (v) => countOption(v),
  )
  .action(async (opts: { once?: boolean; demo: boolean; yes?: boolean; workers?: number }) => {
    const { config, log } = context();
    await runDev(config, log, {
      once: opts.once ?? false,
      demo: opts.demo,
      yes: opts.yes ?? false,
      ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
    });
  });

program
  .command('worker')
  .description('run a worker against TEMPORAL_ADDRESS and DATABASE_URL')
  .action(async () => {
    const { config, log } = context();
    await runWorker(config, log);
  });

program
  .command('simulator')
  .description(
    'serve the simulated RMM (PATCHOPS_RMM_CONFIG options) so several workers share one fleet',
  )
  .option('--port <n>', 'port to listen on (default: any free port)', (v) => portOption(v))
  .option('--host <address>', 'address to listen on (no authentication: keep it loopback)')
  .option('--state <file>', 'keep the fleet state in this file across restarts')
  .action(async (opts: { port?: number; host?: string; state?: string }) => {
    const { config, log } = context();
    await runSimulator(config, log, opts);
  });

program
  .command('migrate')
  .description('apply pending database migrations')
  .action(async () => {
    const { config, log } = context();
    const applied = await runMigrate(config, log);
    process.stdout.write(
      applied.length ? `applied: ${applied.join(', ')}\n` : 'schema up to date\n',
    );
  });

program
  .command('doctor')
  .description('check Temporal, PostgreSQL, migrations and each configured adapter')
  .action(async () => {
    const { config } = context();
    const results = await runDoctor(config);
    process.stdout.write(`${formatDoctor(results)}\n`);
    if (results.some((r) => r.state === 'down')) process.exitCode = 1;
  });

program
  .command('adapters')
  .description('list the RMM and ITSM adapters and the variables each reads (Markdown)')
  .action(() => {
    process.stdout.write(`${adapterTable()}\n`);
  });

program
  .command('temporal-cli')
  .description(
    'find or build (go install) the Temporal CLI used for the dev server; prints its path',
  )
  .action(async () => {
    const { config, log } = context();
    const cli = await resolveTemporalCli({
      explicit: config.temporal.cliPath,
      root: PROJECT_ROOT,
      log,
    });
    if (!cli)
      throw new CliError(
        'TEMPORAL_CLI_NOT_FOUND',
        'no Temporal CLI and no Go toolchain: install Go or set TEMPORAL_CLI',
      );
    process.stdout.write(`${cli.path} (${cli.source})\n`);
  });

registerLifecycleCommands(program, () => context().config);
registerEmergencyCommand(program, () => context().config);
registerReportCommand(program, () => context().config);
registerTeamsCommands(program, () => context().config);
registerAuditCommands(program, () => context().config);
registerIntelCommands(program, () => context().config);

program
  .command('bot')
  .description('serve the Slack and Teams front doors (HTTP /slack/events and /api/messages)')
  .action(async () => {
    const { config, log } = context();
    await runBot(config, log);
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const code = (err as { code?: string }).code;
  if (
    code === 'commander.helpDisplayed' ||
    code === 'commander.version' ||
    code === 'commander.help'
  ) {
    process.exitCode = 0;
  } else if (typeof code === 'string' && code.startsWith('commander.')) {
    process.exitCode = 2; // commander already printed the usage error
  } else if (err instanceof ConfigError) {
    process.stderr.write(`patchops: ${err.message}\n`);
    process.exitCode = 78; // EX_CONFIG
  } else if (err instanceof CliError) {
    process.stderr.write(`patchops: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(
      `patchops: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 1;
  }
}
