import type { AdapterDeps } from '../kit.js';

/** The intelligence sources patchops loads; each is refreshed and stored on its own. */
export const INTEL_SOURCES = ['kev', 'epss', 'nvd', 'debian'] as const;
export type IntelSourceName = (typeof INTEL_SOURCES)[number];

/** Where a source is read from: a URL (the default, the vendor's public one) or a local file. */
export type IntelLocation = { kind: 'url'; url: string } | { kind: 'file'; path: string };

/** One loaded CISA KEV catalog (a whole snapshot: it replaces the stored one). */
export interface KevSnapshot {
  source: 'kev';
  catalogVersion: string;
  dateReleased: string;
  rows: KevRow[];
}

export interface KevRow {
  cve: string;
  vendorProject: string;
  product: string;
  vulnerabilityName: string;
  dateAdded: string;
  shortDescription: string;
  requiredAction: string;
  dueDate: string;
  knownRansomwareCampaignUse: string;
  notes: string;
  cwes: string[];
  /** CISA's newer field: "Yes" when the CVE sits in the fastest BOD 26-04 tier. */
  forensicTriage: string | null;
}

/** One EPSS scoring run (a whole snapshot). */
export interface EpssSnapshot {
  source: 'epss';
  /** e.g. "v2025.03.14"; null when the API answer does not carry it. */
  modelVersion: string | null;
  /** ISO date of the scores. */
  scoreDate: string;
  rows: EpssRow[];
}

export interface EpssRow {
  cve: string;
  epss: number;
  percentile: number;
  /** ISO date (YYYY-MM-DD). */
  date: string;
}

/**
 * CVEs NVD changed in a window (or every CVE on a first, full load). NVD is synced
 * incrementally, so a snapshot is merged into the stored rows instead of replacing them.
 */
export interface NvdSnapshot {
  source: 'nvd';
  /** The lastModEndDate asked for (ISO), the next incremental refresh starts from it. */
  windowEnd: string;
  /** Whether this was a full load (every CVE) rather than a lastMod window. */
  full: boolean;
  rows: NvdRow[];
}

export interface CvssMetric {
  version: '4.0' | '3.1' | '3.0';
  source: string;
  type: 'Primary' | 'Secondary';
  baseScore: number;
  vectorString: string;
}

export interface NvdRow {
  cve: string;
  lastModified: string;
  vulnStatus: string | null;
  /** The metric scoring uses (v4.0, then v3.1, then v3.0; Primary before Secondary). */
  cvss: CvssMetric | null;
  /** Every v4.0/v3.x metric NVD listed, for audits of the choice. */
  metrics: CvssMetric[];
}

/** The Debian security tracker's view, one row per source package × CVE × release. */
export interface DebianSnapshot {
  source: 'debian';
  rows: DebianRow[];
}

export interface DebianRow {
  package: string;
  cve: string;
  release: string;
  status: string;
  fixedVersion: string | null;
  urgency: string | null;
}

export type IntelSnapshot = KevSnapshot | EpssSnapshot | NvdSnapshot | DebianSnapshot;

/** What a loader needs besides its settings (the adapter kit's deps). */
export type IntelDeps = AdapterDeps;

/** Options of one load. */
export interface LoadOptions {
  /** NVD: the previous window's end, for an incremental sync; absent means a full load. */
  since?: string | undefined;
  /** Called between pages so an activity can heartbeat. */
  progress?: (detail: string) => void;
  signal?: AbortSignal | undefined;
}

/** One configured source: where it reads from and how it loads a snapshot. */
export interface IntelLoader<S extends IntelSnapshot = IntelSnapshot> {
  readonly source: S['source'];
  /** The URL or file path, for messages, doctor and the stored fetch record. */
  readonly location: string;
  load(options?: LoadOptions): Promise<S>;
}

export type IntelErrorCode =
  /** The download or file did not have the documented shape; nothing was stored. */
  | 'INTEL_FORMAT'
  /** The file or URL could not be read. */
  | 'INTEL_UNAVAILABLE'
  /** The source is switched off (PATCHOPS_INTEL_<SOURCE>=off). */
  | 'INTEL_DISABLED'
  | 'UNKNOWN_ADAPTER'
  | 'CONFIG_INVALID';

export class IntelError extends Error {
  override readonly name = 'IntelError';
  constructor(
    readonly code: IntelErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Whether trying again later may help (a network failure may; a malformed catalog will not). */
  get retryable(): boolean {
    return this.code === 'INTEL_UNAVAILABLE';
  }
}
