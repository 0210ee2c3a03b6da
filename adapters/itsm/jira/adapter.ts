import { HttpFailure } from '../../http/errors.js';
import type { AdapterDeps } from '../../kit.js';
import {
  ItsmError,
  toItsmError,
  type ItsmAdapter,
  type TicketRef,
  type TicketRouting,
  type TicketStage,
} from '../types.js';
import { plainText } from './adf.js';
import { JiraApi } from './client.js';
import {
  closeLabel,
  commentMarker,
  correlationLabel,
  jqlString,
  PATCHOPS_LABEL,
  PROPERTY_KEY,
  sanitiseLabel,
} from './correlation.js';
import { changeDescription, commentBody, incidentDescription } from './render.js';
import type { JiraSettings } from './settings.js';
import { testJiraConnection } from './test-connection.js';
import { isDone, memoOf, offered, offeredNames, reached } from './workflow.js';
import type { JiraIssue } from './wire.js';

const STAGE_VARIABLE: Record<TicketStage, string> = {
  approved: 'JIRA_TRANSITION_APPROVED',
  implementing: 'JIRA_TRANSITION_IMPLEMENTING',
};

const outcomeUnknown = (err: unknown) =>
  err instanceof HttpFailure && err.kind === 'outcome_unknown';

/**
 * Jira Cloud as patchops' ITSM (REST v3, basic auth with e-mail + API token). Changes are
 * issues of JIRA_ISSUE_TYPE found again by a correlation label; comments carry a marker;
 * stages are workflow transitions looked up by name; incidents are linked issues.
 */
export function createJira(settings: JiraSettings, deps: AdapterDeps): ItsmAdapter {
  const log = deps.log.child({ itsm: 'jira' });
  const basic = Buffer.from(`${settings.email}:${settings.apiToken}`).toString('base64');
  const http = deps.http({
    vendor: 'Jira',
    baseURL: settings.siteUrl,
    headers: { Authorization: `Basic ${basic}` },
    secrets: [settings.apiToken, `${settings.email}:${settings.apiToken}`],
  });
  const api = new JiraApi(http);

  const ref = (key: string): TicketRef => ({
    externalId: key,
    number: key,
    url: `${settings.siteUrl}/browse/${key}`,
  });
  const projectOf = (routing: TicketRouting) =>
    routing.project?.trim().toUpperCase() || settings.project;
  const labelsOf = (routing: TicketRouting, extra: string[]) => [
    ...new Set(
      [PATCHOPS_LABEL, ...extra, ...(routing.labels ?? []).map(sanitiseLabel)].filter(Boolean),
    ),
  ];

  /** The oldest issue carrying the label (a clone copies labels; the original wins). */
  async function findByLabel(label: string): Promise<string | undefined> {
    const found = await api.search(`labels = ${jqlString(label)}`, ['summary']);
    found.sort((a, b) => Number(a.id) - Number(b.id));
    return found[0]?.key;
  }

  /**
   * Creates an issue unless the label finds one. When the create's outcome is unknown it
   * looks once more; Jira's search index can lag a fresh issue by a moment, so not finding
   * it then is reported as OUTCOME_UNKNOWN (retried later with recheck), never a second create.
   */
  async function createOnce(
    label: string,
    recheck: boolean,
    fields: Record<string, unknown>,
    memo: Record<string, unknown>,
  ): Promise<{ key: string; created: boolean }> {
    if (recheck) {
      const found = await findByLabel(label);
      if (found) return { key: found, created: false };
    }
    try {
      const issue = await api.createIssue({
        fields,
        properties: [{ key: PROPERTY_KEY, value: memo }],
      });
      return { key: issue.key, created: true };
    } catch (err) {
      if (!outcomeUnknown(err)) throw err;
      const found = await findByLabel(label).catch((lookup: unknown) => {
        log.warn({ err: String(lookup) }, 'looking up an issue after an unknown create failed');
        return undefined;
      });
      if (found) return { key: found, created: false };
      throw err;
    }
  }

  const hasMarker = (key: string, marker: string) =>
    api.findComment(key, (body) => plainText(body).includes(marker));

  /** Adds a comment once per write key: looked for first on a recheck or an unknown outcome. */
  async function commentOnce(key: string, text: string, writeKey: string, recheck: boolean) {
    const marker = commentMarker(writeKey);
    if (recheck && (await hasMarker(key, marker))) return;
    try {
      await api.addComment(key, commentBody(text, marker));
    } catch (err) {
      if (outcomeUnknown(err) && (await hasMarker(key, marker))) return;
      throw err;
    }
  }

  /** Posts a transition; after an unknown outcome the issue's status says whether it happened. */
  async function transitionOnce(issue: JiraIssue, transitionId: string, target: string) {
    try {
      await api.transition(issue.key, transitionId);
    } catch (err) {
      if (outcomeUnknown(err) && (await api.issue(issue.key)).fields.status.name === target) return;
      throw err;
    }
    log.info(
      { key: issue.key, from: issue.fields.status.name, to: target },
      'jira issue transitioned',
    );
  }

  function noTransition(issue: JiraIssue, name: string, variable: string): ItsmError {
    const skip = variable === 'JIRA_TRANSITION_DONE' ? '' : ', or "none" to skip that move';
    return new ItsmError(
      'INVALID_TRANSITION',
      `Jira issue ${issue.key} (status "${issue.fields.status.name}") offers no transition named "${name}" (${variable}); it offers ${offeredNames(issue)}. Set ${variable} to one of them${skip}.`,
    );
  }

  const guard =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await fn(...args);
      } catch (err) {
        throw toItsmError(err);
      }
    };

  return {
    kind: 'jira',

    open: guard(async (draft, opts) => {
      const label = correlationLabel(opts.key);
      const { key, created } = await createOnce(
        label,
        opts.recheck,
        {
          project: { key: projectOf(draft.routing) },
          issuetype: { name: settings.issueType },
          summary: draft.title.slice(0, 255),
          description: changeDescription(draft),
          labels: labelsOf(draft.routing, [
            label,
            ...(draft.emergency ? ['patchops-emergency'] : []),
          ]),
        },
        { key: opts.key, rolloutId: draft.rolloutId, clientId: draft.clientId, kind: 'change' },
      );
      log.info(
        { key, rolloutId: draft.rolloutId, created },
        created ? 'jira change opened' : 'jira change found',
      );
      return ref(key);
    }),

    comment: guard(async (ticket, text, opts) => {
      await commentOnce(ticket.externalId, text, opts.key, opts.recheck);
    }),

    advance: guard(async (ticket, stage, note, opts) => {
      const name = settings.transitions[stage];
      if (!name) {
        await commentOnce(ticket.externalId, `${note}\n\nStage: ${stage}.`, opts.key, opts.recheck);
        return;
      }
      const issue = await api.issue(ticket.externalId);
      if (reached(issue, stage, name)) return;
      const t = offered(issue, name);
      if (!t) throw noTransition(issue, name, STAGE_VARIABLE[stage]);
      await commentOnce(issue.key, note, opts.key, opts.recheck);
      const memo = memoOf(issue);
      // Written before the move so a retry knows which status this stage leads to.
      await api.setProperty(issue.key, { ...memo, stages: { ...memo.stages, [stage]: t.to.name } });
      await transitionOnce(issue, t.id, t.to.name);
    }),

    openIncident: guard(async (change, draft, opts) => {
      const label = correlationLabel(opts.key);
      const { key, created } = await createOnce(
        label,
        opts.recheck,
        {
          project: { key: projectOf(draft.routing) },
          issuetype: { name: settings.incidentIssueType },
          summary: draft.title.slice(0, 255),
          description: incidentDescription(draft, change.number),
          labels: labelsOf(draft.routing, [label, 'patchops-incident']),
        },
        {
          key: opts.key,
          rolloutId: draft.rolloutId,
          clientId: draft.clientId,
          kind: 'incident',
          change: change.externalId,
        },
      );
      // A found incident may have been created by an attempt that died before linking.
      const linked =
        !created &&
        (await api.issue(key)).fields.issuelinks?.some(
          (l) =>
            l.inwardIssue?.key === change.externalId || l.outwardIssue?.key === change.externalId,
        );
      if (!linked) await api.link(settings.incidentLinkType, key, change.externalId);
      log.warn({ key, change: change.externalId, created }, 'jira incident opened');
      return ref(key);
    }),

    close: guard(async (ticket, closure, opts) => {
      const issue = await api.issue(ticket.externalId);
      if (isDone(issue)) return;
      const cancelled = closure.code === 'cancelled' && settings.transitions.cancelled !== null;
      const name = cancelled ? settings.transitions.cancelled! : settings.transitions.done;
      const t = offered(issue, name);
      if (!t)
        throw noTransition(
          issue,
          name,
          cancelled ? 'JIRA_TRANSITION_CANCELLED' : 'JIRA_TRANSITION_DONE',
        );
      await commentOnce(
        issue.key,
        `Closed: ${closure.code.replace(/_/g, ' ')}.\n\n${closure.notes}`,
        opts.key,
        opts.recheck,
      );
      await api.addLabels(issue.key, [closeLabel(closure.code)]);
      await transitionOnce(issue, t.id, t.to.name);
    }),

    testConnection: () => testJiraConnection(api, settings, http.redact),
  };
}
