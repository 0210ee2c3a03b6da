-- Up Migration

-- One row per client × site × day (site_id '' is the whole client): what the compliance
-- report and its chart read. Taken daily by the compliance schedule; a re-run the same day
-- replaces that day's row.
CREATE TABLE compliance_snapshots (
  client_id             text NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  site_id               text NOT NULL,
  day                   date NOT NULL,
  taken_at              timestamptz NOT NULL,
  managed_devices       integer NOT NULL,
  compliant_devices     integer NOT NULL,
  compliance_rate       double precision,
  mean_hours_to_patch   double precision,
  mean_open_age_days    double precision,
  applicable_pairs      integer NOT NULL,
  open_vulnerabilities  integer NOT NULL,
  open_kev              integer NOT NULL,
  failed_patches        integer NOT NULL,
  kev_within_sla        double precision,
  critical_within_sla   double precision,
  sla_breaches          integer NOT NULL,
  reboots_pending       integer NOT NULL,
  PRIMARY KEY (client_id, site_id, day)
);

-- Alerts raised by the compliance check, once per device × patch × occurrence: the due date
-- of an SLA, the moment a patch failed, the last time a scan saw the device. Re-running the
-- check inserts nothing new; `notified_at` is set once the alert went out.
CREATE TABLE compliance_alerts (
  id           bigserial PRIMARY KEY,
  kind         text NOT NULL CHECK (kind IN ('sla_due', 'patch_failed', 'not_seen')),
  client_id    text NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  device_id    text NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  patch_id     text NOT NULL DEFAULT '',
  occurrence   timestamptz NOT NULL,
  rollout_id   text,
  detail       text NOT NULL,
  raised_at    timestamptz NOT NULL DEFAULT now(),
  notified_at  timestamptz,
  UNIQUE (kind, device_id, patch_id, occurrence)
);
CREATE INDEX compliance_alerts_unsent_idx ON compliance_alerts (client_id, id) WHERE notified_at IS NULL;

-- The KPIs look up a device × patch pair's tier and due date by patch.
CREATE INDEX rollout_patches_patch_idx ON rollout_patches (patch_id);

-- Down Migration

DROP INDEX rollout_patches_patch_idx;
DROP TABLE compliance_alerts;
DROP TABLE compliance_snapshots;
