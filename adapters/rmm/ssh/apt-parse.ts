/**
 * Parsers for apt and dpkg output, as captured on a real Debian 12 host (see
 * ../shared/reference and test/unit/adapters/ssh-apt-parse.test.ts). Every command runs
 * with LC_ALL=C, so the English wording below is what apt prints.
 */

export interface AptUpgrade {
  /** Binary package, arch-qualified only when apt prints it so (`libfoo:i386`). */
  name: string;
  installed: string;
  candidate: string;
  /** `Origin:Version/archive` entries apt lists for the candidate. */
  origins: { origin: string; archive: string }[];
  /** A `-security` archive or a security origin offers this version. */
  security: boolean;
}

export interface AptSimulation {
  upgrades: AptUpgrade[];
  /** Packages apt listed under "kept back" (held, or waiting on phasing or new deps). */
  keptBack: string[];
}

// Inst libgcrypt20 [1.10.1-3] (1.10.1-3+deb12u1 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64]) []
const INST = /^Inst (\S+) (?:\[([^\]]+)\] )?\((\S+) (.*) \[[^\]]+\]\)/;

export function parseAptSimulation(text: string): AptSimulation {
  const upgrades: AptUpgrade[] = [];
  const keptBack: string[] = [];
  let inKept = false;
  for (const line of text.split('\n')) {
    if (/^The following packages have been kept back:/.test(line)) {
      inKept = true;
      continue;
    }
    if (inKept) {
      if (line.startsWith('  ')) {
        keptBack.push(...line.trim().split(/\s+/));
        continue;
      }
      inKept = false;
    }
    const m = INST.exec(line);
    // A line without [installed] is a new package pulled in as a dependency, not an upgrade.
    if (!m?.[1] || !m[2] || !m[3] || m[4] === undefined) continue;
    const origins = m[4].split(', ').map((o) => {
      const slash = o.lastIndexOf('/');
      return {
        origin: slash < 0 ? o : o.slice(0, slash),
        archive: slash < 0 ? '' : o.slice(slash + 1),
      };
    });
    upgrades.push({
      name: m[1],
      installed: m[2],
      candidate: m[3],
      origins,
      security: origins.some((o) => o.archive.endsWith('-security') || /security/i.test(o.origin)),
    });
  }
  return { upgrades, keptBack };
}

/** `apt-mark showhold`: one package per line. */
export const parseHeld = (text: string): string[] =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');

/** `apt-cache madison a b`: ` a | 1.0-1 | http://… Packages` → versions per package. */
export function parseMadison(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const [pkg, version, source] = line.split('|').map((s) => s.trim());
    if (!pkg || !version || !source || !/Packages|Sources/.test(source)) continue;
    if (/Sources$/.test(source)) continue;
    const set = out.get(pkg) ?? new Set<string>();
    set.add(version);
    out.set(pkg, set);
  }
  return out;
}

export interface DpkgPackage {
  name: string;
  version: string;
  /** dpkg's db:Status-Abbrev, e.g. "ii " (installed) or "iF " (half-configured). */
  status: string;
}

/**
 * `dpkg-query -W -f '${binary:Package}\t${Version}\t${source:Package}\t${source:Version}\t${db:Status-Abbrev}\n'`.
 * The name keeps dpkg's arch qualifier (`libssl3:amd64`) for multi-arch packages.
 */
export function parseDpkgQuery(text: string): DpkgPackage[] {
  const out: DpkgPackage[] = [];
  for (const line of text.split('\n')) {
    const f = line.split('\t');
    if (f.length < 5 || !f[0] || !f[1]) continue;
    out.push({ name: f[0], version: f[1], status: f[4] ?? '' });
  }
  return out;
}

/** `libssl3:amd64` → `libssl3`; dpkg qualifies multi-arch names, apt prints native ones bare. */
export const bareName = (name: string): string => name.replace(/:[a-z0-9]+$/, '');

/**
 * The version a package had before it was upgraded to `to`, from /var/log/dpkg.log
 * lines `2024-05-01 10:00:00 upgrade libfoo:amd64 1.0-1 1.1-1`; the latest such line wins.
 */
export function previousVersion(dpkgLog: string, pkg: string, to: string): string | undefined {
  let found: string | undefined;
  for (const line of dpkgLog.split('\n')) {
    const f = line.split(' ');
    if (f[2] !== 'upgrade' || !f[3] || bareName(f[3]) !== bareName(pkg)) continue;
    if (f[5] === to && f[4] && f[4] !== '<none>') found = f[4];
  }
  return found;
}

/**
 * `apt-cache policy a b` for packages apt kept back (they have no Inst line): installed
 * and candidate versions, and the suites offering the candidate (`bookworm-security/main`).
 */
export function parsePolicy(text: string): AptUpgrade[] {
  const out: AptUpgrade[] = [];
  const blocks = text.split(/^(?=\S+:\s*$)/m);
  for (const block of blocks) {
    const name = /^(\S+):\s*$/m.exec(block)?.[1];
    const installed = /^\s+Installed: (\S+)/m.exec(block)?.[1];
    const candidate = /^\s+Candidate: (\S+)/m.exec(block)?.[1];
    if (
      !name ||
      !installed ||
      !candidate ||
      installed === '(none)' ||
      candidate === '(none)' ||
      installed === candidate
    )
      continue;
    const origins: AptUpgrade['origins'] = [];
    let inCandidate = false;
    for (const line of block.split('\n')) {
      const version = /^ (?:\*\*\*| {3}) (\S+) -?\d+$/.exec(line);
      if (version) {
        inCandidate = version[1] === candidate;
        continue;
      }
      const source = /^\s+-?\d+ \S+ (\S+?)(?:\/\S+)? \S+ Packages$/.exec(line);
      if (inCandidate && source?.[1]) origins.push({ origin: source[1], archive: source[1] });
    }
    out.push({
      name,
      installed,
      candidate,
      origins,
      security: origins.some((o) => o.archive.endsWith('-security')),
    });
  }
  return out;
}
