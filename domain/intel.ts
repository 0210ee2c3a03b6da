/**
 * What patchops knows about one CVE from vulnerability intelligence (CISA KEV, FIRST EPSS,
 * NVD, the Debian security tracker), merged per CVE. Pure types: adapters/intel loads the
 * sources into PostgreSQL (store/intel.ts); plan and scoring read them through
 * `IntelLookup`. Every field is optional because each source covers a different subset.
 */

export interface KevEntry {
  /** ISO date (YYYY-MM-DD) CISA added the CVE to the catalog. */
  dateAdded: string;
  /** ISO date (YYYY-MM-DD) by which federal agencies must remediate. */
  dueDate: string;
  /** "Known" or "Unknown". */
  knownRansomwareCampaignUse: string;
  vendorProject: string;
  product: string;
  cwes: string[];
}

export interface EpssEntry {
  /** Probability of exploitation activity in the next 30 days (0..1). */
  score: number;
  /** Percentile of the score among all scored CVEs (0..1). */
  percentile: number;
  /** ISO date of the EPSS model run. */
  date: string;
}

export interface CvssEntry {
  /** "3.1" or "4.0" (3.0 is reported as "3.0"). */
  version: string;
  baseScore: number;
  vectorString: string;
  /** NVD's metric type: the NVD's own (Primary) wins over a CNA's (Secondary). */
  type: 'Primary' | 'Secondary';
  source: string;
}

export interface DebianEntry {
  /** Source package name in the Debian tracker. */
  package: string;
  /** Release codename → state ("resolved" | "open" | "undetermined") and fixed version. */
  releases: Record<string, { status: string; fixedVersion?: string; urgency?: string }>;
}

export interface CveIntel {
  cve: string;
  kev?: KevEntry;
  epss?: EpssEntry;
  /** The CVSS metric scoring uses (v4.0 over v3.x; Primary over Secondary). */
  cvss?: CvssEntry;
  debian?: DebianEntry[];
}

/** Reads merged intel for a set of CVE ids (unknown ids are absent from the map). */
export interface IntelLookup {
  lookup(cves: readonly string[]): Promise<Map<string, CveIntel>>;
}
