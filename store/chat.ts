import type { Pool } from './pool.js';

export type ChatPlatform = 'slack' | 'teams';

export interface ChatConversation {
  platform: ChatPlatform;
  conversationId: string;
  tenantId: string | null;
  conversationType: string;
  /** The platform's own reference (Teams: a ConversationReference), stored verbatim. */
  reference: Record<string, unknown>;
  /** Teams: the team a channel belongs to, when the bot has been told. */
  teamId?: string | null;
}

/** A chat user as the platform addresses them, keyed the way policy names approvers. */
export interface ChatUserRecord {
  platform: ChatPlatform;
  tenantId: string;
  /** Entra ID (AAD) object id: what Teams approvers are listed by. */
  aadObjectId: string;
  /** The platform's id of the user (Teams: the MRI, `29:…`). */
  userRef: string;
  name?: string | null | undefined;
}

export interface ChatMessageRef {
  platform: string;
  conversation: string;
  messageRef: string | null;
  purpose: string;
  key: string;
}

interface MessageRow {
  platform: string;
  conversation: string;
  message_ref: string | null;
  purpose: string;
  idempotency_key: string;
}
const toRef = (r: MessageRow): ChatMessageRef => ({
  platform: r.platform,
  conversation: r.conversation,
  messageRef: r.message_ref,
  purpose: r.purpose,
  key: r.idempotency_key,
});

interface ConversationRow {
  conversation_id: string;
  tenant_id: string | null;
  conversation_type: string;
  reference: Record<string, unknown>;
  team_id: string | null;
}
const toConversation = (platform: ChatPlatform, r: ConversationRow): ChatConversation => ({
  platform,
  conversationId: r.conversation_id,
  tenantId: r.tenant_id,
  conversationType: r.conversation_type,
  reference: r.reference,
  teamId: r.team_id,
});
const CONVERSATION_COLUMNS = 'conversation_id, tenant_id, conversation_type, reference, team_id';

/** Chat conversations the bot may post to, and the messages it posted (claimed, then completed). */
export class ChatRepository {
  constructor(private readonly pool: Pool) {}

  async saveConversation(c: ChatConversation & { installedBy?: string }): Promise<void> {
    await this.pool.query(
      `insert into chat_conversations (platform, conversation_id, tenant_id, conversation_type, reference, installed_by, team_id)
       values ($1, $2, $3, $4, $5, $6, $7)
       on conflict (platform, conversation_id) do update
         set reference = excluded.reference, tenant_id = excluded.tenant_id,
             conversation_type = excluded.conversation_type, removed_at = null,
             team_id = coalesce(excluded.team_id, chat_conversations.team_id)`,
      [
        c.platform,
        c.conversationId,
        c.tenantId,
        c.conversationType,
        JSON.stringify(c.reference),
        c.installedBy ?? null,
        c.teamId ?? null,
      ],
    );
  }

  async removeConversation(platform: ChatPlatform, conversationId: string): Promise<void> {
    await this.pool.query(
      `update chat_conversations set removed_at = now() where platform = $1 and conversation_id = $2`,
      [platform, conversationId],
    );
  }

  async conversations(platform: ChatPlatform): Promise<ChatConversation[]> {
    const res = await this.pool.query<ConversationRow>(
      `select ${CONVERSATION_COLUMNS} from chat_conversations
       where platform = $1 and removed_at is null order by installed_at`,
      [platform],
    );
    return res.rows.map((r) => toConversation(platform, r));
  }

  async conversation(
    platform: ChatPlatform,
    conversationId: string,
  ): Promise<ChatConversation | undefined> {
    const res = await this.pool.query<ConversationRow>(
      `select ${CONVERSATION_COLUMNS} from chat_conversations
       where platform = $1 and conversation_id = $2 and removed_at is null`,
      [platform, conversationId],
    );
    return res.rows[0] && toConversation(platform, res.rows[0]);
  }

  /**
   * Records how the platform addresses a user. Idempotent: the same user again only moves
   * seen_at; a name left out keeps the stored one.
   */
  async saveUser(u: ChatUserRecord): Promise<void> {
    await this.pool.query(
      `insert into chat_users (platform, tenant_id, aad_object_id, user_ref, name)
       values ($1, $2, $3, $4, $5)
       on conflict (platform, tenant_id, aad_object_id) do update
         set user_ref = excluded.user_ref, name = coalesce(excluded.name, chat_users.name),
             seen_at = now()`,
      [u.platform, u.tenantId, u.aadObjectId, u.userRef, u.name ?? null],
    );
  }

  /** The platform ids of those of these users it knows: AAD object id → user ref. */
  async userRefs(
    platform: ChatPlatform,
    tenantId: string,
    aadObjectIds: readonly string[],
  ): Promise<Map<string, string>> {
    if (!aadObjectIds.length) return new Map();
    const res = await this.pool.query<{ aad_object_id: string; user_ref: string }>(
      `select aad_object_id, user_ref from chat_users
       where platform = $1 and tenant_id = $2 and aad_object_id = any($3)`,
      [platform, tenantId, [...aadObjectIds]],
    );
    return new Map(res.rows.map((r) => [r.aad_object_id, r.user_ref]));
  }

  /**
   * Claims a message key before posting. Returns the existing row when the key was
   * claimed before (posted, or claimed by an attempt that may have posted).
   */
  async claimMessage(m: {
    platform: string;
    conversation: string;
    rolloutId: string;
    purpose: string;
    key: string;
    threadRef?: string | null;
  }): Promise<{ claimed: true } | { claimed: false; existing: ChatMessageRef }> {
    const res = await this.pool.query(
      `insert into chat_messages (platform, conversation, message_ref, rollout_id, purpose, idempotency_key, thread_ref)
       values ($1, $2, null, $3, $4, $5, $6) on conflict (idempotency_key) do nothing`,
      [m.platform, m.conversation, m.rolloutId, m.purpose, m.key, m.threadRef ?? null],
    );
    if ((res.rowCount ?? 0) > 0) return { claimed: true };
    const existing = await this.pool.query<MessageRow>(
      `select platform, conversation, message_ref, purpose, idempotency_key from chat_messages where idempotency_key = $1`,
      [m.key],
    );
    return { claimed: false, existing: toRef(existing.rows[0]!) };
  }

  async completeMessage(key: string, messageRef: string): Promise<void> {
    await this.pool.query(
      `update chat_messages set message_ref = $2, updated_at = now() where idempotency_key = $1`,
      [key, messageRef],
    );
  }

  /** Messages of a rollout with one of these purposes that were posted (have a reference). */
  async messages(
    rolloutId: string,
    purposes: string[],
    platform?: string,
  ): Promise<ChatMessageRef[]> {
    const res = await this.pool.query<MessageRow>(
      `select platform, conversation, message_ref, purpose, idempotency_key from chat_messages
       where rollout_id = $1 and purpose = any($2) and message_ref is not null
         and ($3::text is null or platform = $3) order by id`,
      [rolloutId, purposes, platform ?? null],
    );
    return res.rows.map(toRef);
  }

  /** The rollout a posted message belongs to (a click names the message it came from). */
  async messageByRef(platform: string, conversation: string, messageRef: string) {
    const res = await this.pool.query<MessageRow & { rollout_id: string | null }>(
      `select platform, conversation, message_ref, purpose, idempotency_key, rollout_id from chat_messages
       where platform = $1 and conversation = $2 and message_ref = $3`,
      [platform, conversation, messageRef],
    );
    const r = res.rows[0];
    return r ? { ...toRef(r), rolloutId: r.rollout_id } : undefined;
  }
}
