import { z } from 'zod';
import { DEFER_DAYS } from '../../cards/model.js';
import { ACCENT_COLOR } from './icons.js';

/**
 * The Teams app manifest for the patchops bot, app manifest schema v1.19 — the current
 * version on https://learn.microsoft.com/en-us/microsoftteams/platform/resources/schema/manifest-schema
 * (1.18 was never published). Since v1.17 the schema has no `packageName`, and it rejects
 * unknown properties, so the manifest carries none.
 *
 * The Teams app `id` defaults to the bot's Microsoft App ID, as in Microsoft's own sample
 * manifest: one GUID for the admin to recognise, and stable, so uploading a rebuilt package
 * updates the existing app instead of adding a second one.
 */

export const MANIFEST_VERSION = '1.19';
export const MANIFEST_SCHEMA_URL = `https://developer.microsoft.com/json-schemas/teams/v${MANIFEST_VERSION}/MicrosoftTeams.schema.json`;

/** Lengths and counts from the v1.19 schema. */
export const LIMITS = {
  shortName: 30,
  fullName: 100,
  shortDescription: 80,
  fullDescription: 4000,
  developerName: 32,
  url: 2048,
  version: 256,
  commandLists: 3,
  commandsPerList: 10,
  commandTitle: 32,
  commandDescription: 128,
  validDomains: 16,
} as const;

/** A bot command; `menu` ones appear in the compose-box menu, and the bot understands all typed. */
export interface BotCommand {
  title: string;
  description: string;
  menu: boolean;
}
const command = (title: string, description: string, menu = true) => ({ title, description, menu });
const deferDays = `${DEFER_DAYS.slice(0, -1).join(', ')} or ${String(DEFER_DAYS.at(-1))}`;

export const BOT_COMMANDS: readonly BotCommand[] = [
  command('help', 'List every command and how to use it'),
  command('status', 'Progress of active rollouts, or of one rollout'),
  command('scan', "Scan a client's devices for missing patches now"),
  command('rollout', 'Plan and start a patch rollout for a client'),
  command('approve', 'Approve a rollout that is waiting for approval'),
  command('reject', 'Reject a rollout that is waiting for approval'),
  command('defer', `Defer a rollout waiting for approval by ${deferDays} days`),
  command('pause', 'Pause a running rollout once the devices in flight finish'),
  command('resume', 'Resume a paused rollout'),
  // A menu holds 10 commands; cancel is the one left out because it is irreversible and a
  // menu pick should never be one Enter away from stopping a fleet's rollout. Typed, it works.
  command('cancel', 'Cancel a rollout for good; devices not yet patched stay as they are', false),
  command('report', 'Compliance summary: patch rate, mean time to patch, SLA breaches'),
];

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;
const GUID = /^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$/;
const guid = (what: string) =>
  z.string().trim().regex(GUID, `${what} must be a GUID like 6f1c2d3e-0000-4000-8000-123456789abc`);
const text = (max: number) =>
  z.string().min(1, 'must not be empty').max(max, `Teams allows at most ${max} characters`);
const httpsUrl = text(LIMITS.url).regex(/^https:\/\/\S+$/i, 'must be an https:// URL');
const domain = z
  .string()
  .trim()
  .refine((d) => !/^[a-z]+:\/\//i.test(d), {
    message: 'give the host only, without https://',
    abort: true,
  })
  .refine(
    (d) => /^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)+(:\d{1,5})?$/i.test(d),
    'expected a host name like bot.example.com or *.example.com',
  );
const developerSchema = z.object({
  name: text(LIMITS.developerName),
  websiteUrl: httpsUrl,
  privacyUrl: httpsUrl,
  termsOfUseUrl: httpsUrl,
});
export type TeamsDeveloper = z.infer<typeof developerSchema>;

/** Placeholders Teams accepts for an app uploaded to one organisation; set real pages to publish. */
export const DEFAULT_DEVELOPER: TeamsDeveloper = {
  name: 'patchops',
  websiteUrl: 'https://example.com/patchops',
  privacyUrl: 'https://example.com/patchops/privacy',
  termsOfUseUrl: 'https://example.com/patchops/terms',
};

// Options are checked for form here; lengths and counts are checked on the manifest built
// from them, so the limits live in one place.
const optionsSchema = z.object({
  botAppId: guid("the bot's Microsoft App ID (Azure portal → your Azure Bot → Configuration)"),
  teamsAppId: guid('the Teams app id').optional(),
  name: z.string().trim().default('patchops'),
  version: z.string().trim().default('1.0.0'),
  developer: developerSchema.default(DEFAULT_DEVELOPER),
  validDomains: z.array(domain).default([]),
  webApplicationInfo: z
    .object({ id: guid('webApplicationInfo.id'), resource: text(LIMITS.url).optional() })
    .optional(),
});
export type TeamsManifestOptions = z.input<typeof optionsSchema>;

const SCOPES = ['personal', 'team', 'groupChat'] as const;
const scopes = z.array(z.enum(SCOPES)).min(1).max(SCOPES.length);

const commandList = z.object({
  scopes,
  commands: z
    .array(
      z.object({ title: text(LIMITS.commandTitle), description: text(LIMITS.commandDescription) }),
    )
    .max(
      LIMITS.commandsPerList,
      `Teams allows at most ${LIMITS.commandsPerList} commands per list`,
    ),
});

/** What we produce, held to the schema's documented limits before it goes into a package. */
export const teamsManifestSchema = z.object({
  $schema: z.literal(MANIFEST_SCHEMA_URL),
  manifestVersion: z.literal(MANIFEST_VERSION),
  version: text(LIMITS.version).regex(SEMVER, 'expected MAJOR.MINOR.PATCH like 1.0.0'),
  id: z.string().regex(GUID),
  developer: developerSchema,
  name: z.object({ short: text(LIMITS.shortName), full: text(LIMITS.fullName) }),
  description: z.object({
    short: text(LIMITS.shortDescription),
    full: text(LIMITS.fullDescription),
  }),
  icons: z.object({ color: z.literal('color.png'), outline: z.literal('outline.png') }),
  accentColor: z.string().regex(/^#[0-9a-fA-F]{6}$/),
  bots: z.tuple([
    z.object({
      botId: z.string().regex(GUID),
      scopes,
      supportsFiles: z.boolean(),
      isNotificationOnly: z.boolean(),
      commandLists: z.array(commandList).max(LIMITS.commandLists),
    }),
  ]),
  permissions: z.array(z.enum(['identity', 'messageTeamMembers'])),
  validDomains: z
    .array(text(LIMITS.url))
    .max(LIMITS.validDomains, `Teams allows at most ${LIMITS.validDomains} domains`),
  webApplicationInfo: z
    .object({ id: z.string().regex(GUID), resource: text(LIMITS.url).optional() })
    .optional(),
});
export type TeamsManifest = z.infer<typeof teamsManifestSchema>;

/** Each field's CLI option, so an error names what the user typed. */
const OPTION_NAMES: Record<string, string> = {
  botAppId: '--app-id',
  name: '--name',
  version: '--version',
  validDomains: '--valid-domain',
  developer: '--website',
};

export class TeamsManifestError extends Error {
  readonly code = 'TEAMS_MANIFEST_INVALID';
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

function fail(error: z.ZodError): never {
  const problems = error.issues.map((issue) => {
    const [field, index] = issue.path;
    const where = OPTION_NAMES[String(field)] ?? issue.path.join('.');
    const item = typeof index === 'number' ? ` (value ${String(index + 1)})` : '';
    return `${where}${item}: ${issue.message}`;
  });
  // --website fills three URLs; one bad value should read as one problem.
  throw new TeamsManifestError([...new Set(problems)]);
}

const FULL_DESCRIPTION =
  'patchops runs patch management as chat-ops. Missing patches found on your fleet are scored ' +
  'by severity, CVSS, EPSS and CISA KEV; what needs a human arrives here as an approval card. ' +
  'Approved patches roll out ring by ring inside maintenance windows, halting on failures. ' +
  'Pause, resume or cancel any time; ask for status or a compliance report whenever you like.';

/** Builds and checks the manifest; bad options throw a TeamsManifestError naming the option. */
export function buildTeamsManifest(options: TeamsManifestOptions): TeamsManifest {
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) fail(parsed.error);
  const o = parsed.data;
  const botId = o.botAppId.toLowerCase();
  const all = [...SCOPES];
  const menu = BOT_COMMANDS.filter((c) => c.menu);
  const checked = teamsManifestSchema.safeParse({
    $schema: MANIFEST_SCHEMA_URL,
    manifestVersion: MANIFEST_VERSION,
    version: o.version,
    id: (o.teamsAppId ?? botId).toLowerCase(),
    developer: o.developer,
    name: { short: o.name, full: `${o.name}: patch approvals and rollouts from Teams` },
    description: {
      short: 'Approve, pause and track patch rollouts across your fleet.',
      full: FULL_DESCRIPTION,
    },
    icons: { color: 'color.png', outline: 'outline.png' },
    accentColor: ACCENT_COLOR,
    bots: [
      {
        botId,
        scopes: all,
        supportsFiles: false,
        isNotificationOnly: false,
        commandLists: [
          { scopes: all, commands: menu.map(({ title, description }) => ({ title, description })) },
        ],
      },
    ],
    permissions: ['identity', 'messageTeamMembers'],
    validDomains: [...new Set(o.validDomains.map((d) => d.toLowerCase()))],
    webApplicationInfo: o.webApplicationInfo,
  } satisfies TeamsManifest);
  if (!checked.success) fail(checked.error);
  return checked.data;
}
