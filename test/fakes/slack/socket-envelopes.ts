/**
 * Socket Mode's wire vocabulary (https://docs.slack.dev/apis/events-api/using-socket-mode):
 * the envelope Slack wraps every event, command and interaction in, and how a payload built
 * for the HTTP receiver (payloads.ts) becomes one — over a socket the payload is the JSON
 * object, not a form body.
 */
import type WebSocket from 'ws';
import type { SlackPayload } from './payloads.js';

export type EnvelopeType = 'events_api' | 'interactive' | 'slash_commands';

/** What Slack sends over the socket for each event, command or interaction. */
export interface SocketEnvelope {
  envelope_id: string;
  type: EnvelopeType;
  payload: Record<string, unknown>;
  accepts_response_payload: boolean;
  retry_attempt: number;
  retry_reason: string;
}

/** A received frame as text (ws 7 hands text frames over as strings, binary ones as Buffers). */
export function frameText(data: WebSocket.Data): string {
  if (typeof data === 'string') return data;
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}

/** The envelope type and JSON payload of a request built for the HTTP receiver. */
export function envelopeOf(p: SlackPayload): {
  type: EnvelopeType;
  payload: Record<string, unknown>;
} {
  if (p.contentType === 'application/json') {
    const payload = JSON.parse(p.body) as Record<string, unknown>;
    if (payload.type !== 'event_callback')
      throw new Error(`${String(payload.type)} is not delivered over Socket Mode`);
    return { type: 'events_api', payload };
  }
  const form = new URLSearchParams(p.body);
  const interaction = form.get('payload');
  if (interaction !== null)
    return { type: 'interactive', payload: JSON.parse(interaction) as Record<string, unknown> };
  return { type: 'slash_commands', payload: Object.fromEntries(form) };
}
