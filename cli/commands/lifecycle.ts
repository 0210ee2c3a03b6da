import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import type { Client, WorkflowHandle } from '@temporalio/client';
import {
  ScheduleAlreadyRunning,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
} from '@temporalio/client';
import type { Command } from 'commander';
import { parseDuration } from '../../domain/duration.js';
import { parsePolicy, type PolicyDocument } from '../../domain/policy/index.js';
import { createPool, createStore, type Store } from '../../store/index.js';
import type { clientScan, patchCycle } from '../../workflows/index.js';
import { progressQuery, type Progress } from '../../workflows/messages.js';
import { adapterDeps } from '../../adapters/kit.js';
import { createRmm } from '../../adapters/rmm/registry.js';
import {
  EXIT_CODES,
  RolloutControls,
  type Actor,
  type ControlReply,
} from '../../bot/commands/controls.js';
import { isFinal } from '../../domain/rollout-state.js';
import { createLogger } from '../logger.js';
import { loadPolicyFiles, policyFiles, readPolicyText } from '../policies.js';
import type { Config } from '../config.js';
import { CliError } from '../errors.js';
import { percent, table } from '../format.js';
import { resolveTargets } from '../runtime.js';
import { connectClient } from '../temporal/connect.js';

type GetConfig = () => Config;
const out = (text: string) => process.stdout.write(`${text}\n`);

export async function withClient<T>(
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

export async function withStore<T>(config: Config, fn: (store: Store) => Promise<T>): Promise<T> {
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
    const read = readPolicyText(file);
    if (!read.ok) throw new CliError('POLICY_INVALID', `--policy: ${read.error}`, 2);
    text = read.text;
  } catch (err) {
    if (err instanceof CliError) throw err;
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

/** The operating-system account running this command, recorded beside `--as`. */
export function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    // no passwd entry (some containers): the environment is the next best witness
    return process.env.USER ?? process.env.LOGNAME ?? `uid-${process.getuid?.() ?? '?'}`;
  }
}

const cliActor = (as: string): Actor => ({ who: { id: as, via: 'cli' }, osUser: osUser() });

/** Runs one change through the command layer chat uses; a refusal is one line and its exit code. */
async function withControls(
  config: Config,
  fn: (controls: RolloutControls) => Promise<ControlReply>,
): Promise<void> {
  let policies: PolicyDocument[];
  try {
    policies = loadPolicyFiles(policyFiles(config.policyDir));
  } catch (err) {
    throw new CliError('POLICY_INVALID', (err as Error).message, 78);
  }
  const r = await withClient(config, (temporal) =>
    withStore(config, (store) => fn(new RolloutControls({ temporal, store, policies }))),
  );
  if (!r.ok) throw new CliError(r.outcome.toUpperCase(), r.text, EXIT_CODES[r.outcome]);
  out(r.text);
}

/** A rollout needs a client the inventory or the RMM knows; nothing starts otherwise. */
async function clientMustExist(config: Config, clientId: string): Promise<void> {
  const known = await withStore(config, (s) => s.cards.clientIds());
  if (known.includes(clientId)) return;
  const rmm = createRmm(
    config.adapters.rmm.kind,
    config.adapters.rmm.settings,
    adapterDeps(createLogger(config.log), config.dataDir),
  );
  const clients = await rmm.listClients().catch((err: unknown) => {
    throw new CliError(
      'RMM_UNREACHABLE',
      `cannot list the ${config.adapters.rmm.kind} RMM's clients: ${(err as Error).message}`,
    );
  });
  if (clients.some((c) => c.id === clientId)) return;
  const some = clients.slice(0, 5).map((c) => c.id);
  throw new CliError(
    'UNKNOWN_CLIENT',
    `unknown client "${clientId}": neither the inventory nor the ${config.adapters.rmm.kind} RMM knows it${some.length ? ` (known: ${some.join(', ')}${clients.length > 5 ? ', …' : ''})` : ''}`,
    EXIT_CODES.not_found,
  );
}

/** Why a closed workflow ended, from Temporal (the failure's message), or undefined if it did not fail. */
async function failureOf(workflows: Client['workflow'], id: string): Promise<string | undefined> {
  try {
    await workflows.getHandle(id).result();
    return undefined;
  } catch (err) {
    if (err instanceof WorkflowFailedError)
      return err.cause?.message ?? err.message ?? 'the workflow failed';
    return (err as Error).message;
  }
}

/**
 * Whether the rollout's workflow is over without having recorded its end (failed in
 * planning before it could, terminated, timed out): then its row becomes failed, with why.
 */
async function endedUnrecorded(
  client: Client,
  store: Store,
  id: string,
): Promise<string | undefined> {
  const d = await client.workflow
    .getHandle(id)
    .describe()
    .catch(() => undefined);
  if (!d || d.status.name === 'RUNNING' || d.status.name === 'COMPLETED') return undefined;
  const why = (await failureOf(client.workflow, id)) ?? d.status.name.toLowerCase();
  await store.rollouts.markFailed(id, why);
  return why;
}

/** One rollout: live progress while it runs, its recorded end (and why) once it is over. */
async function rolloutStatus(client: Client, store: Store, id: string): Promise<string> {
  const row = await store.rollouts.get(id);
  const handle = client.workflow.getHandle(id);
  const d = await handle.describe().catch((err: unknown) => {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  });
  if (!row && !d) throw new CliError('NOT_FOUND', `no rollout ${id}`, EXIT_CODES.not_found);
  if (d?.status.name === 'RUNNING') return formatProgress(await handle.query(progressQuery));
  if (!row)
    return `${id}: failed: ${(await failureOf(client.workflow, id)) ?? d!.status.name.toLowerCase()}`;
  if (!isFinal(row.status) && d) await endedUnrecorded(client, store, id);
  const now = (await store.rollouts.get(id)) ?? row;
  const note = (now.summary as { note?: string }).note;
  const rings = await store.rollouts.ringCounts(id);
  return [
    `${id}: ${now.status}${note ? `: ${note}` : ''}`,
    ...(rings.length
      ? [
          table(
            ['ring', 'devices', 'succeeded', 'failed', 'skipped', 'cancelled'],
            rings.map((r) => [
              r.ring,
              r.total,
              r.counts.succeeded ?? 0,
              r.counts.failed ?? 0,
              (r.counts.skipped ?? 0) + (r.counts.offline ?? 0),
              r.counts.cancelled ?? 0,
            ]),
          ),
        ]
      : []),
  ].join('\n');
}

/**
 * Waits until planning is over: a phase past planning is success; a workflow that failed or
 * a timeout says so (the first as a non-zero exit).
 */
async function planningOutcome(
  handle: WorkflowHandle,
  id: string,
  waitMs: number,
): Promise<string> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const d = await handle.describe();
    if (d.status.name !== 'RUNNING') {
      if (d.status.name === 'COMPLETED') {
        const state = (await handle.result()) as { phase: string };
        return `${id}: ${state.phase}`;
      }
      const why = await failureOf(handle.client, id);
      throw new CliError('ROLLOUT_FAILED', `${id} failed: ${why ?? d.status.name.toLowerCase()}`);
    }
    const p = await handle.query(progressQuery).catch(() => undefined);
    // 'failed' is recorded just before the workflow fails: the next look reports why.
    if (p && p.phase !== 'planning' && p.phase !== 'failed') return `${id}: ${p.phase}`;
    if (Date.now() >= deadline)
      return `${id}: still planning after ${Math.round(waitMs / 1000)}s; \`patchops status ${id}\` follows it`;
    await new Promise((r) => setTimeout(r, 500));
  }
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
    .description(
      'scan a client, plan from policy, ask for approval and deploy ring by ring; waits for planning to end',
    )
    .requiredOption('--client <id>', 'client id')
    .option('--policy <file>', 'an extra policy YAML applied to this rollout (nearest level wins)')
    .option('--id <rolloutId>', 'rollout id (default: rollout-CLIENT-TIMESTAMP)')
    .option('--as <user>', 'who starts it (recorded with your OS user)', osUser())
    .option('--wait <duration>', 'how long to wait for planning to end (0s: do not wait)', '2m')
    .action(
      async (o: { client: string; policy?: string; id?: string; as: string; wait: string }) => {
        const policy = o.policy ? readPolicyFile(o.policy) : undefined;
        const waitMs = parseDuration(o.wait) ?? (/^0+[smhd]?$/.test(o.wait) ? 0 : undefined);
        if (waitMs === undefined)
          throw new CliError(
            'BAD_DURATION',
            `--wait: expected a duration like "2m" or "0s", got "${o.wait}"`,
            2,
          );
        const id =
          o.id ??
          `rollout-${o.client}-${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}`;
        await clientMustExist(config(), o.client);
        await withClient(config(), async (client, taskQueue) => {
          const handle = await client.workflow
            .start<typeof patchCycle>('patchCycle', {
              taskQueue,
              workflowId: id,
              // A rollout id names one rollout for good: its row, audit and tickets.
              workflowIdReusePolicy: 'REJECT_DUPLICATE',
              args: [
                {
                  rolloutId: id,
                  clientId: o.client,
                  startedBy: `cli:${o.as}`,
                  ...(policy ? { policyOverride: policy } : {}),
                },
              ],
            })
            .catch((err: unknown) => {
              if (err instanceof WorkflowExecutionAlreadyStartedError)
                throw new CliError(
                  'ALREADY_STARTED',
                  `rollout ${id} already exists: pick another --id`,
                  EXIT_CODES.conflict,
                );
              throw new CliError('START_FAILED', `rollout ${id} did not start: ${String(err)}`);
            });
          out(`started ${id} (by cli:${o.as}, OS user ${osUser()})`);
          if (waitMs > 0) out(await planningOutcome(handle, id, waitMs));
        });
      },
    );

  program
    .command('status [rollout]')
    .description('progress of one rollout, or the recent rollouts')
    .action(async (id?: string) => {
      await withClient(config(), (client) =>
        withStore(config(), async (store) => {
          if (id) {
            out(await rolloutStatus(client, store, id));
            for (const t of await store.tickets.ofRollout(id))
              out(`${t.role} ${t.number} (${t.kind}, ${t.status})${t.url ? ` ${t.url}` : ''}`);
            return;
          }
          const rows = await store.cards.recentRollouts();
          const shown: string[][] = [];
          for (const r of rows) {
            let status = `${r.shown}${r.paused && !isFinal(r.status) ? ' (paused)' : ''}`;
            // A workflow that ended without recording it is failed, here as in `status ID`.
            if (!isFinal(r.status)) {
              const ended = await endedUnrecorded(client, store, r.id);
              if (ended) status = 'failed';
            }
            shown.push([r.id, r.clientId, status, r.ticket ?? '—', r.createdAt.toISOString()]);
          }
          out(table(['rollout', 'client', 'status', 'ticket', 'created'], shown));
        }),
      );
    });

  const asOption = '--as <user>';
  const asHelp = 'your approver name (must be listed under approvers.cli in the policy)';
  const requestHelp =
    'an id for this request: repeating the command with the same id is one action (default: new each run)';

  for (const decision of ['approve', 'reject', 'defer'] as const) {
    const cmd = program
      .command(`${decision} <rollout>`)
      .description(`${decision} a rollout that awaits approval`)
      .requiredOption(asOption, asHelp)
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
      await withControls(config(), (c) =>
        c.decide(cliActor(o.as), {
          rolloutId: id,
          decision,
          reason: o.reason,
          ...(deferMs ? { deferMs } : {}),
        }),
      );
    });
  }

  program
    .command('promote <rollout>')
    .description('promote a rollout to its next ring (when the policy asks for manual promotion)')
    .requiredOption('--ring <name>', 'the ring to start')
    .requiredOption(asOption, asHelp)
    .action(async (id: string, o: { ring: string; as: string }) => {
      await withControls(config(), (c) => c.promote(cliActor(o.as), id, o.ring));
    });

  for (const what of ['pause', 'resume', 'cancel'] as const) {
    program
      .command(`${what} <rollout>`)
      .description(`${what} a running rollout`)
      .requiredOption(asOption, asHelp)
      .option('--reason <text>', 'why')
      .option('--request-id <id>', requestHelp)
      .action(async (id: string, o: { as: string; reason?: string; requestId?: string }) => {
        const key = o.requestId ?? `run-${randomUUID()}`;
        await withControls(config(), (c) => c.control(cliActor(o.as), id, what, key, o.reason));
      });
  }

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
          // Over the size limit it is refused before it is read.
          const read = readPolicyText(file);
          if (!read.ok) {
            errors.push(read.error);
            continue;
          }
          text = read.text;
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
