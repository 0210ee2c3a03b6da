import type { Patch, PatchCategory, PatchKind, Severity } from '../../../domain/model.js';
import type { PlatformId } from './platforms.js';

/**
 * The shape of the simulated catalog's data files. Kept apart from catalog.ts so the data
 * files can import it without an import cycle.
 */

/** A patch plus where it applies and how likely a device is to be missing it. */
export interface CatalogEntry {
  patch: Patch;
  platforms: readonly PlatformId[];
  /** Chance that an applicable device is missing it when the fleet is built. */
  prevalence: number;
}

export interface EntrySpec {
  id: string;
  vendorRef: string;
  title: string;
  product: string;
  kind: PatchKind;
  category: PatchCategory;
  severity: Severity;
  platforms: readonly PlatformId[];
  prevalence: number;
  releaseDate: string;
  cvss?: number;
  epss?: number;
  kev?: boolean;
  cves?: string[];
  reboot?: boolean;
  uninstallable?: boolean;
}

/** Builds an entry with the defaults most patches share, so the data files stay readable. */
export function entry(spec: EntrySpec): CatalogEntry {
  return {
    patch: {
      id: spec.id,
      vendorRef: spec.vendorRef,
      title: spec.title,
      product: spec.product,
      kind: spec.kind,
      category: spec.category,
      vendorSeverity: spec.severity,
      cvss: spec.cvss ?? null,
      epss: spec.epss ?? null,
      kev: spec.kev ?? false,
      cveIds: spec.cves ?? [],
      releaseDate: spec.releaseDate,
      rebootRequired: spec.reboot ?? false,
      uninstallable: spec.uninstallable ?? true,
    },
    platforms: spec.platforms,
    prevalence: spec.prevalence,
  };
}

/**
 * The one patch that fails on every device when `knownBadPatch` is on: a Secure Boot DBX
 * update that the firmware rejects, as such updates really do on some hardware.
 */
export const KNOWN_BAD_PATCH_ID = 'win:KB5091777';
export const KNOWN_BAD_ERROR =
  '0x800f0922: Secure Boot DBX update was rejected by the firmware; the change was rolled back';
