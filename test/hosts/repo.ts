/**
 * A local apt repository for the test hosts: .deb files built with dpkg-deb, Packages and
 * Release indices written here (format: Debian wiki "DebianRepository/Format"), served by
 * a static HTTP server on 127.0.0.1. Hosts trust it with `[trusted=yes]`, so no signing.
 * The Release fields mirror Debian 12's, so `apt-get -s upgrade` names the origin as on a
 * real machine, e.g. `(1.1-1 Debian-Security:12/stable-security [all])`.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { controlStanza, postinstScript, type DemoPackage, type Suite } from './packages.js';

const run = promisify(execFile);

/** Release fields per suite, as in Debian 12's own Release files. */
const RELEASE: Record<Suite, Record<string, string>> = {
  bookworm: { Origin: 'Debian', Label: 'Debian', Suite: 'stable', Version: '12.12' },
  'bookworm-security': {
    Origin: 'Debian',
    Label: 'Debian-Security',
    Suite: 'stable-security',
    Version: '12',
  },
};

export interface Repo {
  /** Base URL for sources.list, e.g. http://127.0.0.1:41234/ */
  url: string;
  /** Adds package versions (built now) and rewrites the indices. */
  publish(pkgs: readonly DemoPackage[]): Promise<void>;
  close(): Promise<void>;
}

interface Entry {
  pkg: DemoPackage;
  stanza: string;
}

async function buildDeb(dir: string, pkg: DemoPackage): Promise<Entry> {
  const work = await mkdtemp(path.join(dir, '.deb-'));
  const share = path.join(work, 'usr/share/patchops-demo');
  await mkdir(path.join(work, 'DEBIAN'), { recursive: true });
  await mkdir(share, { recursive: true });
  await writeFile(path.join(share, `${pkg.name}.version`), `${pkg.version}\n`);
  await writeFile(path.join(work, 'DEBIAN/control'), controlStanza(pkg));
  const postinst = postinstScript(pkg);
  if (postinst) {
    await writeFile(path.join(work, 'DEBIAN/postinst'), postinst);
    await chmod(path.join(work, 'DEBIAN/postinst'), 0o755);
  }
  const filename = `pool/main/${pkg.name}_${pkg.version}_all.deb`;
  await mkdir(path.join(dir, 'pool/main'), { recursive: true });
  await run('dpkg-deb', [
    '--root-owner-group',
    '-Zgzip',
    '--build',
    work,
    path.join(dir, filename),
  ]);
  await rm(work, { recursive: true, force: true });
  const bytes = await readFile(path.join(dir, filename));
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const extra = `Filename: ${filename}\nSize: ${bytes.length}\nSHA256: ${sha256}\n`;
  return { pkg, stanza: controlStanza(pkg).replace(/^Description:/m, `${extra}Description:`) };
}

async function writeIndices(dir: string, entries: readonly Entry[]): Promise<void> {
  for (const suite of Object.keys(RELEASE) as Suite[]) {
    const rel = 'main/binary-amd64/Packages';
    const base = path.join(dir, 'dists', suite);
    await mkdir(path.join(base, 'main/binary-amd64'), { recursive: true });
    const packages = entries
      .filter((e) => e.pkg.suite === suite)
      .map((e) => e.stanza)
      .join('\n');
    await writeFile(path.join(base, rel), packages);
    const hash = createHash('sha256').update(packages).digest('hex');
    const fields = {
      ...RELEASE[suite],
      Codename: suite,
      Date: new Date().toUTCString(),
      Architectures: 'amd64',
      Components: 'main',
      // Arch "all" packages are listed in binary-amd64 (as Debian does), not binary-all.
      'No-Support-for-Architecture-all': 'Packages',
      Description: 'patchops test-host repository',
    };
    const head = Object.entries(fields).map(([k, v]) => `${k}: ${v}`);
    const size = Buffer.byteLength(packages);
    await writeFile(
      path.join(base, 'Release'),
      [...head, 'SHA256:', ` ${hash} ${size} ${rel}`, ''].join('\n'),
    );
  }
}

function serve(dir: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const rel = path.normalize(decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/'));
    const file = path.join(dir, rel);
    if (!file.startsWith(dir + path.sep) || req.method !== 'GET') {
      res.writeHead(req.method === 'GET' ? 404 : 405).end();
      return;
    }
    stat(file).then(
      (st) => {
        if (!st.isFile()) return void res.writeHead(404).end();
        res.writeHead(200, { 'Content-Length': st.size, 'Last-Modified': st.mtime.toUTCString() });
        createReadStream(file).pipe(res);
      },
      () => res.writeHead(404).end(),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** Builds the repository in `dir` (its own, emptied) and serves it. */
export async function startRepo(dir: string, pkgs: readonly DemoPackage[]): Promise<Repo> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const entries: Entry[] = [];
  const publish = async (more: readonly DemoPackage[]): Promise<void> => {
    for (const pkg of more) {
      const known = entries.findIndex(
        (e) => e.pkg.name === pkg.name && e.pkg.version === pkg.version,
      );
      const entry = await buildDeb(dir, pkg);
      if (known >= 0) entries[known] = entry;
      else entries.push(entry);
    }
    await writeIndices(dir, entries);
  };
  await publish(pkgs);
  const server = await serve(dir);
  const addr = server.address();
  if (!addr || typeof addr !== 'object') throw new Error('repo server has no port');
  return {
    url: `http://127.0.0.1:${addr.port}/`,
    publish,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
