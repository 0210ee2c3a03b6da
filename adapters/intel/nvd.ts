import { z } from 'zod';
import { chooseCvss } from './cvss.js';
import { SlidingWindow } from './pacing.js';
import {
  describeLocation,
  intelFailure,
  parseFormat,
  parseJsonText,
  readBytes,
  sourceClient,
} from './read.js';
import type {
  CvssMetric,
  IntelDeps,
  IntelLoader,
  IntelLocation,
  NvdRow,
  NvdSnapshot,
} from './types.js';

export const NVD_URL = 'https://services.nvd.nist.gov/rest/json/cves/2.0';
/** NVD's terms ask every product using the API to show this, prominently. */
export const NVD_NOTICE =
  'This product uses the NVD API but is not endorsed or certified by the NVD.';
/** The longest lastMod range NVD accepts in one request. */
const MAX_RANGE_MS = 120 * 24 * 3600 * 1000;

const metric = (version: CvssMetric['version']) =>
  z.object({
    source: z.string(),
    type: z.enum(['Primary', 'Secondary']),
    cvssData: z.object({
      version: z.literal(version),
      baseScore: z.number().min(0).max(10),
      vectorString: z.string().min(1),
    }),
  });

/** The CVE API 2.0 answer (also the shape of NVD's JSON 2.0 data feeds). */
export const nvdResponseSchema = z.object({
  resultsPerPage: z.number().int().nonnegative(),
  startIndex: z.number().int().nonnegative(),
  totalResults: z.number().int().nonnegative(),
  format: z.string(),
  version: z.string(),
  timestamp: z.string(),
  vulnerabilities: z.array(
    z.object({
      cve: z.object({
        id: z.string().regex(/^CVE-\d{4}-\d{4,19}$/, 'expected a CVE id'),
        lastModified: z.string(),
        vulnStatus: z.string().optional(),
        metrics: z
          .object({
            cvssMetricV40: z.array(metric('4.0')).optional(),
            cvssMetricV31: z.array(metric('3.1')).optional(),
            cvssMetricV30: z.array(metric('3.0')).optional(),
          })
          .optional(),
      }),
    }),
  ),
});
export type NvdResponse = z.output<typeof nvdResponseSchema>;

/** Maps one page to rows, choosing each CVE's CVSS metric. */
export function nvdRows(page: NvdResponse): NvdRow[] {
  return page.vulnerabilities.map(({ cve }) => {
    const m = cve.metrics ?? {};
    const metrics: CvssMetric[] = [
      ...(m.cvssMetricV40 ?? []),
      ...(m.cvssMetricV31 ?? []),
      ...(m.cvssMetricV30 ?? []),
    ].map((x) => ({
      version: x.cvssData.version,
      source: x.source,
      type: x.type,
      baseScore: x.cvssData.baseScore,
      vectorString: x.cvssData.vectorString,
    }));
    return {
      cve: cve.id,
      lastModified: cve.lastModified,
      vulnStatus: cve.vulnStatus ?? null,
      cvss: chooseCvss(metrics),
      metrics,
    };
  });
}

/** NVD's date parameters: ISO 8601 with an explicit offset. */
const nvdDate = (d: Date) => d.toISOString().replace('Z', '+00:00');

export interface NvdSettings {
  apiKey?: string | undefined;
  /** The rolling window of NVD's limit (30 s); tests shrink it. */
  windowMs?: number;
  /** At most 2000 per NVD. */
  resultsPerPage?: number;
}

/**
 * Syncs CVEs from the NVD CVE API 2.0: a full load the first time, then only what NVD
 * changed since the previous refresh (lastModStartDate/lastModEndDate, ≤120 days), page
 * by page with startIndex, paced to NVD's rate limit. A 403 is NVD's rate limit (retried
 * after a pause); a 503 is retried with backoff. A local file holds one API answer or an
 * NVD 2.0 JSON feed (nvdcve-2.0-*.json[.gz]).
 */
export function createNvdLoader(
  location: IntelLocation,
  deps: IntelDeps,
  settings: NvdSettings = {},
): IntelLoader<NvdSnapshot> {
  const where = describeLocation(location);
  const windowMs = settings.windowMs ?? 30_000;
  const pacing = new SlidingWindow(settings.apiKey ? 50 : 5, windowMs);
  return {
    source: 'nvd',
    location: where,
    async load(o) {
      if (location.kind === 'file') {
        const bytes = await readBytes(deps, 'NVD', location, o?.signal);
        const page = parseFormat(
          'NVD',
          where,
          nvdResponseSchema,
          parseJsonText('NVD', where, bytes),
        );
        return { source: 'nvd', windowEnd: page.timestamp, full: false, rows: nvdRows(page) };
      }
      const client = sourceClient(deps, 'NVD', location.url, {
        ...(settings.apiKey
          ? { headers: { apiKey: settings.apiKey }, secrets: [settings.apiKey] }
          : {}),
        // NIST's firewall answers 403 when the rolling window is exceeded.
        isRateLimit: (status) => status === 403,
        retryBaseMs: Math.max(50, Math.round(windowMs / 5)),
      });
      const end = deps.clock();
      const since = o?.since ? new Date(o.since) : undefined;
      const incremental = since && end.getTime() - since.getTime() < MAX_RANGE_MS;
      const path = new URL(location.url).pathname;
      const rows = new Map<string, NvdRow>();
      let startIndex = 0;
      for (;;) {
        await pacing.take();
        let page: NvdResponse;
        try {
          page = (
            await client.request({
              method: 'GET',
              url: path,
              params: {
                startIndex,
                resultsPerPage: settings.resultsPerPage ?? 2000,
                ...(incremental
                  ? { lastModStartDate: nvdDate(since), lastModEndDate: nvdDate(end) }
                  : {}),
              },
              schema: nvdResponseSchema,
              endpoint: 'GET /rest/json/cves/2.0',
            })
          ).data;
        } catch (err) {
          const e = intelFailure(err);
          if ((err as { status?: number }).status === 404)
            e.message +=
              ' (NVD answers 404 "Invalid apiKey." to a wrong key: check PATCHOPS_INTEL_NVD_API_KEY)';
          throw e;
        }
        for (const r of nvdRows(page)) rows.set(r.cve, r);
        startIndex = page.startIndex + page.vulnerabilities.length;
        o?.progress?.(`NVD ${startIndex}/${page.totalResults}`);
        if (!page.vulnerabilities.length || startIndex >= page.totalResults) break;
      }
      return {
        source: 'nvd',
        windowEnd: end.toISOString(),
        full: !incremental,
        rows: [...rows.values()],
      };
    },
  };
}
