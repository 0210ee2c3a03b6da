import type { Command } from 'commander';
import { approversFor } from '../../bot/commands/access.js';
import { describeEmergency, startEmergency } from '../../bot/commands/emergency.js';
import { cveIdSchema } from '../../domain/emergency.js';
import type { Config } from '../config.js';
import { CliError } from '../errors.js';
import { loadPolicyFiles, policyFiles } from '../policies.js';
import { osUser, withClient, withStore } from './lifecycle.js';

/**
 * `patchops emergency CVE-… [--client X] --as NAME`: the emergency path from the CLI, the
 * same as `/patch emergency` in chat (bot/commands/emergency.ts). NAME must be a CLI
 * approver of each client; the operating-system user is recorded beside it.
 */
export function registerEmergencyCommand(program: Command, config: () => Config): void {
  program
    .command('emergency <cve>')
    .description(
      "roll out only the fix for one CVE, to every client (or --client) whose devices miss it, with the policy's emergency settings",
    )
    .option('--client <id>', 'only this client')
    .requiredOption('--as <user>', 'who asks (a CLI approver in policy; your OS user is recorded)')
    .action(async (rawCve: string, o: { client?: string; as: string }) => {
      const cve = cveIdSchema.safeParse(rawCve);
      if (!cve.success)
        throw new CliError(
          'BAD_OPTION',
          `"${rawCve.slice(0, 40)}" is not a CVE id: expected e.g. CVE-2026-12345`,
          2,
        );
      const cfg = config();
      const policies = loadPolicyFiles(policyFiles(cfg.policyDir));
      const outcome = await withStore(cfg, (store) =>
        withClient(cfg, (temporal, taskQueue) =>
          startEmergency(
            { temporal, taskQueue, store },
            {
              cve: cve.data,
              clientId: o.client,
              source: 'cli',
              actor: `cli:${o.as}`,
              mayStart: (c) => approversFor(policies, c).cli.includes(o.as),
              audit: { as: o.as, osUser: osUser() },
            },
          ),
        ),
      );
      process.stdout.write(`${describeEmergency(outcome)}\n`);
      if (outcome.refused.length && !outcome.rollouts.length)
        throw new CliError(
          'NOT_AUTHORISED',
          `${o.as} is not a CLI approver of ${outcome.refused.join(', ')} (approvers.cli in the client's policy)`,
          3,
        );
    });
}
