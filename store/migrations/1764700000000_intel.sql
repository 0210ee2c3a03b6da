-- Up Migration

-- Vulnerability intelligence, one table per source, each replaced (KEV, EPSS, Debian) or
-- merged (NVD) atomically by `patchops intel refresh` and the daily intelRefresh schedule.

-- Per source: the last successful refresh (where from, when, how many records) and the
-- last failure, for doctor.
CREATE TABLE intel_sources (
  source         text PRIMARY KEY CHECK (source IN ('kev', 'epss', 'nvd', 'debian')),
  source_url     text,
  fetched_at     timestamptz,
  record_count   integer NOT NULL DEFAULT 0,
  -- KEV catalogVersion, EPSS model version and score date, NVD sync window end.
  version        text,
  window_end     timestamptz,
  last_error     text,
  last_error_at  timestamptz
);

-- One row per refresh that stored something, keyed by its caller (workflow id + source),
-- so a retried activity returns what the first attempt found instead of finding nothing.
CREATE TABLE intel_refreshes (
  refresh_key   text PRIMARY KEY,
  source        text NOT NULL,
  fetched_at    timestamptz NOT NULL DEFAULT now(),
  record_count  integer NOT NULL,
  -- KEV: CVEs this refresh added to the catalog (the emergency path starts from these).
  added         text[] NOT NULL DEFAULT '{}'
);

CREATE TABLE intel_kev (
  cve_id              text PRIMARY KEY,
  vendor_project      text NOT NULL,
  product             text NOT NULL,
  vulnerability_name  text NOT NULL,
  date_added          date NOT NULL,
  short_description   text NOT NULL,
  required_action     text NOT NULL,
  due_date            date NOT NULL,
  known_ransomware    text NOT NULL,
  notes               text NOT NULL,
  cwes                text[] NOT NULL DEFAULT '{}',
  forensic_triage     text,
  -- When patchops first saw the CVE in the catalog.
  first_seen_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE intel_epss (
  cve_id      text PRIMARY KEY,
  epss        double precision NOT NULL,
  percentile  double precision NOT NULL,
  score_date  date NOT NULL
);

CREATE TABLE intel_nvd (
  cve_id         text PRIMARY KEY,
  last_modified  text NOT NULL,
  vuln_status    text,
  -- The chosen metric (v4.0 > v3.1 > v3.0, Primary > Secondary); null when NVD has none.
  cvss_version   text,
  base_score     numeric(3, 1),
  vector_string  text,
  metric_type    text,
  metric_source  text,
  metrics        jsonb NOT NULL DEFAULT '[]'
);

CREATE TABLE intel_debian (
  cve_id         text NOT NULL,
  package        text NOT NULL,
  release        text NOT NULL,
  status         text NOT NULL,
  fixed_version  text,
  urgency        text,
  PRIMARY KEY (cve_id, package, release)
);

-- Down Migration

DROP TABLE intel_debian;
DROP TABLE intel_nvd;
DROP TABLE intel_epss;
DROP TABLE intel_kev;
DROP TABLE intel_refreshes;
DROP TABLE intel_sources;
