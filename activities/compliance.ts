import type { ImageFile, Notice } from '../adapters/chat/types.js';
import { complianceChartSpec, type ChartPoint } from '../domain/compliance-chart.js';
import { reportText } from '../domain/compliance-report.js';
import { renderPng } from './chart-render.js';
import type { ActivityDeps } from './index.js';

const DAY_MS = 86_400_000;
/** The weekly report's window for time to patch and SLA shares. */
export const REPORT_WINDOW_DAYS = 7;
/** How far back the report's chart looks. */
export const CHART_DAYS = 90;

/** Daily snapshots and the weekly report with its chart, posted once per client per period. */
export function createComplianceActivities({ store, notifiers, log }: ActivityDeps) {
  return {
    /** Stores today's KPIs of every client and site (a re-run the same day replaces them). */
    async takeComplianceSnapshots(): Promise<{ rows: number }> {
      return { rows: await store.compliance.takeSnapshots() };
    },

    /** Clients with devices: each gets its alerts and its report. */
    async complianceClients(): Promise<string[]> {
      return store.compliance.clientIds();
    },

    /**
     * Posts one client's report for `period` (an ISO week, "2026-W49") to each of its chat
     * conversations, with the chart where the platform takes images. Each post is claimed
     * under report:<client>:<period>:<platform>:<conversation> first, so a retried activity
     * or a second run of the same week posts nothing again.
     */
    async postComplianceReport(a: {
      clientId: string;
      period: string;
    }): Promise<{ posted: number; already: number }> {
      const now = new Date();
      const rows = await store.compliance.kpis({
        clientId: a.clientId,
        asOf: now,
        since: new Date(now.getTime() - REPORT_WINDOW_DAYS * DAY_MS),
      });
      const text = reportText(a.clientId, a.period, rows, REPORT_WINDOW_DAYS);
      const notice: Notice = { rolloutId: '', clientId: a.clientId, kind: 'summary', text };
      let image: ImageFile | undefined;
      const chart = async (): Promise<ImageFile> => {
        image ??= {
          filename: `compliance-${a.clientId}-${a.period}.png`.replace(/[^\w.-]+/g, '-'),
          png: await renderPng(
            complianceChartSpec(
              `${a.clientId}: compliance and open KEV exposure`,
              await chartPoints(a.clientId, now),
            ),
          ),
          title: `Compliance ${a.clientId} ${a.period}`,
          altText: `Compliance rate and open KEV exposure of ${a.clientId} over the last ${CHART_DAYS} days`,
        };
        return image;
      };
      let posted = 0;
      let already = 0;
      for (const n of notifiers) {
        for (const conversation of await n.targets(a.clientId)) {
          const key = `report:${a.clientId}:${a.period}:${n.platform}:${conversation}`;
          const claim = await store.alerts.claimPost({
            platform: n.platform,
            conversation,
            purpose: 'compliance_report',
            key,
          });
          if (claim.state === 'done') {
            already++;
            continue;
          }
          const recheck = claim.state === 'retry';
          const message = n.postImage
            ? await n.postImage(conversation, await chart(), notice, { key, recheck })
            : await n.post(conversation, notice, { key });
          await store.alerts.completePost(key, message.messageRef);
          posted++;
        }
      }
      log.info({ clientId: a.clientId, period: a.period, posted, already }, 'compliance report');
      return { posted, already };
    },
  };

  /** The client's daily totals for the chart, today's live numbers standing in for a missing snapshot. */
  async function chartPoints(clientId: string, now: Date): Promise<ChartPoint[]> {
    const history = await store.compliance.history({
      clientId,
      since: new Date(now.getTime() - CHART_DAYS * DAY_MS),
    });
    const points = history.map((s) => ({
      day: s.day,
      complianceRate: s.complianceRate,
      openKev: s.openKev,
    }));
    const today = now.toISOString().slice(0, 10);
    if (points[points.length - 1]?.day !== today) {
      const [total] = (await store.compliance.kpis({ clientId, asOf: now })).filter(
        (k) => k.siteId === null,
      );
      if (total)
        points.push({ day: today, complianceRate: total.complianceRate, openKev: total.openKev });
    }
    return points;
  }
}
