import type { Patch, Severity } from '../../../domain/model.js';
import { bareName, type AptSimulation, type DpkgPackage } from './apt-parse.js';
import { splitNevra, sameRpmVersion, type DnfAdvisory, type DnfUpdate } from './dnf-parse.js';
import { patchIdOf } from './patch-id.js';

/**
 * Scan results as patchops patches. apt says nothing about severity or reboots, so:
 * a version from a `-security` archive is a security update of vendor severity
 * "important" (Debian and Ubuntu publish security updates only for issues worth a DSA/USN;
 * the intel adapters refine it with CVSS/EPSS/KEV), anything else an update of severity
 * "none". A reboot is expected for kernels and the few libraries every process maps; the
 * host's own reboot-required flag, read after installing, is what the job reports.
 */

const REBOOT_NAMES =
  /^(linux-image|linux-modules|linux-firmware|kernel|libc6$|glibc|systemd$|dbus|microcode|intel-microcode|amd64-microcode)|kernel/;

export function aptPatches(
  sim: AptSimulation,
  held: ReadonlySet<string>,
  repoVersions: ReadonlyMap<string, ReadonlySet<string>>,
): Patch[] {
  return sim.upgrades.map((u) => {
    const onHold = held.has(u.name) || held.has(u.name.replace(/:[a-z0-9]+$/, ''));
    const archive = u.origins.map((o) => `${o.origin}/${o.archive}`).join(', ');
    return {
      id: patchIdOf({ family: 'deb', name: u.name, version: u.candidate }),
      vendorRef: `${u.name}=${u.candidate}`,
      title: `${u.name} ${u.installed} → ${u.candidate} (${archive})${onHold ? ' [held on the host with apt-mark hold: will not be upgraded]' : ''}`,
      product: u.name,
      kind: 'os',
      category: u.security ? 'security' : 'update',
      vendorSeverity: u.security ? 'important' : 'none',
      cvss: null,
      epss: null,
      kev: false,
      cveIds: [],
      releaseDate: null,
      rebootRequired: REBOOT_NAMES.test(u.name),
      // Rolling back means installing the version there now, so the repository must still have it.
      uninstallable: repoVersions.get(u.name)?.has(u.installed) ?? false,
    } satisfies Patch;
  });
}

const RANK: Record<Severity, number> = { none: 0, low: 1, moderate: 2, important: 3, critical: 4 };

export function dnfPatches(updates: DnfUpdate[], advisories: DnfAdvisory[]): Patch[] {
  return updates.map((u) => {
    const mine = advisories.filter((a) => {
      const n = splitNevra(a.nevra);
      return n !== undefined && n.name === u.name && sameRpmVersion(n.version, u.version);
    });
    const security = mine.some((a) => a.type === 'security');
    let severity: Severity = 'none';
    for (const a of mine) if (RANK[a.severity] > RANK[severity]) severity = a.severity;
    if (security && severity === 'none') severity = 'important';
    const base = u.name.replace(/\.[^.]+$/, '');
    return {
      id: patchIdOf({ family: 'rpm', name: u.name, version: u.version }),
      vendorRef: `${base}-${u.version}.${u.name.slice(base.length + 1)}`,
      title: `${u.name} → ${u.version} (${u.repo})${mine.length ? ` ${[...new Set(mine.map((a) => a.id))].join(', ')}` : ''}`,
      product: base,
      kind: 'os',
      category: security ? 'security' : 'update',
      vendorSeverity: severity,
      cvss: null,
      epss: null,
      kev: false,
      cveIds: [],
      releaseDate: null,
      rebootRequired: REBOOT_NAMES.test(base),
      // Downgrades on dnf hosts are not offered yet (see the adapter's uninstall).
      uninstallable: false,
    } satisfies Patch;
  });
}

/**
 * Packages dpkg did not finish installing (half-configured, unpacked, half-installed: a
 * failed postinst, an interrupted run). apt no longer offers them as upgrades, yet the
 * version is not installed: they stay missing, under the id the deploy asked for, so a
 * failed install is never taken for one waiting for a reboot.
 */
export function brokenPatches(dpkg: readonly DpkgPackage[]): Patch[] {
  return dpkg
    .filter((p) => p.status.startsWith('i') && !p.status.startsWith('ii'))
    .map((p) => {
      const name = bareName(p.name);
      return {
        id: patchIdOf({ family: 'deb', name, version: p.version }),
        vendorRef: `${name}=${p.version}`,
        title: `${name} ${p.version} did not finish installing (dpkg status ${p.status.trim()})`,
        product: name,
        kind: 'os',
        category: 'update',
        vendorSeverity: 'none',
        cvss: null,
        epss: null,
        kev: false,
        cveIds: [],
        releaseDate: null,
        rebootRequired: false,
        uninstallable: false,
      } satisfies Patch;
    });
}
