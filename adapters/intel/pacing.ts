/**
 * A sliding-window limiter: at most `limit` starts in any `windowMs`. NVD documents 5
 * requests per rolling 30 s without an API key and 50 with one; going over gets a 403
 * from NIST's firewall, so patchops waits before sending instead of being refused.
 */
export class SlidingWindow {
  private readonly starts: number[] = [];

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((r) => setTimeout(r, ms)),
  ) {}

  /** Resolves when one more request may start (and counts it). */
  async take(): Promise<void> {
    for (;;) {
      const t = this.now();
      while (this.starts.length && this.starts[0]! <= t - this.windowMs) this.starts.shift();
      if (this.starts.length < this.limit) {
        this.starts.push(t);
        return;
      }
      await this.sleep(this.starts[0]! + this.windowMs - t + 5);
    }
  }
}
