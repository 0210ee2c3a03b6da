-- Up Migration

-- A hash chain over the audit trail, one chain per client (rows without a client form
-- their own chain). The database computes every link, so the app can neither forge a hash
-- nor leave one out, and `patchops audit verify` finds any row edited, deleted or moved
-- afterwards, even by a role that owns the table and disables its triggers.
--
-- hash(row) = SHA-256 of these frames, in this order:
--   'patchops.audit.v1', the previous row's hash (32 bytes; NULL for a chain's first row),
--   chain_seq, id, occurred_at, actor, action, subject_type, subject_id, client_id,
--   rollout_id, data, idempotency_key
-- A frame is a 4-byte big-endian length followed by that many bytes (UTF-8 for text);
-- NULL is the length 0xFFFFFFFF and no bytes. Numbers are decimal text; occurred_at is
-- UTC 'YYYY-MM-DDTHH:MM:SS.ffffffZ'; data is jsonb's own text output. Lengths make the
-- encoding unambiguous: no choice of field values can produce another row's bytes.

ALTER TABLE audit_events
  ADD COLUMN chain text GENERATED ALWAYS AS (CASE WHEN client_id IS NULL THEN 'none' ELSE 'client:' || client_id END) STORED,
  ADD COLUMN chain_seq bigint,
  ADD COLUMN hash bytea;

-- Where each chain ends, so deleting its last rows shows too. Written only by the trigger
-- below (SECURITY DEFINER); the app may read it.
CREATE TABLE audit_chain_heads (
  chain       text PRIMARY KEY,
  chain_seq   bigint NOT NULL,
  hash        bytea NOT NULL,
  event_id    bigint NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION audit_frame(b bytea) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN b IS NULL THEN '\xffffffff'::bytea ELSE int4send(length(b)) || b END
$$;

CREATE FUNCTION audit_frame(t text) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
  SELECT audit_frame(convert_to(t, 'UTF8'))
$$;

-- plpgsql, not sql: its expression plan is cached per session (a non-inlined SQL function
-- is planned again on every call, which tripled the cost of an insert).
CREATE FUNCTION audit_event_hash(prev bytea, seq bigint, e audit_events) RETURNS bytea
LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN sha256(
    audit_frame('patchops.audit.v1'::text) ||
    audit_frame(prev) ||
    audit_frame(seq::text) ||
    audit_frame(e.id::text) ||
    audit_frame(to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')) ||
    audit_frame(e.actor) ||
    audit_frame(e.action) ||
    audit_frame(e.subject_type) ||
    audit_frame(e.subject_id) ||
    audit_frame(e.client_id) ||
    audit_frame(e.rollout_id) ||
    audit_frame(e.data::text) ||
    audit_frame(e.idempotency_key)
  );
END;
$$;

-- Backfill: existing rows, in id order, become the start of their client's chain.
ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete;
DO $$
DECLARE
  r audit_events;
  head audit_chain_heads;
  seq bigint;
  h bytea;
BEGIN
  FOR r IN SELECT * FROM audit_events ORDER BY id LOOP
    SELECT * INTO head FROM audit_chain_heads WHERE chain = r.chain;
    seq := coalesce(head.chain_seq, 0) + 1;
    h := audit_event_hash(head.hash, seq, r);
    UPDATE audit_events SET chain_seq = seq, hash = h WHERE id = r.id;
    INSERT INTO audit_chain_heads (chain, chain_seq, hash, event_id)
      VALUES (r.chain, seq, h, r.id)
      ON CONFLICT (chain) DO UPDATE
        SET chain_seq = EXCLUDED.chain_seq, hash = EXCLUDED.hash, event_id = EXCLUDED.event_id;
  END LOOP;
END;
$$;
ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete;

ALTER TABLE audit_events ALTER COLUMN chain_seq SET NOT NULL, ALTER COLUMN hash SET NOT NULL;
-- One row per position: a second writer that somehow missed the lock fails instead of forking the chain.
CREATE UNIQUE INDEX audit_events_chain_idx ON audit_events (chain, chain_seq);

-- Links a new row to the end of its chain. The per-chain advisory lock serialises writers
-- of one client until they commit, and the row's id is drawn only after the lock, so a
-- chain's ids rise with its positions (verify walks by id and sees a moved row as such).
-- Whatever the inserting statement says about id, chain_seq or hash is overwritten.
CREATE FUNCTION audit_events_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  last_seq bigint;
  last_hash bytea;
BEGIN
  PERFORM pg_advisory_xact_lock(1764600000, hashtext(coalesce(NEW.client_id, '')));
  NEW.id := nextval('audit_events_id_seq');
  IF NEW.client_id IS NULL THEN
    SELECT chain_seq, hash INTO last_seq, last_hash FROM audit_events
      WHERE chain = 'none' ORDER BY chain_seq DESC LIMIT 1;
  ELSE
    SELECT chain_seq, hash INTO last_seq, last_hash FROM audit_events
      WHERE chain = 'client:' || NEW.client_id ORDER BY chain_seq DESC LIMIT 1;
  END IF;
  NEW.chain_seq := coalesce(last_seq, 0) + 1;
  NEW.hash := audit_event_hash(last_hash, NEW.chain_seq, NEW);
  RETURN NEW;
END;
$$;

-- Once per statement, over the rows really inserted (the transition table holds no
-- ON CONFLICT DO NOTHING skips): each chain's head moves to its newest row.
CREATE FUNCTION audit_events_advance_head() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
  INSERT INTO audit_chain_heads (chain, chain_seq, hash, event_id)
    SELECT DISTINCT ON (chain) chain, chain_seq, hash, id FROM inserted ORDER BY chain, chain_seq DESC
    ON CONFLICT (chain) DO UPDATE
      SET chain_seq = EXCLUDED.chain_seq, hash = EXCLUDED.hash, event_id = EXCLUDED.event_id,
          updated_at = now();
  RETURN NULL;
END;
$$;

-- A fixed search_path with pg_temp last: the app must not be able to shadow these tables
-- with temporary ones of its own (the classic SECURITY DEFINER hole).
DO $$
BEGIN
  EXECUTE format('ALTER FUNCTION audit_events_link() SET search_path = %I, pg_temp', current_schema());
  EXECUTE format('ALTER FUNCTION audit_events_advance_head() SET search_path = %I, pg_temp', current_schema());
END;
$$;
REVOKE EXECUTE ON FUNCTION audit_events_advance_head() FROM PUBLIC;

CREATE TRIGGER audit_events_link
  BEFORE INSERT ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_link();

CREATE TRIGGER audit_events_advance_head
  AFTER INSERT ON audit_events
  REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_advance_head();

-- Down Migration

DROP TRIGGER audit_events_advance_head ON audit_events;
DROP TRIGGER audit_events_link ON audit_events;
DROP FUNCTION audit_events_advance_head();
DROP FUNCTION audit_events_link();
DROP INDEX audit_events_chain_idx;
DROP FUNCTION audit_event_hash(bytea, bigint, audit_events);
DROP FUNCTION audit_frame(text);
DROP FUNCTION audit_frame(bytea);
DROP TABLE audit_chain_heads;
ALTER TABLE audit_events DROP COLUMN hash, DROP COLUMN chain_seq, DROP COLUMN chain;
