import { existsSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { zipTeamsPackage } from '../../bot/teams/package/build.js';
import {
  BOT_COMMANDS,
  MANIFEST_VERSION,
  TeamsManifestError,
  buildTeamsManifest,
  type TeamsManifest,
} from '../../bot/teams/package/manifest.js';
import type { Config } from '../config.js';
import { CliError } from '../errors.js';

interface PackageOptions {
  appId?: string;
  out: string;
  name: string;
  version: string;
  validDomain?: string[];
  website?: string;
}

/** The bot's app id from configuration (MICROSOFT_APP_ID), when Teams is configured. */
function configuredAppId(config: Config): string | undefined {
  return config.chat.teams?.appId;
}

function developerFor(website: string | undefined) {
  if (website === undefined) return undefined;
  const base = website.replace(/\/+$/, '');
  return {
    name: 'patchops',
    websiteUrl: base,
    privacyUrl: `${base}/privacy`,
    termsOfUseUrl: `${base}/terms`,
  };
}

/** Writes through a temporary file, so a failed write never leaves a half-written zip. */
function writeAtomically(file: string, bytes: Uint8Array): void {
  const dir = path.dirname(file);
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new CliError(
      'TEAMS_OUT_DIR_MISSING',
      `--out: folder ${dir} does not exist; create it or pick another --out path`,
      2,
    );
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new CliError('TEAMS_OUT_UNWRITABLE', `--out: cannot write ${file}: ${String(err)}`, 2, {
      cause: err,
    });
  }
}

function summary(manifest: TeamsManifest, bytes: number): string {
  const bot = manifest.bots[0];
  const menu = bot.commandLists[0]?.commands.length ?? 0;
  const typedOnly = BOT_COMMANDS.filter((c) => !c.menu).map((c) => c.title);
  return (
    `Teams app "${manifest.name.short}" ${manifest.version} (manifest v${MANIFEST_VERSION}, ` +
    `bot ${bot.botId}, ${menu} menu commands, typed only: ${typedOnly.join(', ') || 'none'}, ` +
    `${(bytes / 1024).toFixed(1)} KiB): upload it in Teams admin center → Manage apps → Upload`
  );
}

export function registerTeamsCommands(program: Command, config: () => Config): void {
  const teams = program.command('teams').description('Microsoft Teams set-up');
  teams
    .command('package')
    .description('build the Teams app package (manifest.json + icons) for an admin to upload')
    .option(
      '--app-id <guid>',
      "the bot's Microsoft App ID (Azure portal → Azure Bot → Configuration)",
    )
    .option('--out <file>', 'where to write the zip', './patchops-teams.zip')
    .option('--name <name>', 'app name shown in Teams (at most 30 characters)', 'patchops')
    .option('--version <semver>', 'app version; raise it for every re-upload', '1.0.0')
    .option('--valid-domain <domain...>', 'domains the app may open (host only, *.x allowed)')
    .option('--website <url>', 'https:// page about the app; /privacy and /terms are under it')
    .action((opts: PackageOptions) => {
      const appId = opts.appId ?? configuredAppId(config());
      if (!appId)
        throw new CliError(
          'TEAMS_APP_ID_REQUIRED',
          "--app-id is required: pass the bot's Microsoft App ID, the GUID shown in the Azure " +
            'portal under your Azure Bot → Configuration',
          2,
        );
      let manifest: TeamsManifest;
      try {
        manifest = buildTeamsManifest({
          botAppId: appId,
          name: opts.name,
          version: opts.version,
          validDomains: opts.validDomain ?? [],
          developer: developerFor(opts.website),
        });
      } catch (err) {
        if (!(err instanceof TeamsManifestError)) throw err;
        throw new CliError('TEAMS_BAD_OPTION', err.message, 2, { cause: err });
      }
      const zip = zipTeamsPackage(manifest);
      const file = path.resolve(opts.out);
      writeAtomically(file, zip);
      process.stdout.write(`${file}\n${summary(manifest, zip.length)}\n`);
    });
}
