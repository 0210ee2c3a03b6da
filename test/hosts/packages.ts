/**
 * The demo packages the test hosts' apt repository serves. Each exists in several
 * versions, all kept in the repository so a downgrade (rollback) finds the old one.
 * Maintainer-script behaviour follows Debian policy §6 (postinst `configure`) and the
 * hook Debian's update-notifier-common installs for kernels
 * (/usr/share/update-notifier/notify-reboot-required).
 */

/** Where a package version is served from: the point release or the security archive. */
export type Suite = 'bookworm' | 'bookworm-security';

export interface DemoPackage {
  /** Debian package name. */
  name: string;
  /** Debian version, e.g. "1.1-1". */
  version: string;
  /** Suite whose Packages index lists this version. */
  suite: Suite;
  /** Extra postinst behaviour (policy: runs as `postinst configure OLD-VERSION`). */
  postinst?: 'fail-on-marker' | 'reboot-required';
}

/** A host with this file makes `fail-on-marker` postinsts exit 1 (see startHosts). */
export const FAIL_MARKER = '/etc/patchops-fail-postinst';

export const DEMO_PACKAGES: readonly DemoPackage[] = [
  { name: 'patchops-demo-lib', version: '1.0-1', suite: 'bookworm' },
  { name: 'patchops-demo-lib', version: '1.1-1', suite: 'bookworm-security' },
  { name: 'patchops-demo-tool', version: '2.0-1', suite: 'bookworm' },
  { name: 'patchops-demo-tool', version: '2.1-1', suite: 'bookworm' },
  { name: 'patchops-demo-fail', version: '1.0-1', suite: 'bookworm' },
  { name: 'patchops-demo-fail', version: '1.1-1', suite: 'bookworm', postinst: 'fail-on-marker' },
  { name: 'patchops-demo-kernel', version: '1.0-1', suite: 'bookworm' },
  {
    name: 'patchops-demo-kernel',
    version: '1.1-1',
    suite: 'bookworm',
    postinst: 'reboot-required',
  },
  // The one tests pin with `apt-mark hold`.
  { name: 'patchops-demo-pinned', version: '3.0-1', suite: 'bookworm' },
  { name: 'patchops-demo-pinned', version: '3.1-1', suite: 'bookworm' },
];

/** What hosts carry at start: the oldest version of every demo package. */
export const INITIAL_PACKAGES: readonly string[] = [
  'patchops-demo-lib=1.0-1',
  'patchops-demo-tool=2.0-1',
  'patchops-demo-fail=1.0-1',
  'patchops-demo-kernel=1.0-1',
  'patchops-demo-pinned=3.0-1',
];

/** The control stanza (without Filename/Size/hashes, which the index adds). */
export function controlStanza(pkg: DemoPackage): string {
  return [
    `Package: ${pkg.name}`,
    `Version: ${pkg.version}`,
    'Architecture: all',
    'Maintainer: patchops tests <tests@patchops.invalid>',
    'Installed-Size: 1',
    'Section: misc',
    'Priority: optional',
    `Description: patchops test package (${pkg.postinst ?? 'plain'})`,
    ' Built by the patchops test-host harness; installs one version file.',
    '',
  ].join('\n');
}

export function postinstScript(pkg: DemoPackage): string | undefined {
  if (pkg.postinst === 'fail-on-marker') {
    return [
      '#!/bin/sh',
      'set -e',
      `if [ "$1" = configure ] && [ -e ${FAIL_MARKER} ]; then`,
      `  echo "${pkg.name}: configuration failed (${FAIL_MARKER} present)" >&2`,
      '  exit 1',
      'fi',
      '',
    ].join('\n');
  }
  if (pkg.postinst === 'reboot-required') {
    // As notify-reboot-required: flag file plus the package name, listed once.
    return [
      '#!/bin/sh',
      'set -e',
      'if [ "$1" = configure ]; then',
      '  touch /var/run/reboot-required',
      '  if ! grep -qsx "$DPKG_MAINTSCRIPT_PACKAGE" /var/run/reboot-required.pkgs; then',
      '    echo "$DPKG_MAINTSCRIPT_PACKAGE" >>/var/run/reboot-required.pkgs',
      '  fi',
      'fi',
      '',
    ].join('\n');
  }
  return undefined;
}
