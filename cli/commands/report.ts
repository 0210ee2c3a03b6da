import type { Client } from '@temporalio/client';
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Command } from 'commander';
import { z } from 'zod';
import { pct } from '../../domain/compliance-report.js';
import {
  createPool,
  createStore,
  type ComplianceKpis,
  type ComplianceSnapshot,
  type Store,
} from '../../store/index.js';
import type { complianceDaily, complianceReport } from '../../workflows/index.js';
import type { Config } from '../config.js';
import { CliError } from '../errors.js';
import { table } from '../format.js';
import { resolveTargets } from '../runtime.js';
import { connectClient } from '../temporal/connect.js';

const out = (text: string) => process.stdout.write(`${text}\n`);

/** The schedules' ids (after a prefix, default "patchops-"): one of each per namespace. */
export const DAILY_SCHEDULE_ID = 'compliance-daily';
export const WEEKLY_SCHEDULE_ID = 'compliance-weekly';

/** 2026-02-30 parses (as 2 March) but is no day: the date part must round-trip. */
const realDay = (s: string): boolean => {
  const day = s.slice(0, 10);
  return new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) === day;
};

const optionsSchema = z.object({
  client: z.string().min(1).optional(),
  format: z.enum(['table', 'csv', 'json'], {
    message: '--format must be table, csv or json',
  }),
  since: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/, {
      message: '--since must be a date like 2026-11-01 (or an ISO 8601 time)',
    })
    .refine((s) => !Number.isNaN(Date.parse(s)) && realDay(s), {
      message: '--since is not a real date (e.g. 2026-02-30); use YYYY-MM-DD',
    })
    .optional(),
  schedule: z.boolean().optional(),
});
type ReportOptions = z.infer<typeof optionsSchema>;

/** The KPIs of a report as a whole: the moment, the window and one row per client and site. */
export interface Report {
  asOf: string;
  since: string;
  rows: ComplianceKpis[];
  /** Stored daily snapshots (client totals) from `since`. */
  history: ComplianceSnapshot[];
}

const HEADERS = [
  'client',
  'site',
  'devices',
  'compliant',
  'compliance',
  'MTTP (h)',
  'open',
  'open age (d)',
  'open KEV',
  'failed',
  'KEV in SLA',
  'critical in SLA',
  'SLA breaches',
  'reboots pending',
];

const fixed = (x: number | null, digits = 1) => (x === null ? '-' : x.toFixed(digits));

export function formatTable(r: Report): string {
  return [
    `Compliance as of ${r.asOf}; time to patch and SLA shares since ${r.since}.`,
    table(
      HEADERS,
      r.rows.map((k) => [
        k.clientId,
        k.siteId ?? '(all sites)',
        k.managedDevices,
        k.compliantDevices,
        pct(k.complianceRate),
        fixed(k.meanHoursToPatch),
        k.openVulnerabilities,
        fixed(k.meanOpenAgeDays),
        k.openKev,
        k.failedPatches,
        pct(k.kevWithinSla),
        pct(k.criticalWithinSla),
        k.slaBreaches,
        k.rebootsPending,
      ]),
    ),
  ].join('\n');
}

const CSV_COLUMNS: Array<keyof ComplianceKpis> = [
  'clientId',
  'siteId',
  'managedDevices',
  'compliantDevices',
  'complianceRate',
  'meanHoursToPatch',
  'openVulnerabilities',
  'meanOpenAgeDays',
  'openKev',
  'failedPatches',
  'kevWithinSla',
  'criticalWithinSla',
  'slaBreaches',
  'rebootsPending',
];

const csvCell = (v: string | number | null): string => {
  const s = v === null ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** RFC 4180 CSV: one row per client and site (empty site = all sites), rates as 0..1. */
export function formatCsv(r: Report): string {
  return [
    ['asOf', 'since', ...CSV_COLUMNS].join(','),
    ...r.rows.map((k) => [r.asOf, r.since, ...CSV_COLUMNS.map((c) => k[c])].map(csvCell).join(',')),
  ].join('\n');
}

export async function buildReport(
  store: Store,
  o: { client?: string | undefined; since?: Date | undefined; asOf?: Date },
): Promise<Report> {
  // Without --since the report is the stored snapshot (taken daily, after scans and at the
  // end of rollouts): one indexed read however large the fleet; with it, computed now.
  const stored = !o.since && !o.asOf ? await store.compliance.current(o.client) : undefined;
  const takenAt = stored?.reduce((t, r) => Math.max(t, r.takenAt.getTime()), 0);
  const asOf = o.asOf ?? (takenAt ? new Date(takenAt) : new Date());
  const since = o.since ?? new Date(asOf.getTime() - 30 * 86_400_000);
  if (since >= asOf) throw new CliError('BAD_OPTION', '--since must be in the past', 2);
  const rows: ComplianceKpis[] = stored
    ? stored.map(({ day: _day, takenAt: _takenAt, ...kpis }) => kpis)
    : await store.compliance.kpis({ clientId: o.client, asOf, since });
  if (o.client && rows.length === 0)
    throw new CliError(
      'UNKNOWN_CLIENT',
      `no devices known for client "${o.client}"; run \`patchops scan --client ${o.client}\` first`,
    );
  const history = await store.compliance.history({ clientId: o.client, since });
  return { asOf: asOf.toISOString(), since: since.toISOString(), rows, history };
}

/**
 * Creates or updates the two compliance schedules (idempotent: run it at every deploy):
 * daily 06:00 UTC snapshots + alerts, weekly Monday 07:00 UTC reports. Overlapping runs are
 * skipped; a run missed while Temporal was down is caught up within a day.
 */
export async function ensureComplianceSchedules(
  client: Client,
  taskQueue: string,
  idPrefix = 'patchops-',
): Promise<Array<{ id: string; created: boolean }>> {
  const plans = [
    {
      id: `${idPrefix}${DAILY_SCHEDULE_ID}`,
      spec: { calendars: [{ hour: 6, minute: 0 }] },
      action: {
        type: 'startWorkflow' as const,
        workflowType: 'complianceDaily',
        workflowId: `${idPrefix}${DAILY_SCHEDULE_ID}`,
        taskQueue,
        args: [{}] as Parameters<typeof complianceDaily>,
      },
    },
    {
      id: `${idPrefix}${WEEKLY_SCHEDULE_ID}`,
      spec: { calendars: [{ dayOfWeek: 'MONDAY' as const, hour: 7, minute: 0 }] },
      action: {
        type: 'startWorkflow' as const,
        workflowType: 'complianceReport',
        workflowId: `${idPrefix}${WEEKLY_SCHEDULE_ID}`,
        taskQueue,
        args: [{}] as Parameters<typeof complianceReport>,
      },
    },
  ];
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' as const };
  const done: Array<{ id: string; created: boolean }> = [];
  for (const p of plans) {
    try {
      await client.schedule.create({
        scheduleId: p.id,
        spec: p.spec,
        action: p.action,
        policies,
      });
      done.push({ id: p.id, created: true });
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      await client.schedule
        .getHandle(p.id)
        .update((prev) => ({ ...prev, spec: p.spec, action: p.action, policies }));
      done.push({ id: p.id, created: false });
    }
  }
  return done;
}

function parseOptions(raw: Record<string, unknown>): ReportOptions {
  const r = optionsSchema.safeParse(raw);
  if (!r.success)
    throw new CliError('BAD_OPTION', r.error.issues.map((i) => i.message).join('\n'), 2);
  return r.data;
}

/** `patchops report`: compliance KPIs per client and site as a table, CSV or JSON. */
export function registerReportCommand(program: Command, config: () => Config): void {
  program
    .command('report')
    .description(
      'compliance per client and site: rate, time to patch, open vulnerabilities and KEV, failures, SLA, reboots',
    )
    .option('--client <id>', 'only this client')
    .option('--format <format>', 'table, csv or json', 'table')
    .option(
      '--since <date>',
      'window start for time to patch and SLA shares (default: 30 days ago)',
    )
    .option(
      '--schedule',
      'create or update the daily (snapshots, alerts) and weekly (report) Temporal Schedules',
    )
    .action(async (raw: Record<string, unknown>) => {
      const o = parseOptions(raw);
      const t = resolveTargets(config());
      if (o.schedule) {
        const client = await connectClient(config(), {
          address: t.temporalAddress,
          namespace: t.namespace,
        }).catch((err: unknown) => {
          throw new CliError(
            'TEMPORAL_UNREACHABLE',
            `cannot reach Temporal at ${t.temporalAddress}: ${String(err)}`,
          );
        });
        try {
          for (const s of await ensureComplianceSchedules(client, t.taskQueue))
            out(`schedule ${s.id} ${s.created ? 'created' : 'updated'}`);
        } finally {
          await client.connection.close();
        }
        return;
      }
      if (!t.databaseUrl)
        throw new CliError(
          'NO_DATABASE',
          'DATABASE_URL is not set and no `patchops dev` is running',
        );
      const pool = createPool(t.databaseUrl, 2);
      try {
        const report = await buildReport(createStore(pool), {
          client: o.client,
          since: o.since ? new Date(o.since) : undefined,
        });
        if (o.format === 'json') out(JSON.stringify(report, null, 2));
        else if (o.format === 'csv') out(formatCsv(report));
        else out(formatTable(report));
      } finally {
        await pool.end();
      }
    });
}
