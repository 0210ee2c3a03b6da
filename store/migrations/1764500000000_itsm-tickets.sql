-- Up Migration

-- Tickets follow the whole rollout: the change and any incident it raised, what people
-- call each (CHG0030001, OPS-12), and how far the change has come.
ALTER TABLE tickets ADD COLUMN role text NOT NULL DEFAULT 'change' CHECK (role IN ('change', 'incident'));
ALTER TABLE tickets ADD COLUMN number text;
ALTER TABLE tickets ADD COLUMN stage text;
CREATE INDEX tickets_rollout_idx ON tickets (rollout_id);

-- Each write patchops makes in another system (a ticket's note, state move, incident or
-- close; an RMM deploy or uninstall), once: claimed before the call and completed after,
-- with what it returned (a job id). A claim without `done_at` means an earlier attempt
-- may have reached the other system, so the adapter looks there before writing again.
CREATE TABLE external_writes (
  idempotency_key  text PRIMARY KEY,
  rollout_id       text,
  what             text NOT NULL,
  claimed_at       timestamptz NOT NULL DEFAULT now(),
  attempts         integer NOT NULL DEFAULT 1,
  result           text,
  done_at          timestamptz
);
CREATE INDEX external_writes_rollout_idx ON external_writes (rollout_id);

-- Down Migration

DROP TABLE external_writes;
DROP INDEX tickets_rollout_idx;
ALTER TABLE tickets DROP COLUMN stage;
ALTER TABLE tickets DROP COLUMN number;
ALTER TABLE tickets DROP COLUMN role;
