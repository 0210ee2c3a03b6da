-- Up Migration

CREATE TABLE clients (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sites (
  id          text PRIMARY KEY,
  client_id   text NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  name        text NOT NULL,
  timezone    text NOT NULL DEFAULT 'UTC',
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sites_client_idx ON sites (client_id);

CREATE TABLE devices (
  id                text PRIMARY KEY,
  client_id         text NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  site_id           text NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
  hostname          text NOT NULL,
  os_family         text NOT NULL CHECK (os_family IN ('windows', 'macos', 'linux')),
  os_version        text NOT NULL,
  tags              text[] NOT NULL DEFAULT '{}',
  criticality       text NOT NULL DEFAULT 'medium' CHECK (criticality IN ('low', 'medium', 'high', 'critical')),
  internet_exposed  boolean NOT NULL DEFAULT false,
  timezone          text,
  online            boolean NOT NULL DEFAULT true,
  rmm_kind          text NOT NULL,
  rmm_ref           text NOT NULL,
  last_seen_at      timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (rmm_kind, rmm_ref)
);
CREATE INDEX devices_client_idx ON devices (client_id, id);
CREATE INDEX devices_site_idx ON devices (site_id);

CREATE TABLE patches (
  id               text PRIMARY KEY,
  vendor_ref       text NOT NULL,
  title            text NOT NULL,
  product          text NOT NULL,
  kind             text NOT NULL CHECK (kind IN ('os', 'application', 'driver', 'firmware')),
  category         text NOT NULL,
  vendor_severity  text NOT NULL CHECK (vendor_severity IN ('none', 'low', 'moderate', 'important', 'critical')),
  cvss             numeric(3, 1),
  epss             numeric(6, 5),
  kev              boolean NOT NULL DEFAULT false,
  cve_ids          text[] NOT NULL DEFAULT '{}',
  release_date     date,
  reboot_required  boolean NOT NULL DEFAULT false,
  uninstallable    boolean NOT NULL DEFAULT false,
  created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE rollouts (
  id           text PRIMARY KEY,
  client_id    text NOT NULL REFERENCES clients(id),
  status       text NOT NULL CHECK (status IN ('planning', 'awaiting_approval', 'deploying', 'paused',
                                                'verifying', 'completed', 'rejected', 'halted', 'cancelled', 'failed')),
  policy       jsonb NOT NULL DEFAULT '{}'::jsonb,
  started_by   text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rollouts_client_idx ON rollouts (client_id, created_at DESC);

CREATE TABLE device_patches (
  device_id         text NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  patch_id          text NOT NULL REFERENCES patches(id),
  state             text NOT NULL CHECK (state IN ('missing', 'approved', 'scheduled', 'installing', 'installed',
                                                   'failed', 'rolled_back', 'excluded', 'pending_reboot')),
  rollout_id        text REFERENCES rollouts(id),
  detected_at       timestamptz NOT NULL DEFAULT now(),
  state_changed_at  timestamptz NOT NULL DEFAULT now(),
  installed_at      timestamptz,
  due_at            timestamptz,
  last_error        text,
  PRIMARY KEY (device_id, patch_id)
);
CREATE INDEX device_patches_state_idx ON device_patches (state);
CREATE INDEX device_patches_rollout_idx ON device_patches (rollout_id);

CREATE TABLE approvals (
  id               bigserial PRIMARY KEY,
  rollout_id       text NOT NULL REFERENCES rollouts(id),
  decision         text NOT NULL CHECK (decision IN ('approve', 'reject', 'defer', 'promote')),
  decided_by       text NOT NULL,
  decided_via      text NOT NULL CHECK (decided_via IN ('cli', 'slack', 'teams', 'policy', 'timeout')),
  reason           text,
  defer_until      timestamptz,
  decided_at       timestamptz NOT NULL DEFAULT now(),
  idempotency_key  text NOT NULL UNIQUE
);
CREATE INDEX approvals_rollout_idx ON approvals (rollout_id);

CREATE TABLE tickets (
  id               bigserial PRIMARY KEY,
  rollout_id       text NOT NULL REFERENCES rollouts(id),
  itsm_kind        text NOT NULL,
  external_id      text NOT NULL,
  url              text,
  status           text NOT NULL,
  idempotency_key  text NOT NULL UNIQUE,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (itsm_kind, external_id)
);

CREATE TABLE chat_messages (
  id               bigserial PRIMARY KEY,
  platform         text NOT NULL CHECK (platform IN ('slack', 'teams', 'cli')),
  conversation     text NOT NULL,
  message_ref      text NOT NULL,
  rollout_id       text REFERENCES rollouts(id),
  purpose          text NOT NULL,
  idempotency_key  text NOT NULL UNIQUE,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chat_messages_rollout_idx ON chat_messages (rollout_id);

-- The audit trail. Append-only by construction: the triggers below refuse UPDATE, DELETE
-- and TRUNCATE for every role, so history cannot be rewritten by application bugs.
CREATE TABLE audit_events (
  id               bigserial PRIMARY KEY,
  occurred_at      timestamptz NOT NULL DEFAULT now(),
  actor            text NOT NULL,
  action           text NOT NULL,
  subject_type     text NOT NULL,
  subject_id       text NOT NULL,
  client_id        text,
  rollout_id       text,
  data             jsonb NOT NULL DEFAULT '{}'::jsonb,
  idempotency_key  text NOT NULL UNIQUE
);
CREATE INDEX audit_events_subject_idx ON audit_events (subject_type, subject_id, occurred_at);
CREATE INDEX audit_events_rollout_idx ON audit_events (rollout_id, occurred_at);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_events_no_update_delete
  BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

CREATE TRIGGER audit_events_no_truncate
  BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- Down Migration

DROP TABLE audit_events;
DROP FUNCTION audit_events_append_only();
DROP TABLE chat_messages;
DROP TABLE tickets;
DROP TABLE approvals;
DROP TABLE device_patches;
DROP TABLE rollouts;
DROP TABLE patches;
DROP TABLE devices;
DROP TABLE sites;
DROP TABLE clients;
