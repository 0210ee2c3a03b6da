-- Up Migration

-- Teams users patchops has seen, keyed the way policy names approvers (tenant + Entra ID
-- object id). An Adaptive Card's refresh.userIds takes Teams user ids (MRIs, `29:…`), which
-- the bot learns from activities and conversation members or asks the Bot Connector for.
CREATE TABLE chat_users (
  platform       text NOT NULL CHECK (platform IN ('slack', 'teams')),
  tenant_id      text NOT NULL,
  aad_object_id  text NOT NULL,
  user_ref       text NOT NULL,
  name           text,
  seen_at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (platform, tenant_id, aad_object_id)
);

-- The team a Teams channel belongs to: the Connector answers member questions for the team.
ALTER TABLE chat_conversations ADD COLUMN team_id text;

-- Down Migration
ALTER TABLE chat_conversations DROP COLUMN team_id;
DROP TABLE chat_users;
