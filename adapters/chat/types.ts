/** What activities tell people about a rollout; Slack and Teams implement this later. */
export type NoticeKind =
  | 'approval_request'
  | 'approval_reminder'
  | 'approval_escalation'
  | 'promotion_request'
  | 'halted'
  | 'progress'
  | 'summary';

export interface Notice {
  rolloutId: string;
  clientId: string;
  kind: NoticeKind;
  text: string;
  idempotencyKey: string;
}

export interface Notifier {
  readonly platform: 'cli' | 'slack' | 'teams';
  /** Posts a notice; returns the platform's reference to the message. */
  post(notice: Notice): Promise<{ conversation: string; messageRef: string }>;
}
