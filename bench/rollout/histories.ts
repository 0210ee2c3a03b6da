/**
 * Reads every history of a bench run's throwaway Temporal server and counts what Temporal
 * Cloud would bill. The server holds nothing but the run, so every execution in the
 * namespace belongs to it: parents, children, batch workflows and continued-as-new runs,
 * whatever their ids. Histories are read page by page, `parallel` at a time, and only
 * counted, so 10,000 children cost a few seconds and little memory.
 */
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { ActionCounts, HistoryStat, HistoryTotals } from './types.js';

// A CommonJS module: its namespaces are properties of the default export under ESM.
const EventType = proto.temporal.api.enums.v1.EventType;
type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;

const WARN_EVENTS = 10_240;
const WARN_BYTES = 10 * 1024 * 1024;
/** The TypeScript, Python, .NET and Rust SDKs (sdk-core) and the Go and Java SDKs. */
const LOCAL_ACTIVITY_MARKERS = new Set(['core_local_activity', 'LocalActivity']);
/** Planning activities whose duration is reported (the first of each). */
const TIMED_ACTIVITIES = ['prepareRollout', 'planRollout'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Execution {
  workflowId: string;
  runId: string;
  historySize: number;
}

/** Every execution on the server, once visibility shows none running and the count is stable. */
async function settledExecutions(client: Client): Promise<Execution[]> {
  let last = -1;
  for (let i = 0; i < 120; i++) {
    const total = (await client.workflow.count()).count;
    const running = (await client.workflow.count('ExecutionStatus = "Running"')).count;
    if (running === 0 && total === last) break;
    last = total;
    await sleep(500);
  }
  const out: Execution[] = [];
  for await (const info of client.workflow.list())
    out.push({
      workflowId: info.workflowId,
      runId: info.runId,
      historySize: info.historySize ?? 0,
    });
  return out;
}

const eventMs = (t: HistoryEvent['eventTime']): number =>
  t ? Number(t.seconds?.toString() ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : 0;

function emptyCounts(): ActionCounts {
  return {
    workflowStarts: 0,
    activities: 0,
    localActivities: 0,
    timers: 0,
    signals: 0,
    updates: 0,
  };
}

/** Counts one history page by page; keeps no events. */
async function countOne(
  client: Client,
  namespace: string,
  e: Execution,
  into: { actions: ActionCounts; retries: number; activityMs: Record<string, number> },
): Promise<number> {
  const scheduled = new Map<string, { name: string; at: number }>();
  let events = 0;
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.getWorkflowExecutionHistory({
      namespace,
      execution: { workflowId: e.workflowId, runId: e.runId },
      maximumPageSize: 1000,
      nextPageToken,
    });
    for (const ev of page.history?.events ?? []) {
      events++;
      const a = into.actions;
      switch (ev.eventType) {
        case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
          a.workflowStarts++;
          break;
        case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
          a.activities++;
          const name = ev.activityTaskScheduledEventAttributes?.activityType?.name ?? '';
          if (TIMED_ACTIVITIES.includes(name) && !(name in into.activityMs))
            scheduled.set(String(ev.eventId), { name, at: eventMs(ev.eventTime) });
          break;
        }
        case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
          into.retries += Math.max(0, (ev.activityTaskStartedEventAttributes?.attempt ?? 1) - 1);
          break;
        case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: {
          const id = String(ev.activityTaskCompletedEventAttributes?.scheduledEventId ?? '');
          const s = scheduled.get(id);
          if (s) into.activityMs[s.name] ??= eventMs(ev.eventTime) - s.at;
          break;
        }
        case EventType.EVENT_TYPE_MARKER_RECORDED:
          if (LOCAL_ACTIVITY_MARKERS.has(ev.markerRecordedEventAttributes?.markerName ?? ''))
            a.localActivities++;
          break;
        case EventType.EVENT_TYPE_TIMER_STARTED:
          a.timers++;
          break;
        case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
          a.signals++;
          break;
        case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
          a.updates++;
          break;
        default:
          break;
      }
    }
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return events;
}

/** Lists and reads every history on the server; `parallel` histories at a time. */
export async function countHistories(
  client: Client,
  namespace: string,
  parallel = 16,
): Promise<HistoryTotals> {
  const t0 = Date.now();
  const executions = await settledExecutions(client);
  const into = { actions: emptyCounts(), retries: 0, activityMs: {} as Record<string, number> };
  const stats: HistoryStat[] = [];
  let next = 0;
  const lane = async () => {
    while (next < executions.length) {
      const e = executions[next++]!;
      const events = await countOne(client, namespace, e, into);
      stats.push({ workflowId: e.workflowId, runId: e.runId, events, bytes: e.historySize });
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, executions.length) }, lane));
  const max = (by: (s: HistoryStat) => number) =>
    stats.reduce<HistoryStat | undefined>((m, s) => (!m || by(s) > by(m) ? s : m), undefined);
  return {
    executions: executions.length,
    actions: into.actions,
    totalActions: Object.values<number>({ ...into.actions }).reduce((a, b) => a + b, 0),
    events: stats.reduce((a, s) => a + s.events, 0),
    largest: max((s) => s.events),
    largestBytes: max((s) => s.bytes),
    overWarn: stats.filter((s) => s.events > WARN_EVENTS || s.bytes > WARN_BYTES).length,
    activityRetries: into.retries,
    activityMs: into.activityMs,
    collectMs: Date.now() - t0,
  };
}
