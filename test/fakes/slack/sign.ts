/**
 * Signs requests the way Slack does ("Verifying requests from Slack",
 * https://api.slack.com/docs/verifying-requests-from-slack): the signature is
 * `v0=` + hex(HMAC-SHA256(signing secret, `v0:${timestamp}:${raw body}`)), sent with the
 * timestamp in `X-Slack-Request-Timestamp` (seconds). Bolt rejects timestamps more than
 * five minutes old.
 */
import { createHmac } from 'node:crypto';
import type { SlackPayload } from './payloads.js';

export interface SlackSignatureHeaders {
  'x-slack-signature': string;
  'x-slack-request-timestamp': string;
}

export function signSlackRequest(
  secret: string,
  rawBody: string,
  timestamp: number = Math.floor(Date.now() / 1000),
): SlackSignatureHeaders {
  const digest = createHmac('sha256', secret).update(`v0:${timestamp}:${rawBody}`).digest('hex');
  return { 'x-slack-signature': `v0=${digest}`, 'x-slack-request-timestamp': String(timestamp) };
}

export interface PostToBoltOptions {
  /** Sent as X-Slack-Retry-Num, as Slack does when it redelivers an event. */
  retryNum?: number;
  /** Sent as X-Slack-Retry-Reason, e.g. 'http_timeout'. */
  retryReason?: string;
  /** Request timestamp in seconds (default now); an old one tests replay protection. */
  timestamp?: number;
  /** Replaces the computed X-Slack-Signature, to test rejection. */
  signature?: string;
}

export interface BoltResponse {
  status: number;
  headers: Headers;
  /** The raw response body (Bolt acks with '' or a JSON/text body). */
  body: string;
  /** The body parsed when the response is JSON, else undefined. */
  json: unknown;
}

/**
 * POSTs a payload to a Bolt HTTP receiver (e.g. `http://127.0.0.1:PORT/slack/events`)
 * signed with `secret`, exactly as Slack would deliver it.
 */
export async function postToBolt(
  url: string,
  secret: string,
  payload: SlackPayload,
  opts: PostToBoltOptions = {},
): Promise<BoltResponse> {
  const signed = signSlackRequest(secret, payload.body, opts.timestamp);
  const headers: Record<string, string> = {
    'content-type': payload.contentType,
    'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    ...signed,
  };
  if (opts.signature !== undefined) headers['x-slack-signature'] = opts.signature;
  if (opts.retryNum !== undefined) headers['x-slack-retry-num'] = String(opts.retryNum);
  if (opts.retryReason !== undefined) headers['x-slack-retry-reason'] = opts.retryReason;
  const res = await fetch(url, { method: 'POST', headers, body: payload.body });
  const body = await res.text();
  let json: unknown;
  if ((res.headers.get('content-type') ?? '').includes('application/json') && body !== '') {
    json = JSON.parse(body);
  }
  return { status: res.status, headers: res.headers, body, json };
}
