/**
 * Reads a host's dpkg database straight from its disk (the overlay's upper layer, else the
 * cached root below it), so tests learn the truth without going through SSH or apt, even
 * while the host reboots. Format: dpkg(1) /var/lib/dpkg/status, deb822 stanzas.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

export interface DpkgState {
  /** Version field of the package's stanza. */
  version: string;
  /** Status field, e.g. "install ok installed", "install ok half-configured", "hold ok installed". */
  status: string;
}

export async function dpkgState(
  upper: string,
  lower: string,
  pkg: string,
): Promise<DpkgState | undefined> {
  const rel = 'var/lib/dpkg/status';
  const text = await readFile(path.join(upper, rel), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return readFile(path.join(lower, rel), 'utf8');
    throw err;
  });
  for (const stanza of text.split(/\n\n+/)) {
    const field = (name: string): string | undefined =>
      new RegExp(`^${name}: (.*)$`, 'm').exec(stanza)?.[1];
    if (field('Package') !== pkg) continue;
    const version = field('Version');
    const status = field('Status');
    // A purged package keeps a stanza without Version ("unknown ok not-installed").
    return version && status ? { version, status } : undefined;
  }
  return undefined;
}
