-- Up Migration

-- The batched rollout engine: which batch of its ring a device was handed to (in device id
-- order), and where the device stands inside that batch (step, offline attempts, job ids,
-- reboot prompts and deadline, when it is next due), so a batch activity retried on
-- another worker resumes each device where the last attempt left it.
ALTER TABLE rollout_devices ADD COLUMN batch integer;
ALTER TABLE rollout_devices ADD COLUMN progress jsonb NOT NULL DEFAULT '{}'::jsonb;
CREATE INDEX rollout_devices_batch_idx ON rollout_devices (rollout_id, batch) WHERE batch IS NOT NULL;

-- Down Migration

DROP INDEX rollout_devices_batch_idx;
ALTER TABLE rollout_devices DROP COLUMN progress;
ALTER TABLE rollout_devices DROP COLUMN batch;
