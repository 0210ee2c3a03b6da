import { z } from 'zod';
import { describeLocation, intelFailure, readBytes, sourceClient } from './read.js';
import {
  IntelError,
  type EpssRow,
  type EpssSnapshot,
  type IntelDeps,
  type IntelLoader,
  type IntelLocation,
} from './types.js';

/** FIRST's daily file (maintained by Empirical Security); redirects to the dated file. */
export const EPSS_CSV_URL = 'https://epss.empiricalsecurity.com/epss_scores-current.csv.gz';
export const EPSS_API_URL = 'https://api.first.org/data/v1/epss';

const CVE = /^CVE-\d{4}-\d{4,19}$/;
const probability = z
  .string()
  .regex(/^\d+(\.\d+)?([eE]-?\d+)?$/, 'expected a number between 0 and 1 (as a string)')
  .transform(Number)
  .pipe(
    z
      .number()
      .min(0, 'expected a number between 0 and 1')
      .max(1, 'expected a number between 0 and 1'),
  );

/** GET /data/v1/epss: every value in `data` is a string, as FIRST documents. */
export const epssApiSchema = z.object({
  status: z.literal('OK'),
  'status-code': z.literal(200),
  version: z.string(),
  access: z.string(),
  total: z.number().int().nonnegative(),
  offset: z.coerce.number().int().nonnegative(),
  limit: z.coerce.number().int().positive(),
  data: z.array(
    z.object({
      cve: z.string().regex(CVE, 'expected a CVE id'),
      epss: probability,
      percentile: probability,
      date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD'),
      model_version: z.string().optional(),
    }),
  ),
});
export type EpssApiPage = z.output<typeof epssApiSchema>;

/**
 * Parses the daily CSV: an optional comment line "#model_version:…,score_date:…", the
 * header "cve,epss,percentile", then one row per CVE. Errors name the line and column.
 */
export function parseEpssCsv(text: string, where = 'csv'): EpssSnapshot {
  const lines = text.split('\n');
  let i = 0;
  let modelVersion: string | null = null;
  let scoreDate: string | undefined;
  const fail = (line: number, msg: string): never => {
    throw new IntelError(
      'INTEL_FORMAT',
      `FIRST EPSS ${where}: line ${line}: ${msg}; nothing was stored`,
    );
  };
  if (lines[0]?.startsWith('#')) {
    for (const part of lines[0].slice(1).trim().split(',')) {
      const [key, ...rest] = part.split(':');
      const value = rest.join(':').trim();
      if (key === 'model_version') modelVersion = value;
      if (key === 'score_date') scoreDate = value.slice(0, 10);
    }
    i = 1;
  }
  scoreDate ??= /epss_scores-(\d{4}-\d{2}-\d{2})/.exec(where)?.[1];
  if (!scoreDate || !/^\d{4}-\d{2}-\d{2}$/.test(scoreDate))
    fail(1, 'score_date: expected "#model_version:…,score_date:YYYY-MM-DD…" as the first line');
  const header = lines[i]?.trim();
  if (header !== 'cve,epss,percentile')
    fail(i + 1, `header: expected "cve,epss,percentile", got "${header?.slice(0, 60) ?? ''}"`);
  const rows: EpssRow[] = [];
  const seen = new Set<string>();
  for (let n = i + 1; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (!line) continue;
    const [cve, epss, percentile, extra] = line.split(',');
    if (extra !== undefined || percentile === undefined)
      fail(n + 1, `expected 3 columns (cve,epss,percentile), got "${line.slice(0, 80)}"`);
    if (!CVE.test(cve!)) fail(n + 1, `cve: expected a CVE id, got "${cve}"`);
    const e = Number(epss);
    const p = Number(percentile);
    if (!(epss !== '' && e >= 0 && e <= 1))
      fail(n + 1, `epss: expected a number between 0 and 1, got "${epss}"`);
    if (!(percentile !== '' && p >= 0 && p <= 1))
      fail(n + 1, `percentile: expected a number between 0 and 1, got "${percentile}"`);
    if (seen.has(cve!)) fail(n + 1, `cve: ${cve} is listed twice`);
    seen.add(cve!);
    rows.push({ cve: cve!, epss: e, percentile: p, date: scoreDate! });
  }
  if (!rows.length) fail(i + 2, 'no scores after the header');
  return { source: 'epss', modelVersion, scoreDate: scoreDate!, rows };
}

const isApi = (url: string) => /\/data\/v1\/epss\/?$/.test(new URL(url).pathname);

/** The FIRST EPSS API: pages through `offset`/`limit`; `cves` filters (comma list, ≤2000 chars). */
export class EpssApi {
  private readonly client;
  private readonly path: string;

  constructor(
    url: string,
    deps: IntelDeps,
    private readonly pageSize = 1000,
  ) {
    this.client = sourceClient(deps, 'FIRST EPSS', url);
    this.path = new URL(url).pathname;
  }

  /** Every score (no filter) or the scores of `cves`, all pages. */
  async scores(cves?: readonly string[], progress?: (d: string) => void): Promise<EpssRow[]> {
    const batches = cves ? chunkByLength(cves, 1900) : [undefined];
    const rows: EpssRow[] = [];
    for (const batch of batches) {
      let offset = 0;
      for (;;) {
        const page = await this.page(batch, offset);
        rows.push(
          ...page.data.map((d) => ({
            cve: d.cve,
            epss: d.epss,
            percentile: d.percentile,
            date: d.date,
          })),
        );
        offset = page.offset + page.data.length;
        progress?.(`EPSS API ${offset}/${page.total}`);
        if (!page.data.length || offset >= page.total) break;
      }
    }
    return rows;
  }

  async page(cves: string | undefined, offset: number): Promise<EpssApiPage> {
    try {
      const res = await this.client.request({
        method: 'GET',
        url: this.path,
        params: { cve: cves, offset, limit: this.pageSize },
        schema: epssApiSchema,
        endpoint: 'GET /data/v1/epss',
      });
      return res.data;
    } catch (err) {
      throw intelFailure(err);
    }
  }
}

function chunkByLength(cves: readonly string[], max: number): string[] {
  const out: string[] = [];
  let cur = '';
  for (const c of cves) {
    if (cur && cur.length + c.length + 1 > max) {
      out.push(cur);
      cur = '';
    }
    cur = cur ? `${cur},${c}` : c;
  }
  if (cur) out.push(cur);
  return out;
}

/**
 * Loads all EPSS scores: from the daily CSV (URL or file, gzip or not), or — when the URL
 * is the API's /data/v1/epss — by paging through the API.
 */
export function createEpssLoader(
  location: IntelLocation,
  deps: IntelDeps,
  options: { pageSize?: number } = {},
): IntelLoader<EpssSnapshot> {
  const where = describeLocation(location);
  return {
    source: 'epss',
    location: where,
    async load(o) {
      if (location.kind === 'url' && isApi(location.url)) {
        const rows = await new EpssApi(location.url, deps, options.pageSize).scores(
          undefined,
          o?.progress,
        );
        if (!rows.length)
          throw new IntelError(
            'INTEL_FORMAT',
            `FIRST EPSS ${where}: no scores; nothing was stored`,
          );
        const dedup = new Map(rows.map((r) => [r.cve, r]));
        return {
          source: 'epss',
          modelVersion: null,
          scoreDate: rows[0]!.date,
          rows: [...dedup.values()],
        };
      }
      const bytes = await readBytes(deps, 'FIRST EPSS', location, o?.signal);
      return parseEpssCsv(bytes.toString('utf8'), where);
    },
  };
}
