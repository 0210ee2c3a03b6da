-- Up Migration

-- Risk per device × patch, written by planning: the tier (a CISA BOD 26-04 remediation
-- timeline) of the patch on that device and its SLA due date (device_patches.due_at, which
-- already exists). Per device, so two clients sharing a patch id keep their own tiers.
ALTER TABLE device_patches ADD COLUMN risk_tier text
  CHECK (risk_tier IN ('forensic', 'act', 'attend', 'track', 'upgrade'));

-- A rollout's patches in deployment order (most urgent tier, FTC group, tie-breaker) and the
-- raw inputs of the deciding device × CVE, which the card's details show.
ALTER TABLE rollout_patches ADD COLUMN rank integer;
ALTER TABLE rollout_patches ADD COLUMN risk jsonb;

-- Tiers were low … emergency; they are BOD 26-04 timelines now.
UPDATE rollout_patches SET risk_tier = CASE risk_tier
  WHEN 'emergency' THEN 'forensic' WHEN 'critical' THEN 'act' WHEN 'high' THEN 'attend'
  WHEN 'medium' THEN 'track' WHEN 'low' THEN 'upgrade' ELSE risk_tier END;

-- Down Migration

UPDATE rollout_patches SET risk_tier = CASE risk_tier
  WHEN 'forensic' THEN 'emergency' WHEN 'act' THEN 'critical' WHEN 'attend' THEN 'high'
  WHEN 'track' THEN 'medium' WHEN 'upgrade' THEN 'low' ELSE risk_tier END;
ALTER TABLE rollout_patches DROP COLUMN risk;
ALTER TABLE rollout_patches DROP COLUMN rank;
ALTER TABLE device_patches DROP COLUMN risk_tier;
