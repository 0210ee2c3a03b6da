import type { Command } from 'commander';
import type { Config } from '../config.js';
import { CliError } from '../errors.js';
import { table } from '../format.js';
import { resolveTargets } from '../runtime.js';
import { verifyAuditChains, type ChainReport } from '../../store/audit.js';
import { createPool } from '../../store/index.js';

type GetConfig = () => Config;

const chainName = (r: ChainReport) => (r.clientId === null ? '(no client)' : r.clientId);

/** One line per chain: ok with its row count and head hash, or the first row that does not fit. */
export function formatVerify(reports: ChainReport[]): string {
  if (reports.length === 0) return 'no audit events';
  return table(
    ['state', 'client', 'rows', 'detail'],
    reports.map((r) => [
      r.problem ? r.problem.kind.toUpperCase() : 'ok',
      chainName(r),
      r.rows,
      r.problem ? r.problem.detail : `intact; head ${r.head ?? '-'}`,
    ]),
  );
}

export function registerAuditCommands(program: Command, getConfig: GetConfig): void {
  const audit = program.command('audit').description('the tamper-evident audit trail');
  audit
    .command('verify')
    .description(
      "walk each client's hash chain; report the first edited, missing or moved row (exit 1)",
    )
    .option('--client <id>', "verify only this client's chain")
    .action(async (o: { client?: string }) => {
      const url = resolveTargets(getConfig()).databaseUrl;
      if (!url)
        throw new CliError(
          'NO_DATABASE',
          'DATABASE_URL is not set and no `patchops dev` is running',
        );
      const pool = createPool(url, 2);
      try {
        const reports = await verifyAuditChains(
          pool,
          o.client === undefined ? {} : { clientId: o.client },
        );
        process.stdout.write(`${formatVerify(reports)}\n`);
        if (reports.some((r) => r.problem)) process.exitCode = 1;
      } finally {
        await pool.end();
      }
    });
}
