import { strToU8, zipSync } from 'fflate';
import { colorIconPng, outlineIconPng } from './icons.js';
import { buildTeamsManifest, type TeamsManifest, type TeamsManifestOptions } from './manifest.js';

/**
 * The zip an admin uploads (Teams admin center → Manage apps → Upload new app, or Developer
 * Portal → Import app): manifest.json and the two icons it names, at the root of the archive
 * with no folder around them, which is what Teams requires.
 */

// A fixed timestamp makes the package byte-for-byte reproducible: the same options give the
// same zip, so a rebuilt package can be compared with the one already uploaded.
const MTIME = new Date('2024-01-01T00:00:00Z');

/** Zips an already-built manifest with its icons. */
export function zipTeamsPackage(manifest: TeamsManifest): Uint8Array {
  return zipSync(
    {
      'manifest.json': strToU8(`${JSON.stringify(manifest, null, 2)}\n`),
      [manifest.icons.color]: colorIconPng(manifest.accentColor),
      [manifest.icons.outline]: outlineIconPng(),
    },
    { level: 9, mtime: MTIME },
  );
}

/** Builds the manifest from options and returns the package zip. */
export function buildTeamsPackage(options: TeamsManifestOptions): Uint8Array {
  return zipTeamsPackage(buildTeamsManifest(options));
}
