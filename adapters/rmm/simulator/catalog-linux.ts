import { entry, type CatalogEntry, type EntrySpec } from './catalog-entry.js';
import { NOBLE, type PlatformId } from './platforms.js';

// Debian 12 versions are the ones `apt list --upgradable` printed on a real bookworm host
// (../shared/reference). One patch per source package, named after the binary package an
// admin would recognise. Package downgrades are not something an RMM offers, so none of
// these can be uninstalled.
type DebSpec = Omit<EntrySpec, 'id' | 'vendorRef' | 'product' | 'kind' | 'category'> & {
  category?: EntrySpec['category'];
};

function deb(pkg: string, version: string, spec: DebSpec): CatalogEntry {
  return entry({
    kind: 'os',
    category: 'security',
    uninstallable: false,
    ...spec,
    id: `deb:${pkg}:${version}`,
    vendorRef: `${pkg}=${version}`,
    product: pkg,
  });
}

const DEBIAN: readonly PlatformId[] = ['debian12'];
const JAMMY: readonly PlatformId[] = ['ubuntu-2204'];
const OPENSSL_CVES = ['CVE-2026-41287', 'CVE-2026-41290'];
const KERNEL_CVES = ['CVE-2026-38104'];
const SSH_CVES = ['CVE-2026-35386'];

export const linuxPatches: readonly CatalogEntry[] = [
  deb('openssl', '3.0.22-1~deb12u2', {
    title: 'openssl, libssl3 3.0.22-1~deb12u2 (DSA-6051-1)',
    severity: 'important',
    platforms: DEBIAN,
    prevalence: 0.7,
    releaseDate: '2026-10-29',
    cvss: 7.5,
    epss: 0.04,
    cves: OPENSSL_CVES,
  }),
  deb('openssh-client', '1:9.2p1-2+deb12u10', {
    title: 'openssh-client, openssh-server 1:9.2p1-2+deb12u10 (DSA-6044-1)',
    severity: 'critical',
    platforms: DEBIAN,
    prevalence: 0.5,
    releaseDate: '2026-10-15',
    cvss: 8.1,
    epss: 0.21,
    cves: SSH_CVES,
  }),
  deb('curl', '7.88.1-10+deb12u15', {
    title: 'curl, libcurl4 7.88.1-10+deb12u15',
    severity: 'moderate',
    platforms: DEBIAN,
    prevalence: 0.6,
    releaseDate: '2026-09-30',
    cvss: 6.5,
    epss: 0.01,
    cves: ['CVE-2026-3784'],
  }),
  deb('linux-image-amd64', '6.1.170-1', {
    title: 'linux-image-amd64 6.1.170-1 (DSA-6055-1)',
    severity: 'important',
    platforms: DEBIAN,
    prevalence: 0.7,
    releaseDate: '2026-11-06',
    cvss: 7.8,
    epss: 0.15,
    kev: true,
    cves: KERNEL_CVES,
    reboot: true,
  }),
  deb('systemd', '252.39-1~deb12u2', {
    title: 'systemd, libsystemd0, udev 252.39-1~deb12u2 (Debian 12.15 point release)',
    category: 'update',
    severity: 'low',
    platforms: DEBIAN,
    prevalence: 0.8,
    releaseDate: '2026-09-12',
  }),
  deb('tzdata', '2026f-0+deb12u1', {
    title: 'tzdata 2026f-0+deb12u1',
    category: 'update',
    severity: 'none',
    platforms: DEBIAN,
    prevalence: 0.9,
    releaseDate: '2026-10-26',
  }),
  deb('libxml2', '2.9.14+dfsg-1.3~deb12u6', {
    title: 'libxml2 2.9.14+dfsg-1.3~deb12u6',
    severity: 'moderate',
    platforms: DEBIAN,
    prevalence: 0.5,
    releaseDate: '2026-09-12',
    cvss: 5.9,
    epss: 0.01,
    cves: ['CVE-2026-0990'],
  }),
  deb('postgresql-15', '15.20-0+deb12u1', {
    title: 'postgresql-15 15.20-0+deb12u1 (DSA-6048-1)',
    severity: 'important',
    platforms: DEBIAN,
    prevalence: 0.15,
    releaseDate: '2026-11-13',
    cvss: 8.8,
    epss: 0.02,
    cves: ['CVE-2026-2004'],
  }),
  deb('openssl', '3.0.13-0ubuntu3.9', {
    title: 'openssl, libssl3t64 3.0.13-0ubuntu3.9 (USN-8012-1)',
    severity: 'important',
    platforms: NOBLE,
    prevalence: 0.7,
    releaseDate: '2026-10-29',
    cvss: 7.5,
    epss: 0.04,
    cves: OPENSSL_CVES,
  }),
  deb('linux-image-generic', '6.8.0-110.110', {
    title: 'linux-image-generic 6.8.0-110.110 (USN-8020-1)',
    severity: 'important',
    platforms: NOBLE,
    prevalence: 0.7,
    releaseDate: '2026-11-09',
    cvss: 7.8,
    epss: 0.15,
    kev: true,
    cves: KERNEL_CVES,
    reboot: true,
  }),
  deb('openssh-client', '1:9.6p1-3ubuntu13.16', {
    title: 'openssh-client, openssh-server 1:9.6p1-3ubuntu13.16 (USN-7998-1)',
    severity: 'critical',
    platforms: NOBLE,
    prevalence: 0.5,
    releaseDate: '2026-10-16',
    cvss: 8.1,
    epss: 0.21,
    cves: SSH_CVES,
  }),
  deb('openssl', '3.0.2-0ubuntu1.24', {
    title: 'openssl, libssl3 3.0.2-0ubuntu1.24 (USN-8012-2)',
    severity: 'important',
    platforms: JAMMY,
    prevalence: 0.7,
    releaseDate: '2026-10-29',
    cvss: 7.5,
    epss: 0.04,
    cves: OPENSSL_CVES,
  }),
  deb('linux-image-generic', '5.15.0-172.182', {
    title: 'linux-image-generic 5.15.0-172.182 (USN-8021-1)',
    severity: 'important',
    platforms: JAMMY,
    prevalence: 0.7,
    releaseDate: '2026-11-09',
    cvss: 7.8,
    epss: 0.15,
    kev: true,
    cves: KERNEL_CVES,
    reboot: true,
  }),
];
