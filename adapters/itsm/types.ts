/** A change ticket as patchops keeps it current in the team's ITSM. */
export interface TicketDraft {
  /** Short title, e.g. "Patch rollout acme-2026-11-24: 14 patches on 96 devices". */
  title: string;
  body: string;
  clientId: string;
}

export interface ItsmAdapter {
  readonly kind: string;
  /** Opens a ticket; the same idempotency key returns the same ticket. */
  open(
    draft: TicketDraft,
    idempotencyKey: string,
  ): Promise<{ externalId: string; url: string | null }>;
  /** Adds a work note / comment. */
  comment(externalId: string, text: string, idempotencyKey: string): Promise<void>;
  /** Resolves the ticket with a closing note. */
  close(externalId: string, resolution: string, idempotencyKey: string): Promise<void>;
  testConnection(): Promise<{ ok: boolean; detail: string }>;
}
