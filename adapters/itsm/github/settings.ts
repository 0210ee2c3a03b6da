import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { AdapterEnvVar } from '../../kit.js';

/** How the adapter signs in: a personal access token or a GitHub App installation. */
export type GitHubAuth =
  | { kind: 'token'; token: string }
  | { kind: 'app'; appId: string; privateKey: string; installationId: number };

export interface GitHubSettings {
  /** REST API root: https://api.github.com, or https://HOST/api/v3 on GitHub Enterprise Server. */
  apiUrl: string;
  /** The default repository; a client's TicketRouting.repo overrides it. */
  repo: { owner: string; name: string };
  auth: GitHubAuth;
  /** Added to every issue, besides patchops' own labels and the client's. */
  labels: string[];
  /** Per HTTP attempt. */
  timeoutMs: number;
  /**
   * Spacing of writes. Unset: octokit's throttling defaults (1 s between writes, 3 s between
   * issue and comment creations), which follow GitHub's advice for avoiding secondary rate limits.
   */
  writeIntervalMs?: number;
  /** Longest rate-limit wait worth taking in-process; a longer one fails RATE_LIMITED. */
  maxRetryAfterSeconds: number;
  /** In-process retries of a rate-limited request (primary or secondary limit). */
  rateLimitRetries: number;
  /** Base of octokit's retry backoff for 5xx on repeatable requests: (n+1)² × this. */
  retryBaseMs: number;
  /** per_page of the lists walked to find an earlier write (GitHub's maximum is 100). */
  pageSize: number;
}

export const GITHUB_ENV: readonly AdapterEnvVar[] = [
  {
    name: 'GITHUB_REPOSITORY',
    description:
      'Default repository for tickets, "owner/name" (a client policy\'s tickets.repo overrides it)',
    required: true,
  },
  {
    name: 'GITHUB_TOKEN',
    description:
      'Personal access token (fine-grained: Issues read/write + Metadata read; classic: repo). Or use a GitHub App',
    secret: true,
  },
  {
    name: 'GITHUB_APP_ID',
    description: 'GitHub App id (with GITHUB_APP_PRIVATE_KEY and GITHUB_APP_INSTALLATION_ID)',
  },
  {
    name: 'GITHUB_APP_PRIVATE_KEY',
    description:
      'GitHub App private key: the PEM text (\\n escapes allowed) or the path of the .pem file',
    secret: true,
  },
  {
    name: 'GITHUB_APP_INSTALLATION_ID',
    description: 'Installation id of the GitHub App on the repository owner',
  },
  {
    name: 'GITHUB_API_URL',
    description:
      'REST API root (default https://api.github.com; GitHub Enterprise Server: https://HOST/api/v3)',
  },
  {
    name: 'GITHUB_LABELS',
    description: 'Comma-separated labels added to every issue, e.g. "ops,patching"',
  },
  { name: 'GITHUB_TIMEOUT_MS', description: 'Per-request timeout in milliseconds (default 30000)' },
  {
    name: 'GITHUB_WRITE_INTERVAL_MS',
    description:
      "Milliseconds between writes (default: octokit's 1 s between writes, 3 s between issue/comment creations); lower only for a fake or a private GHES",
  },
];

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
const REPO = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})$/;

/** "owner/name" → parts, or undefined when it is not a repository name. */
export function parseRepo(text: string): { owner: string; name: string } | undefined {
  const m = REPO.exec(text.trim());
  return m ? { owner: m[1]!, name: m[2]! } : undefined;
}

const number = (min: number) =>
  z
    .string()
    .regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min));

/** PEM text as given, with "\n" escapes (common in .env files) turned into newlines; else a path. */
function readPrivateKey(value: string): { pem: string } | { problem: string } {
  if (value.includes('-----BEGIN')) return { pem: value.replace(/\\n/g, '\n') };
  try {
    const pem = readFileSync(value, 'utf8');
    if (pem.includes('-----BEGIN')) return { pem };
    return { problem: 'the file is not a PEM private key (no "-----BEGIN" line)' };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    return {
      problem: `neither PEM text nor a readable file (${code}); paste the key or give the path of the .pem file GitHub generated`,
    };
  }
}

/** Parses `{ VAR: value }` of GITHUB_ENV; zod issue paths name the variable to fix. */
export const githubSettingsSchema = z
  .object({
    GITHUB_REPOSITORY: z
      .string({ error: 'required: the repository tickets go to, "owner/name"' })
      .refine((v) => !!parseRepo(v), 'expected "owner/name", e.g. "acme/patching"'),
    GITHUB_TOKEN: z.string().min(1).optional(),
    GITHUB_APP_ID: z.string().regex(/^\d+$/, 'expected the numeric App id').optional(),
    GITHUB_APP_PRIVATE_KEY: z.string().min(1).optional(),
    GITHUB_APP_INSTALLATION_ID: number(1).optional(),
    GITHUB_API_URL: z
      .string()
      .url('expected a URL, e.g. https://api.github.com')
      .refine((v) => {
        const u = new URL(v);
        return u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.has(u.hostname));
      }, 'must be https (http only for localhost, 127.0.0.1 or [::1])')
      .optional(),
    GITHUB_LABELS: z.string().optional(),
    GITHUB_TIMEOUT_MS: number(100).optional(),
    GITHUB_WRITE_INTERVAL_MS: number(0).optional(),
  })
  .superRefine((e, ctx) => {
    const app = [e.GITHUB_APP_ID, e.GITHUB_APP_PRIVATE_KEY, e.GITHUB_APP_INSTALLATION_ID];
    const anyApp = app.some((v) => v !== undefined);
    if (e.GITHUB_TOKEN && anyApp) {
      ctx.addIssue({
        code: 'custom',
        path: ['GITHUB_TOKEN'],
        message:
          'set either GITHUB_TOKEN or the GitHub App variables (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY, GITHUB_APP_INSTALLATION_ID), not both',
      });
    } else if (!e.GITHUB_TOKEN && !anyApp) {
      ctx.addIssue({
        code: 'custom',
        path: ['GITHUB_TOKEN'],
        message:
          'required: a token (GITHUB_TOKEN), or a GitHub App (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY, GITHUB_APP_INSTALLATION_ID)',
      });
    } else if (anyApp) {
      const names = ['GITHUB_APP_ID', 'GITHUB_APP_PRIVATE_KEY', 'GITHUB_APP_INSTALLATION_ID'];
      app.forEach((v, i) => {
        if (v === undefined)
          ctx.addIssue({
            code: 'custom',
            path: [names[i]!],
            message: 'required with the other GITHUB_APP_* variables',
          });
      });
    }
  })
  .transform((e, ctx): GitHubSettings => {
    let auth: GitHubAuth;
    if (e.GITHUB_TOKEN) auth = { kind: 'token', token: e.GITHUB_TOKEN };
    else {
      const key = readPrivateKey(e.GITHUB_APP_PRIVATE_KEY!);
      if ('problem' in key) {
        ctx.addIssue({ code: 'custom', path: ['GITHUB_APP_PRIVATE_KEY'], message: key.problem });
        return z.NEVER;
      }
      auth = {
        kind: 'app',
        appId: e.GITHUB_APP_ID!,
        privateKey: key.pem,
        installationId: e.GITHUB_APP_INSTALLATION_ID!,
      };
    }
    return {
      apiUrl: (e.GITHUB_API_URL ?? 'https://api.github.com').replace(/\/+$/, ''),
      repo: parseRepo(e.GITHUB_REPOSITORY)!,
      auth,
      labels: (e.GITHUB_LABELS ?? '')
        .split(',')
        .map((l) => l.trim())
        .filter(Boolean),
      timeoutMs: e.GITHUB_TIMEOUT_MS ?? 30_000,
      ...(e.GITHUB_WRITE_INTERVAL_MS !== undefined
        ? { writeIntervalMs: e.GITHUB_WRITE_INTERVAL_MS }
        : {}),
      maxRetryAfterSeconds: 60,
      rateLimitRetries: 2,
      retryBaseMs: 1000,
      pageSize: 100,
    };
  });
