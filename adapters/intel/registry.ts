import { z } from 'zod';
import { AdapterRegistry, defineAdapter, type AdapterDeps } from '../kit.js';
import { DEBIAN_RELEASES, DEBIAN_URL, createDebianLoader } from './debian.js';
import { EPSS_CSV_URL, createEpssLoader } from './epss.js';
import { KEV_URL, createKevLoader } from './kev.js';
import { NVD_NOTICE, NVD_URL, createNvdLoader } from './nvd.js';
import { parseLocation } from './read.js';
import { IntelError, type IntelLoader, type IntelLocation, type IntelSourceName } from './types.js';

/** A source's settings: where it reads from, or off. */
export type IntelSettings =
  { enabled: false } | { enabled: true; location: IntelLocation; [extra: string]: unknown };

const DAY = 24 * 3600 * 1000;

/** When doctor calls a source stale: KEV and EPSS publish daily, NVD and Debian change hourly. */
export const INTEL_STALE_AFTER_MS: Record<IntelSourceName, number> = {
  kev: 2 * DAY,
  epss: 2 * DAY,
  nvd: 2 * DAY,
  debian: 3 * DAY,
};

export const INTEL_VENDORS: Record<IntelSourceName, string> = {
  kev: 'CISA KEV',
  epss: 'FIRST EPSS',
  nvd: 'NVD',
  debian: 'Debian security tracker',
};

const location = (name: string, fallback: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const l = parseLocation(v ?? fallback);
      if (l !== 'off' && l.kind === 'file' && !l.path) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: 'expected an https:// URL, a file path or "off"',
        });
        return z.NEVER;
      }
      return l;
    });

const locationVar = (name: string, what: string, url: string) => ({
  name,
  description: `${what}: an https:// URL (default ${url}), a local file (sites without internet) or "off"`,
});

const settingsOf = (
  l: IntelLocation | 'off',
  extra: Record<string, unknown> = {},
): IntelSettings => (l === 'off' ? { enabled: false } : { enabled: true, location: l, ...extra });

const disabled = (source: string): never => {
  throw new IntelError(
    'INTEL_DISABLED',
    `${source} is off (PATCHOPS_INTEL_${source.toUpperCase()}=off)`,
  );
};

const positiveInt = (example: string) =>
  z.coerce
    .number({ message: `expected a whole number, e.g. ${example}` })
    .int()
    .positive()
    .optional();

/**
 * Every intelligence source. Unlike RMM and ITSM, all of them are on at once; each can
 * be pointed at a local file or switched off with its own variable.
 */
export const intelRegistry = new AdapterRegistry<IntelLoader>(
  'intel',
  'PATCHOPS_INTEL_<SOURCE>',
  [
    defineAdapter({
      kind: 'kev',
      vendor: 'CISA KEV',
      summary:
        'Known Exploited Vulnerabilities catalog (daily); newly listed CVEs start the emergency path',
      env: [locationVar('PATCHOPS_INTEL_KEV', 'the KEV catalog JSON', KEV_URL)],
      settings: z
        .object({ PATCHOPS_INTEL_KEV: location('PATCHOPS_INTEL_KEV', KEV_URL) })
        .transform((e) => settingsOf(e.PATCHOPS_INTEL_KEV)),
      create: (s: IntelSettings, deps: AdapterDeps) =>
        s.enabled ? createKevLoader(s.location, deps) : disabled('kev'),
    }),
    defineAdapter({
      kind: 'epss',
      vendor: 'FIRST EPSS',
      summary:
        'exploit prediction scores of every CVE (daily CSV, or the API when pointed at /data/v1/epss)',
      env: [
        locationVar(
          'PATCHOPS_INTEL_EPSS',
          'the daily epss_scores CSV (.csv or .csv.gz)',
          EPSS_CSV_URL,
        ),
        {
          name: 'PATCHOPS_INTEL_EPSS_PAGE_SIZE',
          description: 'API mode: scores per request (default 1000)',
        },
      ],
      settings: z
        .object({
          PATCHOPS_INTEL_EPSS: location('PATCHOPS_INTEL_EPSS', EPSS_CSV_URL),
          PATCHOPS_INTEL_EPSS_PAGE_SIZE: positiveInt('1000'),
        })
        .transform((e) =>
          settingsOf(e.PATCHOPS_INTEL_EPSS, { pageSize: e.PATCHOPS_INTEL_EPSS_PAGE_SIZE }),
        ),
      create: (s: IntelSettings, deps: AdapterDeps) =>
        s.enabled
          ? createEpssLoader(s.location, deps, s.pageSize ? { pageSize: s.pageSize as number } : {})
          : disabled('epss'),
    }),
    defineAdapter({
      kind: 'nvd',
      vendor: 'NVD',
      summary: `CVSS v4.0/v3.x base scores from the CVE API 2.0, synced incrementally. ${NVD_NOTICE}`,
      env: [
        locationVar(
          'PATCHOPS_INTEL_NVD',
          'the CVE API 2.0 (or a saved answer / nvdcve-2.0 feed file)',
          NVD_URL,
        ),
        {
          name: 'PATCHOPS_INTEL_NVD_API_KEY',
          description: 'NVD API key (50 requests per 30 s instead of 5)',
          secret: true,
        },
        {
          name: 'PATCHOPS_INTEL_NVD_WINDOW_MS',
          description: "NVD's rate-limit window in ms (default 30000)",
        },
      ],
      settings: z
        .object({
          PATCHOPS_INTEL_NVD: location('PATCHOPS_INTEL_NVD', NVD_URL),
          PATCHOPS_INTEL_NVD_API_KEY: z.string().min(1).optional(),
          PATCHOPS_INTEL_NVD_WINDOW_MS: positiveInt('30000'),
        })
        .transform((e) =>
          settingsOf(e.PATCHOPS_INTEL_NVD, {
            apiKey: e.PATCHOPS_INTEL_NVD_API_KEY,
            windowMs: e.PATCHOPS_INTEL_NVD_WINDOW_MS,
          }),
        ),
      create: (s: IntelSettings, deps: AdapterDeps) =>
        s.enabled
          ? createNvdLoader(s.location, deps, {
              apiKey: s.apiKey as string | undefined,
              ...(s.windowMs ? { windowMs: s.windowMs as number } : {}),
            })
          : disabled('nvd'),
    }),
    defineAdapter({
      kind: 'debian',
      vendor: 'Debian security tracker',
      summary: 'per Debian release: is a CVE fixed, in which version, how urgent',
      env: [
        locationVar('PATCHOPS_INTEL_DEBIAN', 'the tracker JSON', DEBIAN_URL),
        {
          name: 'PATCHOPS_INTEL_DEBIAN_RELEASES',
          description: `releases to keep, comma-separated (default ${DEBIAN_RELEASES.join(',')})`,
        },
      ],
      settings: z
        .object({
          PATCHOPS_INTEL_DEBIAN: location('PATCHOPS_INTEL_DEBIAN', DEBIAN_URL),
          PATCHOPS_INTEL_DEBIAN_RELEASES: z
            .string()
            .regex(
              /^[a-z]+(-[a-z]+)*(,[a-z]+(-[a-z]+)*)*$/,
              'expected codenames like bookworm,trixie',
            )
            .optional(),
        })
        .transform((e) =>
          settingsOf(e.PATCHOPS_INTEL_DEBIAN, {
            releases: e.PATCHOPS_INTEL_DEBIAN_RELEASES?.split(',') ?? DEBIAN_RELEASES,
          }),
        ),
      create: (s: IntelSettings, deps: AdapterDeps) =>
        s.enabled
          ? createDebianLoader(s.location, deps, s.releases as string[])
          : disabled('debian'),
    }),
  ],
  (code, message) => new IntelError(code, message),
);

/** Builds the loaders of the enabled sources, from the settings config-intel parsed. */
export function createIntelLoaders(
  settings: Partial<Record<IntelSourceName, IntelSettings>>,
  deps: AdapterDeps,
): Partial<Record<IntelSourceName, IntelLoader>> {
  const out: Partial<Record<IntelSourceName, IntelLoader>> = {};
  for (const [name, s] of Object.entries(settings) as [IntelSourceName, IntelSettings][])
    if (s.enabled) out[name] = intelRegistry.create(name, s, deps);
  return out;
}
