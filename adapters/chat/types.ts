import type { RolloutCard } from '../../bot/cards/model.js';

/** What activities tell people about a rollout. */
export type NoticeKind =
  | 'approval_request'
  | 'approval_reminder'
  | 'approval_escalation'
  | 'promotion_request'
  | 'halted'
  | 'failure_alert'
  | 'progress'
  | 'summary';

export interface Notice {
  rolloutId: string;
  clientId: string;
  kind: NoticeKind;
  /** Plain text: the whole message for text notices, the fallback for cards. */
  text: string;
  /** Present when the message is a card (the rollout card, a promotion request, an alert). */
  card?: RolloutCard;
}

/** A message a notifier posted: its conversation and the platform's id of it. */
export interface PostedMessage {
  conversation: string;
  messageRef: string;
}

/** A picture posted with a message: a compliance report's chart. */
export interface ImageFile {
  /** Unique per post (it carries the report's key), e.g. "compliance-acme-2026-W49.png". */
  filename: string;
  png: Uint8Array;
  title: string;
  /** What the picture shows, for screen readers. */
  altText: string;
}

/**
 * A chat platform as activities see it. Implementations: log (CLI), Slack, Teams. Posting
 * is at-least-once per call; the card publisher makes it once per key around it.
 */
export interface Notifier {
  readonly platform: 'cli' | 'slack' | 'teams';
  /** Conversations a notice for this client goes to (may be none). */
  targets(clientId: string): Promise<string[]>;
  /** Posts a new message; `thread` replies under an earlier one where the platform can. */
  post(
    conversation: string,
    notice: Notice,
    opts: { key: string; thread?: PostedMessage | undefined },
  ): Promise<PostedMessage>;
  /** Replaces a posted message's content (cards updated in place). */
  update(message: PostedMessage, notice: Notice): Promise<void>;
  /**
   * Looks for a message an earlier attempt posted under `key` but died before recording.
   * Platforms that cannot search return undefined and the post is repeated.
   */
  find?(conversation: string, key: string): Promise<PostedMessage | undefined>;
  /**
   * Posts `notice.text` with an image (Slack: a file shared to the channel). With `recheck`
   * an earlier attempt may have posted it: the platform looks for `image.filename` first.
   * Platforms without it get the text alone.
   */
  postImage?(
    conversation: string,
    image: ImageFile,
    notice: Notice,
    opts: { key: string; recheck: boolean },
  ): Promise<PostedMessage>;
}
