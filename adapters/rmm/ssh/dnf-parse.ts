/**
 * Parsers for dnf 4 output (RHEL 8/9, Rocky, Alma, Oracle, Fedora), checked against output
 * recorded on real machines in test/fixtures/dnf. Commands run with LC_ALL=C.
 */

export interface DnfUpdate {
  /** `name.arch`, as check-update prints it. */
  name: string;
  /** `[epoch:]version-release` of the update. */
  version: string;
  repo: string;
}

/** `dnf check-update`: exit 100 = these updates, 0 = none, 1 = error (the caller checks). */
export function parseCheckUpdate(text: string): DnfUpdate[] {
  const out: DnfUpdate[] = [];
  for (const line of text.split('\n')) {
    // The "Obsoleting Packages" section and the "Security:" notes end the update list.
    if (/^Obsoleting Packages/.test(line) || /^Security:/.test(line)) break;
    if (/^\s/.test(line)) continue; // an obsoleted package under its replacement
    const f = line.trim().split(/\s+/);
    if (f.length !== 3 || !f[0] || !f[1] || !f[2]) continue;
    if (!/^[^.\s]+.*\.[A-Za-z0-9_]+$/.test(f[0]) || !/^(\d+:)?[^-\s]+-[^-\s]+$/.test(f[1]))
      continue;
    out.push({ name: f[0], version: f[1], repo: f[2] });
  }
  return out;
}

export type DnfSeverity = 'critical' | 'important' | 'moderate' | 'low' | 'none';

export interface DnfAdvisory {
  id: string;
  /** `security`, `bugfix`, `enhancement`. */
  type: string;
  severity: DnfSeverity;
  /** NEVRA of the package the advisory updates to: `name-[epoch:]version-release.arch`. */
  nevra: string;
}

/**
 * `dnf updateinfo list --updates`: `ADVISORY TYPE NEVRA`, where a security advisory's
 * type carries its severity (`Important/Sec.`) and others say `bugfix` / `enhancement`.
 */
export function parseUpdateinfoList(text: string): DnfAdvisory[] {
  const out: DnfAdvisory[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 3 || !f[0] || !f[1] || !f[2] || /^Last$/.test(f[0])) continue;
    const sec = /^(Critical|Important|Moderate|Low|Unknown|None)\/Sec\.$/i.exec(f[1]);
    if (sec?.[1]) {
      const s = sec[1].toLowerCase();
      const severity = (
        ['critical', 'important', 'moderate', 'low'].includes(s) ? s : 'none'
      ) as DnfSeverity;
      out.push({ id: f[0], type: 'security', severity, nevra: f[2] });
    } else if (/^(bugfix|enhancement|newpackage|security|unspecified)$/i.test(f[1])) {
      out.push({ id: f[0], type: f[1].toLowerCase(), severity: 'none', nevra: f[2] });
    }
  }
  return out;
}

/** Splits `name-[epoch:]version-release.arch` into `name.arch` and `[epoch:]version-release`. */
export function splitNevra(nevra: string): { name: string; version: string } | undefined {
  const m = /^(.+)-((?:\d+:)?[^-]+-[^-]+)\.([A-Za-z0-9_]+)$/.exec(nevra);
  if (!m?.[1] || !m[2] || !m[3]) return undefined;
  return { name: `${m[1]}.${m[3]}`, version: m[2] };
}

/** Same version, ignoring an explicit `0:` epoch one side prints and the other omits. */
export const sameRpmVersion = (a: string, b: string): boolean =>
  a.replace(/^0:/, '') === b.replace(/^0:/, '');

/**
 * `LC_ALL=C needs-restarting -r`: the text says whether a reboot is owed (exit 1 also
 * means "no such command", so the text decides) and lists the core packages behind it.
 */
export function parseNeedsRestarting(text: string): {
  rebootRequired: boolean;
  packages: string[];
} {
  const packages = [...text.matchAll(/^\s*\* (\S+)/gm)].flatMap((m) => (m[1] ? [m[1]] : []));
  const rebootRequired = /Reboot is required/.test(text) || packages.length > 0;
  return { rebootRequired, packages };
}
