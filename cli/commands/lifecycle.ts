import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { ScheduleAlreadyRunning, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Command } from 'commander';
import { parseDuration } from '../../domain/duration.js';
import { parsePolicy, type PolicyDocument } from '../../domain/policy/index.js';
import { createPool, createStore, type Store } from '../../store/index.js';
import type { clientScan, patchCycle } from '../../workflows/index.js';
import {
  cancelSignal,
  decideUpdate,
  pauseSignal,
  progressQuery,
  promoteUpdate,
  resumeSignal,
  type Progress,
} from '../../workflows/messages.js';
import type { Config } from '../config.js';
import { CliError } from '../errors.js';
import { percent, table } from '../format.js';
import { resolveTargets } from '../runtime.js';
import { connectClient } from '../temporal/connect.js';

type GetConfig = () => Config;
const out = (text: string) => process.stdout.write(`${text}\n`);

async function withClient<T>(
  config: Config,
  fn: (client: Client, taskQueue: string) => Promise<T>,
): Promise<T> {
  const t = resolveTargets(config);
  const client = await connectClient(config, {
    address: t.temporalAddress,
    namespace: t.namespace,
  }).catch((err: unknown) => {
    throw new CliError(
      'TEMPORAL_UNREACHABLE',
      `cannot reach Temporal at ${t.temporalAddress}: ${String(err)}`,
    );
  });
  try {
    return await fn(client, t.taskQueue);
  } finally {
    await client.connection.close();
  }
}

async function withStore<T>(config: Config, fn: (store: Store) => Promise<T>): Promise<T> {
  const url = resolveTargets(config).databaseUrl;
  if (!url)
    throw new CliError('NO_DATABASE', 'DATABASE_URL is not set and no `patchops dev` is running');
  const pool = createPool(url, 2);
  try {
    return await fn(createStore(pool));
  } finally {
    await pool.end();
  }
}

/** Loads one policy file for `rollout start --policy`, reporting every error in it. */
export function readPolicyFile(file: string): PolicyDocument {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(
      'POLICY_UNREADABLE',
      `--policy: cannot read ${file} (${(err as Error).message})`,
      2,
    );
  }
  const r = parsePolicy(text, file);
  if (!r.ok) throw new CliError('POLICY_INVALID', r.errors.join('\n'), 2);
  return r.policy;
}

export function formatProgress(p: Progress): string {
  const head = `${p.rolloutId}: ${p.phase}${p.paused ? ' (paused)' : ''}${p.currentRing ? `, ring ${p.currentRing}` : ''}`;
  const rows = p.rings.map((r) => [r.name, r.total, r.started, r.succeeded, r.failed, r.skipped]);
  const extra = [
    p.decision ? `decision: ${p.decision.decision} by ${p.decision.decidedBy}` : null,
    p.haltReason ? `halted: ${p.haltReason}` : null,
  ].filter(Boolean);
  return [
    head,
    table(['ring', 'devices', 'started', 'succeeded', 'failed', 'skipped'], rows),
    ...extra,
  ].join('\n');
}

export function registerLifecycleCommands(program: Command, config: GetConfig): void {
  program
    .command('scan <client>')
    .description('scan a client now, or with --every keep a Temporal Schedule that scans it')
    .option(
      '--every <duration>',
      'scan on this interval (e.g. 12h, 1d) through a Temporal Schedule',
    )
    .action(async (clientId: string, o: { every?: string }) => {
      const everyMs = o.every === undefined ? undefined : parseDuration(o.every);
      if (o.every !== undefined && !everyMs) {
        throw new CliError(
          'BAD_DURATION',
          `--every: expected a duration like "12h" or "1d", got "${o.every}"`,
          2,
        );
      }
      await withClient(config(), async (client, taskQueue) => {
        if (everyMs) {
          const scheduleId = `scan-${clientId}`;
          const action = {
            type: 'startWorkflow' as const,
            workflowType: 'clientScan',
            taskQueue,
            args: [{ clientId }],
          };
          try {
            await client.schedule.create({
              scheduleId,
              spec: { intervals: [{ every: everyMs }] },
              action,
            });
            out(`schedule ${scheduleId} created: every ${o.every}`);
          } catch (err) {
            if (!(err instanceof ScheduleAlreadyRunning)) throw err;
            await client.schedule
              .getHandle(scheduleId)
              .update((prev) => ({ ...prev, spec: { intervals: [{ every: everyMs }] }, action }));
            out(`schedule ${scheduleId} updated: every ${o.every}`);
          }
          return;
        }
        const r = await client.workflow.execute<typeof clientScan>('clientScan', {
          taskQueue,
          workflowId: `scan-${clientId}-${Date.now()}`,
          args: [{ clientId }],
        });
        out(`scanned ${r.devices} devices of ${clientId}`);
      });
      const rows = await withStore(config(), (s) => s.compliance.snapshot(clientId));
      out(formatCompliance(rows));
    });

  const rollout = program.command('rollout').description('start patch rollouts');
  rollout
    .command('start')
    .description('scan a client, plan from policy, ask for approval and deploy ring by ring')
    .requiredOption('--client <id>', 'client id')
    .option('--policy <file>', 'an extra policy YAML applied to this rollout (nearest level wins)')
    .option('--id <rolloutId>', 'rollout id (default: rollout-CLIENT-TIMESTAMP)')
    .option('--as <user>', 'who starts it', process.env.USER ?? 'cli')
    .action(async (o: { client: string; policy?: string; id?: string; as: string }) => {
      const policy = o.policy ? readPolicyFile(o.policy) : undefined;
      const id =
        o.id ??
        `rollout-${o.client}-${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}`;
      await withClient(config(), async (client, taskQueue) => {
        await client.workflow.start<typeof patchCycle>('patchCycle', {
          taskQueue,
          workflowId: id,
          args: [
            {
              rolloutId: id,
              clientId: o.client,
              startedBy: `cli:${o.as}`,
              ...(policy ? { policyOverride: policy } : {}),
            },
          ],
        });
      });
      out(`started ${id}`);
    });

  program
    .command('status [rollout]')
    .description('progress of one rollout, or the recent rollouts')
    .action(async (id?: string) => {
      if (id) {
        const p = await withClient(config(), (client) =>
          client.workflow.getHandle(id).query(progressQuery),
        );
        out(formatProgress(p));
        const tickets = await withStore(config(), (s) => s.tickets.ofRollout(id));
        for (const t of tickets)
          out(`${t.role} ${t.number} (${t.kind}, ${t.status})${t.url ? ` ${t.url}` : ''}`);
        return;
      }
      const rows = await withStore(config(), (s) => s.compliance.recentRollouts());
      out(
        table(
          ['rollout', 'client', 'status', 'ticket', 'created'],
          rows.map((r) => [r.id, r.clientId, r.status, r.ticket ?? '—', r.createdAt.toISOString()]),
        ),
      );
    });

  for (const decision of ['approve', 'reject', 'defer'] as const) {
    const cmd = program
      .command(`${decision} <rollout>`)
      .description(`${decision} a rollout that awaits approval`)
      .requiredOption(
        '--as <user>',
        'your approver name (must be listed under approvers.cli in the policy)',
      )
      .option('--reason <text>', 'why');
    if (decision === 'defer') cmd.option('--for <duration>', 'how long, e.g. 1d, 3d, 7d', '1d');
    cmd.action(async (id: string, o: { as: string; reason?: string; for?: string }) => {
      const deferMs = o.for ? parseDuration(o.for) : undefined;
      if (decision === 'defer' && !deferMs)
        throw new CliError(
          'BAD_DURATION',
          `--for: expected a duration like "1d" or "3d", got "${o.for}"`,
          2,
        );
      await withClient(config(), async (client) => {
        try {
          const r = await client.workflow.getHandle(id).executeUpdate(decideUpdate, {
            args: [
              {
                decision,
                approver: { id: o.as, via: 'cli' },
                ...(o.reason ? { reason: o.reason } : {}),
                ...(deferMs ? { deferMs } : {}),
              },
            ],
          });
          out(`${id}: ${r.decision} recorded (by ${r.decidedBy})`);
        } catch (err) {
          if (err instanceof WorkflowUpdateFailedError)
            throw new CliError('DECISION_REFUSED', `${id}: ${err.cause?.message ?? err.message}`);
          throw err;
        }
      });
    });
  }

  program
    .command('promote <rollout>')
    .description('promote a rollout to its next ring (when the policy asks for manual promotion)')
    .requiredOption('--ring <name>', 'the ring to start')
    .requiredOption('--as <user>', 'your approver name')
    .action(async (id: string, o: { ring: string; as: string }) => {
      await withClient(config(), async (client) => {
        try {
          await client.workflow.getHandle(id).executeUpdate(promoteUpdate, {
            args: [{ ring: o.ring, approver: { id: o.as, via: 'cli' } }],
          });
        } catch (err) {
          if (err instanceof WorkflowUpdateFailedError)
            throw new CliError('PROMOTION_REFUSED', `${id}: ${err.cause?.message ?? err.message}`);
          throw err;
        }
      });
      out(`${id}: ring ${o.ring} promoted`);
    });

  const signals = { pause: pauseSignal, resume: resumeSignal, cancel: cancelSignal } as const;
  for (const [name, signal] of Object.entries(signals)) {
    program
      .command(`${name} <rollout>`)
      .description(`${name} a running rollout`)
      .option('--as <user>', 'who', process.env.USER ?? 'cli')
      .option('--reason <text>', 'why')
      .action(async (id: string, o: { as: string; reason?: string }) => {
        await withClient(config(), (client) =>
          client.workflow
            .getHandle(id)
            .signal(signal, { by: `cli:${o.as}`, ...(o.reason ? { reason: o.reason } : {}) }),
        );
        out(`${id}: ${name} sent`);
      });
  }

  program
    .command('report')
    .description('compliance per client and site: rate, mean time to patch, failures, SLA breaches')
    .option('--client <id>', 'only this client')
    .action(async (o: { client?: string }) => {
      const rows = await withStore(config(), (s) => s.compliance.snapshot(o.client));
      out(formatCompliance(rows));
    });

  program
    .command('policy')
    .description('policy files')
    .command('validate <files...>')
    .description('check policy YAML files; prints every error at once')
    .action((files: string[]) => {
      const errors: string[] = [];
      for (const file of files) {
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (err) {
          errors.push(`${file}: cannot read (${(err as Error).message})`);
          continue;
        }
        const r = parsePolicy(text, file);
        if (r.ok)
          out(
            `${file}: ok (${r.policy.scope.level}${r.policy.scope.id ? ` ${r.policy.scope.id}` : ''})`,
          );
        else errors.push(...r.errors);
      }
      if (errors.length) throw new CliError('POLICY_INVALID', errors.join('\n'), 1);
    });
}

export function formatCompliance(
  rows: Awaited<ReturnType<Store['compliance']['snapshot']>>,
): string {
  return table(
    [
      'client',
      'site',
      'devices',
      'compliance',
      'critical addressed',
      'failed',
      'pending reboot',
      'SLA breaches',
      'MTTP (h)',
    ],
    rows.map((r) => [
      r.clientId,
      r.siteId,
      r.devices,
      percent(r.complianceRate),
      percent(r.criticalAddressed),
      r.failed,
      r.pendingReboot,
      r.slaBreaches,
      r.meanHoursToPatch === null ? '-' : r.meanHoursToPatch.toFixed(1),
    ]),
  );
}
