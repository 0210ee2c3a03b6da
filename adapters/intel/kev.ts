import { z } from 'zod';
import { describeLocation, parseFormat, parseJsonText, readBytes } from './read.js';
import {
  IntelError,
  type IntelDeps,
  type IntelLoader,
  type IntelLocation,
  type KevSnapshot,
} from './types.js';

export const KEV_URL =
  'https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json';

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD');

/** One catalog entry, after cisagov/kev-data's known_exploited_vulnerabilities_schema.json. */
export const kevVulnerabilitySchema = z.object({
  cveID: z.string().regex(/^CVE-[0-9]{4}-[0-9]{4,19}$/, 'expected a CVE id like CVE-2024-3400'),
  vendorProject: z.string(),
  product: z.string(),
  vulnerabilityName: z.string(),
  dateAdded: isoDate,
  shortDescription: z.string(),
  requiredAction: z.string(),
  dueDate: isoDate,
  knownRansomwareCampaignUse: z.string().default('Unknown'),
  notes: z.string().default(''),
  cwes: z.array(z.string().regex(/^CWE-[0-9]+$/, 'expected CWE-NNN')).default([]),
  /** Added by CISA in 2026 ("Yes" | "No"); absent from older catalogs. */
  forensicTriage: z.string().optional(),
});

export const kevCatalogSchema = z
  .object({
    title: z.string().optional(),
    catalogVersion: z.string().min(1),
    dateReleased: z.string().min(1),
    count: z.number().int().nonnegative(),
    vulnerabilities: z.array(kevVulnerabilitySchema),
  })
  .superRefine((c, ctx) => {
    // A short download that still parses (or a hand-edited file) must not replace the catalog.
    if (c.count !== c.vulnerabilities.length)
      ctx.addIssue({
        code: 'custom',
        path: ['count'],
        message: `says ${c.count} but vulnerabilities has ${c.vulnerabilities.length} entries`,
      });
    const seen = new Set<string>();
    c.vulnerabilities.forEach((v, i) => {
      if (seen.has(v.cveID))
        ctx.addIssue({
          code: 'custom',
          path: ['vulnerabilities', i, 'cveID'],
          message: `${v.cveID} is listed twice`,
        });
      seen.add(v.cveID);
    });
  });

/** Parses a KEV catalog document (already JSON-decoded). */
export function parseKevCatalog(data: unknown, where = 'catalog'): KevSnapshot {
  const c = parseFormat('CISA KEV', where, kevCatalogSchema, data);
  return {
    source: 'kev',
    catalogVersion: c.catalogVersion,
    dateReleased: c.dateReleased,
    rows: c.vulnerabilities.map((v) => ({
      cve: v.cveID,
      vendorProject: v.vendorProject,
      product: v.product,
      vulnerabilityName: v.vulnerabilityName,
      dateAdded: v.dateAdded,
      shortDescription: v.shortDescription,
      requiredAction: v.requiredAction,
      dueDate: v.dueDate,
      knownRansomwareCampaignUse: v.knownRansomwareCampaignUse,
      notes: v.notes,
      cwes: v.cwes,
      forensicTriage: v.forensicTriage ?? null,
    })),
  };
}

/** Reads the whole catalog (about 1,500 entries, 1.5 MB) from CISA or a local copy. */
export function createKevLoader(
  location: IntelLocation,
  deps: IntelDeps,
): IntelLoader<KevSnapshot> {
  const where = describeLocation(location);
  return {
    source: 'kev',
    location: where,
    async load(options) {
      const bytes = await readBytes(deps, 'CISA KEV', location, options?.signal);
      const snapshot = parseKevCatalog(parseJsonText('CISA KEV', where, bytes), where);
      if (!snapshot.rows.length)
        throw new IntelError(
          'INTEL_FORMAT',
          `CISA KEV ${where}: the catalog is empty; nothing was stored`,
        );
      return snapshot;
    },
  };
}
