-- Up Migration

-- Policy settings the cascade resolves per device (windows, reboot, rollback) when they
-- differ from the rollout's client-level settings; null when they do not.
ALTER TABLE rollout_devices ADD COLUMN settings jsonb;

-- Down Migration

ALTER TABLE rollout_devices DROP COLUMN settings;
