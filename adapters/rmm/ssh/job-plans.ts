import { RmmError } from '../types.js';
import { bareName, parseDpkgQuery, parseMadison, previousVersion } from './apt-parse.js';
import type { Family, SshContext } from './context.js';
import { parseNeedsRestarting, sameRpmVersion } from './dnf-parse.js';
import type { InventoryHost } from './inventory.js';
import { parseRecord, type JobTarget } from './jobs.js';
import {
  aptMadison,
  DEB_INSTALLED,
  DPKG_LOG,
  LIST_RECORDS,
  RPM_INSTALLED,
  sections,
} from './scripts.js';

/**
 * What a rollback goes back to and what a reboot completes, worked out on the host before
 * the job is recorded, so a refusal (NOT_UNINSTALLABLE) leaves nothing behind.
 */

/**
 * For each patch (installed now at its version), the version before it, from dpkg's log,
 * which must still be in the host's repositories; otherwise NOT_UNINSTALLABLE.
 */
export async function rollbackTargets(
  ctx: SshContext,
  host: InventoryHost,
  targets: JobTarget[],
): Promise<JobTarget[]> {
  const installed = new Map(
    parseDpkgQuery(
      sections(await ctx.runOk(host, DEB_INSTALLED, 'dpkg-query')).get('dpkg')?.body ?? '',
    ).map((p) => [bareName(p.name), p]),
  );
  const log = await ctx.runOk(host, DPKG_LOG, 'reading /var/log/dpkg.log');
  const repo = parseMadison(
    await ctx.runOk(host, aptMadison(targets.map((t) => t.name)), 'apt-cache madison'),
  );
  const refuse = (why: string) =>
    new RmmError('NOT_UNINSTALLABLE', `${host.name}: ${why} (nothing was changed)`);
  return targets.map((t) => {
    const now = installed.get(bareName(t.name));
    if (now?.version !== t.version) {
      throw refuse(
        `${t.name} is at ${now?.version ?? 'nothing'}, not ${t.version}; nothing to roll back`,
      );
    }
    const before = previousVersion(log, t.name, t.version);
    if (!before) {
      throw refuse(
        `/var/log/dpkg.log has no upgrade of ${t.name} to ${t.version}, so the version before is unknown`,
      );
    }
    if (!repo.get(t.name)?.has(before)) {
      throw refuse(`${t.name} ${before} is no longer in the host's repositories`);
    }
    return { patchId: t.patchId, name: t.name, version: before };
  });
}

/** Installs of earlier deploy jobs that are in place but wait for this host's reboot. */
export async function pendingReboot(
  ctx: SshContext,
  host: InventoryHost,
  family: Family,
): Promise<JobTarget[]> {
  const listing = await ctx.runOk(host, LIST_RECORDS(ctx.settings.stateDir), 'listing job records');
  const records = listing
    .split('@@rec\n')
    .map((t) => t.trim())
    .filter(Boolean)
    .map((t) => parseRecord(t, `${host.name} job record`))
    .filter((r) => r.kind === 'deploy');
  const s = sections(
    await ctx.runOk(host, family === 'deb' ? DEB_INSTALLED : RPM_INSTALLED, 'listing packages'),
  );
  const keyOf = (name: string) => (family === 'deb' ? bareName(name) : name);
  const now = new Map(
    parseDpkgQuery(s.get(family === 'deb' ? 'dpkg' : 'rpm')?.body ?? '').map((p) => [
      keyOf(p.name),
      p.version,
    ]),
  );
  const waiting =
    family === 'deb'
      ? new Set((s.get('reboot')?.body ?? '').split('\n').map((l) => bareName(l.trim())))
      : new Set(parseNeedsRestarting(s.get('reboot')?.body ?? '').packages);
  const out = new Map<string, JobTarget>();
  for (const p of records.flatMap((r) => r.packages)) {
    const key = keyOf(p.name);
    const at = now.get(key);
    const same =
      at !== undefined && (family === 'deb' ? at === p.version : sameRpmVersion(at, p.version));
    // needs-restarting names packages without their arch.
    if (same && waiting.has(family === 'deb' ? key : key.replace(/\.[^.]+$/, ''))) {
      out.set(p.patchId, p);
    }
  }
  return [...out.values()].sort((a, b) => a.patchId.localeCompare(b.patchId));
}
