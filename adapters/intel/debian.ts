import { z } from 'zod';
import { describeLocation, parseFormat, parseJsonText, readBytes } from './read.js';
import {
  IntelError,
  type DebianRow,
  type DebianSnapshot,
  type IntelDeps,
  type IntelLoader,
  type IntelLocation,
} from './types.js';

export const DEBIAN_URL = 'https://security-tracker.debian.org/tracker/data/json';
export const DEBIAN_RELEASES = ['bookworm', 'trixie'];

const release = z.object({
  status: z.enum(['resolved', 'open', 'undetermined']),
  repositories: z.record(z.string(), z.string()),
  fixed_version: z.string().optional(),
  urgency: z.string().optional(),
  nodsa: z.string().optional(),
  nodsa_reason: z.string().optional(),
});

/** /tracker/data/json: source package → issue id (CVE-… or TEMP-…) → per-release state. */
export const debianTrackerSchema = z.record(
  z.string(),
  z.record(
    z.string(),
    z.object({
      description: z.string().optional(),
      scope: z.string().optional(),
      debianbug: z.number().optional(),
      releases: z.record(z.string(), release),
    }),
  ),
);

/** Flattens the tracker to rows of the releases asked for (CVE ids only; TEMP- ids skipped). */
export function parseDebianTracker(
  data: unknown,
  releases: readonly string[] = DEBIAN_RELEASES,
  where = 'json',
): DebianSnapshot {
  const doc = parseFormat('Debian security tracker', where, debianTrackerSchema, data);
  const wanted = new Set(releases);
  const rows: DebianRow[] = [];
  for (const [pkg, issues] of Object.entries(doc)) {
    for (const [id, issue] of Object.entries(issues)) {
      if (!id.startsWith('CVE-')) continue;
      for (const [name, r] of Object.entries(issue.releases)) {
        if (!wanted.has(name)) continue;
        rows.push({
          package: pkg,
          cve: id,
          release: name,
          status: r.status,
          fixedVersion: r.fixed_version ?? null,
          urgency: r.urgency ?? null,
        });
      }
    }
  }
  return { source: 'debian', rows };
}

/** Loads the whole tracker (tens of MB) and keeps the configured releases. */
export function createDebianLoader(
  location: IntelLocation,
  deps: IntelDeps,
  releases: readonly string[] = DEBIAN_RELEASES,
): IntelLoader<DebianSnapshot> {
  const where = describeLocation(location);
  return {
    source: 'debian',
    location: where,
    async load(options) {
      const bytes = await readBytes(deps, 'Debian security tracker', location, options?.signal);
      const snap = parseDebianTracker(
        parseJsonText('Debian security tracker', where, bytes),
        releases,
        where,
      );
      if (!snap.rows.length)
        throw new IntelError(
          'INTEL_FORMAT',
          `Debian security tracker ${where}: no CVE for the releases ${releases.join(', ')}; nothing was stored (check PATCHOPS_INTEL_DEBIAN_RELEASES)`,
        );
      return snap;
    },
  };
}
