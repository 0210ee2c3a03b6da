import { RmmError } from '../types.js';

/**
 * Patch ids name a package and the version it goes to, so they stay stable across scans
 * and hosts: `deb:<package>[:<arch>]:<version>` and `rpm:<name>.<arch>:<[epoch:]version-release>`.
 * Debian versions may hold a colon (an epoch) but always start with a digit; an arch
 * qualifier never does, which is what tells the two apart.
 */

export interface PackageRef {
  family: 'deb' | 'rpm';
  /** `openssl`, `libfoo:i386` (deb) or `bash.x86_64` (rpm). */
  name: string;
  version: string;
}

export const patchIdOf = (ref: PackageRef): string => `${ref.family}:${ref.name}:${ref.version}`;

export function parsePatchId(id: string): PackageRef {
  const m = /^(deb|rpm):([^:]+)(?::([a-z][a-z0-9_]*))?:(\d.*)$/.exec(id);
  if (!m?.[1] || !m[2] || !m[4]) {
    throw new RmmError(
      'PATCH_NOT_FOUND',
      `"${id}" is not an SSH patch id; expected deb:<package>:<version> or rpm:<name>.<arch>:<version>`,
    );
  }
  const name = m[3] ? `${m[2]}:${m[3]}` : m[2];
  return { family: m[1] as 'deb' | 'rpm', name, version: m[4] };
}
