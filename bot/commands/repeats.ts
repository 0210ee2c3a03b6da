/** How long the first success of an action is remembered; its repeats come within seconds. */
export const REPEAT_WINDOW_MS = 10 * 60_000;

/**
 * Tells the first success of a person's action (approve round 0 of a rollout, pause it …), in Slack or Teams,
 * from its repeats: a redelivered request or a double click gets the first outcome back from
 * the runner and changes nothing, so only the first one needs its cards re-rendered at once.
 */
export class RepeatFilter {
  private readonly succeeded = new Map<string, number>();

  constructor(private readonly windowMs = REPEAT_WINDOW_MS) {}

  /** True the first time these parts succeed within the window, false for a repeat. */
  first(parts: ReadonlyArray<string | number | undefined>, now = Date.now()): boolean {
    // Insertion order is time order: drop what is past the window from the front.
    for (const [k, at] of this.succeeded) {
      if (now - at < this.windowMs) break;
      this.succeeded.delete(k);
    }
    const key = parts.map((p) => p ?? '').join('\u0000');
    if (this.succeeded.has(key)) return false;
    this.succeeded.set(key, now);
    return true;
  }
}
