import { appPatches } from './catalog-apps.js';
import type { CatalogEntry } from './catalog-entry.js';
import { linuxPatches } from './catalog-linux.js';
import { windowsPatches } from './catalog-windows.js';

/**
 * The simulated patch catalog: what vendors released in autumn 2026, by platform. The
 * KB numbers, CVE ids and scores are invented but shaped like the real thing; the Debian
 * versions follow ../shared/reference (apt list --upgradable on Debian 12).
 */

export { KNOWN_BAD_ERROR, KNOWN_BAD_PATCH_ID, type CatalogEntry } from './catalog-entry.js';

export const CATALOG: readonly CatalogEntry[] = [...windowsPatches, ...appPatches, ...linuxPatches];

/** Catalog entries by patch id. */
export const CATALOG_BY_ID: ReadonlyMap<string, CatalogEntry> = new Map(
  CATALOG.map((e) => [e.patch.id, e]),
);
