-- Up Migration

-- Where a chat front door may post without being spoken to first. Teams needs the
-- conversation reference the bot received at installation (conversationUpdate);
-- Slack channels are configured, but are recorded here too so App Home and doctor can list them.
CREATE TABLE chat_conversations (
  platform           text NOT NULL CHECK (platform IN ('slack', 'teams')),
  conversation_id    text NOT NULL,
  tenant_id          text,
  conversation_type  text NOT NULL,
  reference          jsonb NOT NULL,
  installed_by       text,
  installed_at       timestamptz NOT NULL DEFAULT now(),
  removed_at         timestamptz,
  PRIMARY KEY (platform, conversation_id)
);

-- A message is claimed before it is posted and completed after: a retried activity that
-- finds a claim without a reference knows a post may have happened and looks for it
-- (Slack: by message metadata) instead of posting blindly.
ALTER TABLE chat_messages ALTER COLUMN message_ref DROP NOT NULL;
ALTER TABLE chat_messages ADD COLUMN thread_ref text;

-- The workflow's phase (finer than status: soaking, awaiting_promotion …) and pause flag,
-- so a card rebuilt by any process shows where the rollout is.
ALTER TABLE rollouts ADD COLUMN phase text;
ALTER TABLE rollouts ADD COLUMN paused boolean NOT NULL DEFAULT false;

-- Down Migration
ALTER TABLE rollouts DROP COLUMN paused;
ALTER TABLE rollouts DROP COLUMN phase;
ALTER TABLE chat_messages DROP COLUMN thread_ref;
DELETE FROM chat_messages WHERE message_ref IS NULL;
ALTER TABLE chat_messages ALTER COLUMN message_ref SET NOT NULL;
DROP TABLE chat_conversations;
