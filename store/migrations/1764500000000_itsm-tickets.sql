-- Up Migration

-- Tickets follow the whole rollout: the change and any incident it raised, what people
-- call each (CHG0030001, OPS-12), and how far the change has come.
ALTER TABLE tickets ADD COLUMN role text NOT NULL DEFAULT 'change' CHECK (role IN ('change', 'incident'));
ALTER TABLE tickets ADD COLUMN number text;
ALTER TABLE tickets ADD COLUMN stage text;
CREATE INDEX tickets_rollout_idx ON tickets (rollout_id);

-- Each note, state move, incident or close made on a ticket, once: claimed before the ITSM
-- is called and completed after. A claim without `done_at` means an earlier attempt may
-- have reached the ITSM, so the adapter looks before writing again.
CREATE TABLE ticket_updates (
  idempotency_key  text PRIMARY KEY,
  rollout_id       text NOT NULL REFERENCES rollouts(id),
  what             text NOT NULL,
  claimed_at       timestamptz NOT NULL DEFAULT now(),
  attempts         integer NOT NULL DEFAULT 1,
  done_at          timestamptz
);
CREATE INDEX ticket_updates_rollout_idx ON ticket_updates (rollout_id);

-- Down Migration

DROP TABLE ticket_updates;
DROP INDEX tickets_rollout_idx;
ALTER TABLE tickets DROP COLUMN stage;
ALTER TABLE tickets DROP COLUMN number;
ALTER TABLE tickets DROP COLUMN role;
