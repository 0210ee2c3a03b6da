-- Up Migration

-- A rollout's plan lives here, not in workflow payloads: the workflow passes the rollout
-- id and page cursors, activities read pages of devices.
ALTER TABLE rollouts ADD COLUMN summary jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE rollouts ADD COLUMN finished_at timestamptz;

CREATE TABLE rollout_patches (
  rollout_id  text NOT NULL REFERENCES rollouts(id) ON DELETE CASCADE,
  patch_id    text NOT NULL REFERENCES patches(id),
  decision    text NOT NULL CHECK (decision IN ('auto', 'needs_approval', 'reject', 'defer')),
  reason      text NOT NULL,
  risk_tier   text NOT NULL,
  due_at      timestamptz,
  PRIMARY KEY (rollout_id, patch_id)
);

CREATE TABLE rollout_devices (
  rollout_id  text NOT NULL REFERENCES rollouts(id) ON DELETE CASCADE,
  device_id   text NOT NULL REFERENCES devices(id),
  ring_index  integer NOT NULL,
  ring        text NOT NULL,
  patch_ids   text[] NOT NULL,
  status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'waiting_window', 'offline', 'deploying',
                                                             'rebooting', 'succeeded', 'failed', 'skipped', 'cancelled')),
  outcome     jsonb NOT NULL DEFAULT '{}'::jsonb,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (rollout_id, device_id)
);
CREATE INDEX rollout_devices_ring_idx ON rollout_devices (rollout_id, ring_index, device_id);

-- Down Migration

DROP TABLE rollout_devices;
DROP TABLE rollout_patches;
ALTER TABLE rollouts DROP COLUMN finished_at;
ALTER TABLE rollouts DROP COLUMN summary;
