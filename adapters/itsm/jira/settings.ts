import { z } from 'zod';
import type { AdapterEnvVar } from '../../kit.js';

/** What the Jira adapter runs on, parsed once from the JIRA_* variables. */
export interface JiraSettings {
  /** e.g. "https://acme.atlassian.net", no trailing slash. */
  siteUrl: string;
  email: string;
  apiToken: string;
  /** Default project key; a client's `tickets.project` overrides it. */
  project: string;
  issueType: string;
  incidentIssueType: string;
  /** Issue link type joining an incident to its change, by name ("Relates"). */
  incidentLinkType: string;
  /**
   * Workflow transition names per step; null means "this workflow has no such step": the
   * stage is recorded as a comment only (cancelled falls back to `done`).
   */
  transitions: {
    approved: string | null;
    implementing: string | null;
    done: string;
    cancelled: string | null;
  };
}

export const JIRA_ENV: readonly AdapterEnvVar[] = [
  {
    name: 'JIRA_SITE_URL',
    description: 'Jira Cloud site, e.g. https://acme.atlassian.net',
    required: true,
  },
  {
    name: 'JIRA_EMAIL',
    description: 'Atlassian account e-mail the API token belongs to',
    required: true,
  },
  {
    name: 'JIRA_API_TOKEN',
    description: 'API token of that account (id.atlassian.com → Security → API tokens)',
    secret: true,
    required: true,
  },
  { name: 'JIRA_PROJECT', description: 'Default project key, e.g. OPS', required: true },
  { name: 'JIRA_ISSUE_TYPE', description: 'Issue type of change tickets (default Task)' },
  { name: 'JIRA_INCIDENT_ISSUE_TYPE', description: 'Issue type of incidents (default Bug)' },
  {
    name: 'JIRA_INCIDENT_LINK_TYPE',
    description: 'Issue link type from an incident to its change (default Relates)',
  },
  {
    name: 'JIRA_TRANSITION_APPROVED',
    description: 'Transition name when a rollout is approved (default none: comment only)',
  },
  {
    name: 'JIRA_TRANSITION_IMPLEMENTING',
    description: 'Transition name when deployment starts (default "In Progress"; "none" to skip)',
  },
  {
    name: 'JIRA_TRANSITION_DONE',
    description: 'Transition name that closes a change (default "Done")',
  },
  {
    name: 'JIRA_TRANSITION_CANCELLED',
    description: 'Transition name for a cancelled rollout (default none: uses the done transition)',
  },
];

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

const siteUrl = z.string().transform((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'expected a URL, e.g. https://acme.atlassian.net' });
    return z.NEVER;
  }
  const loopback = LOOPBACK.has(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    ctx.addIssue({
      code: 'custom',
      message: 'must use https:// (plain http is accepted only for a loopback test server)',
    });
    return z.NEVER;
  }
  if (url.search || url.hash) {
    ctx.addIssue({ code: 'custom', message: 'must not carry a query or fragment' });
    return z.NEVER;
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
});

/** "none" or "-" switches a defaulted step off (an empty variable counts as unset). */
const transitionName = (fallback: string | null) =>
  z
    .string()
    .trim()
    .max(255)
    .optional()
    .transform((v) => {
      if (v === undefined || v === '') return fallback;
      return /^(none|-)$/i.test(v) ? null : v;
    });

const name = (fallback: string) =>
  z
    .string()
    .trim()
    .min(1)
    .max(255)
    .optional()
    .transform((v) => v ?? fallback);

export const jiraSettingsSchema = z
  .object({
    JIRA_SITE_URL: siteUrl,
    JIRA_EMAIL: z.email('expected the Atlassian account e-mail, e.g. ops@acme.com'),
    JIRA_API_TOKEN: z.string().min(8, 'expected an Atlassian API token'),
    JIRA_PROJECT: z
      .string()
      .trim()
      .regex(/^[A-Za-z][A-Za-z0-9_]*$/, {
        message: 'expected a project key (letters, digits, _; starting with a letter), e.g. OPS',
      })
      .transform((k) => k.toUpperCase()),
    JIRA_ISSUE_TYPE: name('Task'),
    JIRA_INCIDENT_ISSUE_TYPE: name('Bug'),
    JIRA_INCIDENT_LINK_TYPE: name('Relates'),
    JIRA_TRANSITION_APPROVED: transitionName(null),
    JIRA_TRANSITION_IMPLEMENTING: transitionName('In Progress'),
    JIRA_TRANSITION_DONE: z
      .string()
      .trim()
      .min(1)
      .max(255)
      .optional()
      .transform((v) => v ?? 'Done'),
    JIRA_TRANSITION_CANCELLED: transitionName(null),
  })
  .transform((e): JiraSettings => ({
    siteUrl: e.JIRA_SITE_URL,
    email: e.JIRA_EMAIL,
    apiToken: e.JIRA_API_TOKEN,
    project: e.JIRA_PROJECT,
    issueType: e.JIRA_ISSUE_TYPE,
    incidentIssueType: e.JIRA_INCIDENT_ISSUE_TYPE,
    incidentLinkType: e.JIRA_INCIDENT_LINK_TYPE,
    transitions: {
      approved: e.JIRA_TRANSITION_APPROVED,
      implementing: e.JIRA_TRANSITION_IMPLEMENTING,
      done: e.JIRA_TRANSITION_DONE,
      cancelled: e.JIRA_TRANSITION_CANCELLED,
    },
  }));
