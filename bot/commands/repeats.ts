/** How long the last success of a person's action on a rollout is remembered. */
export const REPEAT_WINDOW_MS = 10 * 60_000;

/**
 * Tells the first success of a person's action on a rollout (approve round 0, pause …), in
 * Slack or Teams, from its repeats: a redelivered request or a double click gets the first
 * outcome back from the runner and changes nothing, so only the first one needs the cards
 * re-rendered at once. A repeat is the same action as that person's last success on that
 * rollout: pause → resume → pause are three firsts, twenty Approve clicks are one.
 */
export class RepeatFilter {
  /** `${person} ${rollout}` → the last action that succeeded and when. */
  private readonly last = new Map<string, { action: string; at: number }>();

  constructor(private readonly windowMs = REPEAT_WINDOW_MS) {}

  /** True unless `action` repeats this person's last success on this rollout in the window. */
  first(
    person: string,
    rolloutId: string,
    action: ReadonlyArray<string | number | undefined>,
    now = Date.now(),
  ): boolean {
    // Insertion order is time order (entries are re-inserted on use): drop the expired ones.
    for (const [k, v] of this.last) {
      if (now - v.at < this.windowMs) break;
      this.last.delete(k);
    }
    const key = `${person}\u0000${rolloutId}`;
    const signature = action.map((p) => p ?? '').join('\u0000');
    const seen = this.last.get(key);
    this.last.delete(key);
    this.last.set(key, { action: signature, at: now });
    return seen?.action !== signature;
  }
}
