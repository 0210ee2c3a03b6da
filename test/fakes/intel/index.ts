/**
 * Fakes of the four intelligence sources on one local HTTP server, serving the fixtures in
 * test/fixtures/intel in each vendor's documented wire format:
 * - CISA KEV: GET /sites/default/files/feeds/known_exploited_vulnerabilities.json
 * - FIRST EPSS: GET /epss_scores-current.csv.gz → 302 to the dated file (served as plain
 *   CSV: the shared fake server writes text, not bytes); GET /data/v1/epss with cve,
 *   offset and limit (every number a string, as FIRST answers)
 * - NVD CVE API 2.0: GET /rest/json/cves/2.0 with cveId, lastModStartDate/lastModEndDate
 *   (both or neither, at most 120 days), startIndex, resultsPerPage (≤2000); the rolling
 *   rate limit (5 per window, 50 with an apiKey header) answers 403 with an empty body as
 *   NIST's firewall does; a wrong apiKey gets 404 with a `message: Invalid apiKey.` header
 * - Debian: GET /tracker/data/json
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { json, startFakeHttp, type FakeHttpServer, type FakeResponse } from '../http/server.js';
import { PROJECT_ROOT } from '../../../cli/runtime.js';

export const INTEL_FIXTURES = path.join(PROJECT_ROOT, 'test', 'fixtures', 'intel');
export const fixture = (name: string) => readFileSync(path.join(INTEL_FIXTURES, name), 'utf8');

interface NvdCve {
  cve: { id: string; lastModified: string };
}

export interface IntelFakeState {
  /** The KEV catalog served (a JSON value, or raw text to serve a broken download). */
  kev: unknown;
  /** The daily EPSS CSV text. */
  epssCsv: string;
  epssDate: string;
  nvd: NvdCve[];
  debian: unknown;
  /** NVD's rolling window (ms) and limits; tests shrink the window. */
  nvdWindowMs: number;
  nvdValidKeys: string[];
}

export interface IntelFake {
  server: FakeHttpServer;
  state: IntelFakeState;
  urls: { kev: string; epss: string; epssApi: string; nvd: string; debian: string };
  /** NVD requests refused with 403 (rate limit). */
  nvdRefused(): number;
  close(): Promise<void>;
}

const KEV_PATH = '/sites/default/files/feeds/known_exploited_vulnerabilities.json';
const DAY = 24 * 3600 * 1000;

function epssRows(csvText: string) {
  return csvText
    .split('\n')
    .slice(2)
    .filter(Boolean)
    .map((l) => {
      const [cve, epss, percentile] = l.split(',');
      return {
        cve: cve!,
        epss: Number(epss).toFixed(9),
        percentile: Number(percentile).toFixed(9),
      };
    });
}

/** NVD accepts ISO 8601 with an offset or Z; an unparseable date is a 404 with a message. */
const nvdDate = (v: string | null) => (v ? new Date(v.replace(' ', '+')) : undefined);

export async function startIntelFake(overrides: Partial<IntelFakeState> = {}): Promise<IntelFake> {
  const nvdDoc = JSON.parse(fixture('nvd-cves.json')) as { vulnerabilities: NvdCve[] };
  const state: IntelFakeState = {
    kev: JSON.parse(fixture('kev-2025.08.21.json')),
    epssCsv: fixture('epss_scores-2025-08-25.csv'),
    epssDate: '2025-08-25',
    nvd: nvdDoc.vulnerabilities,
    debian: JSON.parse(fixture('debian-tracker.json')),
    nvdWindowMs: 30_000,
    nvdValidKeys: [],
    ...overrides,
  };
  const nvdStarts = new Map<string, number[]>();
  let refused = 0;

  const nvd = (
    q: URLSearchParams,
    headers: Record<string, string | string[] | undefined>,
  ): FakeResponse => {
    const key = typeof headers.apikey === 'string' ? headers.apikey : undefined;
    if (key !== undefined && !state.nvdValidKeys.includes(key))
      return {
        status: 404,
        body: '',
        contentType: 'text/plain',
        headers: { message: 'Invalid apiKey.' },
      };
    const who = key ?? 'anonymous';
    const now = Date.now();
    const starts = (nvdStarts.get(who) ?? []).filter((t) => t > now - state.nvdWindowMs);
    if (starts.length >= (key ? 50 : 5)) {
      refused++;
      nvdStarts.set(who, starts);
      return { status: 403, body: '', contentType: 'text/plain' };
    }
    starts.push(now);
    nvdStarts.set(who, starts);
    const bad = (message: string): FakeResponse => ({
      status: 404,
      body: '',
      contentType: 'text/plain',
      headers: { message },
    });
    const start = Number(q.get('startIndex') ?? 0);
    const per = Number(q.get('resultsPerPage') ?? 2000);
    if (!(per >= 1 && per <= 2000)) return bad('Invalid resultsPerPage parameter');
    let list = state.nvd;
    const cveId = q.get('cveId');
    if (cveId) list = list.filter((v) => v.cve.id === cveId);
    const from = nvdDate(q.get('lastModStartDate'));
    const to = nvdDate(q.get('lastModEndDate'));
    if (Boolean(from) !== Boolean(to))
      return bad('Both lastModStartDate and lastModEndDate are required when either is present.');
    if (from && to) {
      if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()))
        return bad('Invalid date format');
      if (to.getTime() - from.getTime() > 120 * DAY)
        return bad('The lastMod date range must not exceed 120 days.');
      list = list.filter((v) => {
        const t = new Date(`${v.cve.lastModified}Z`).getTime();
        return t >= from.getTime() && t <= to.getTime();
      });
    }
    const page = list.slice(start, start + per);
    return json(200, {
      resultsPerPage: page.length,
      startIndex: start,
      totalResults: list.length,
      format: 'NVD_CVE',
      version: '2.0',
      timestamp: new Date().toISOString().slice(0, 23),
      vulnerabilities: page,
    });
  };

  const server = await startFakeHttp([
    {
      method: 'GET',
      pattern: new RegExp(`^${KEV_PATH}$`),
      handler: () =>
        typeof state.kev === 'string'
          ? { status: 200, body: state.kev, contentType: 'application/json' }
          : json(200, state.kev),
    },
    {
      method: 'GET',
      pattern: /^\/epss_scores-current\.csv\.gz$/,
      handler: () => ({
        status: 302,
        body: '',
        contentType: 'text/plain',
        headers: { Location: `/epss_scores-${state.epssDate}.csv` },
      }),
    },
    {
      method: 'GET',
      pattern: /^\/epss_scores-\d{4}-\d{2}-\d{2}\.csv$/,
      handler: () => ({ status: 200, body: state.epssCsv, contentType: 'text/csv' }),
    },
    {
      method: 'GET',
      pattern: /^\/data\/v1\/epss$/,
      handler: (req) => {
        const wanted = req.query.get('cve')?.split(',');
        const offset = Number(req.query.get('offset') ?? 0);
        const limit = Number(req.query.get('limit') ?? 100);
        const all = epssRows(state.epssCsv)
          .filter((r) => !wanted || wanted.includes(r.cve))
          .map((r) => ({ ...r, date: state.epssDate }));
        return json(200, {
          status: 'OK',
          'status-code': 200,
          version: '1.0',
          access: 'public',
          total: all.length,
          offset,
          limit,
          data: all.slice(offset, offset + limit),
        });
      },
    },
    {
      method: 'GET',
      pattern: /^\/rest\/json\/cves\/2\.0$/,
      handler: (req) => nvd(req.query, req.headers),
    },
    { method: 'GET', pattern: /^\/tracker\/data\/json$/, handler: () => json(200, state.debian) },
  ]);
  return {
    server,
    state,
    urls: {
      kev: `${server.url}${KEV_PATH}`,
      epss: `${server.url}/epss_scores-current.csv.gz`,
      epssApi: `${server.url}/data/v1/epss`,
      nvd: `${server.url}/rest/json/cves/2.0`,
      debian: `${server.url}/tracker/data/json`,
    },
    nvdRefused: () => refused,
    close: () => server.close(),
  };
}
