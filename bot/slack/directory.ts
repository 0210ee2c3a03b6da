import type { WebClient } from '@slack/web-api';
import { withRateLimit } from './retry.js';

/** Members of the Slack user groups policies name, cached (usergroups.users.list is Tier 2). */
export class UsergroupDirectory {
  private readonly cache = new Map<string, { at: number; users: Set<string> }>();
  /** One look-up per group at a time: concurrent requests share it (Tier 2 is 20/min). */
  private readonly inflight = new Map<string, Promise<Set<string>>>();

  constructor(
    private readonly client: WebClient,
    private readonly groups: () => readonly string[],
    private readonly ttlMs = 5 * 60_000,
  ) {}

  /** The policy-named groups this user belongs to. */
  async groupsOf(userId: string): Promise<string[]> {
    const out: string[] = [];
    for (const g of this.groups()) if ((await this.members(g)).has(userId)) out.push(g);
    return out;
  }

  private members(group: string): Promise<Set<string>> {
    const hit = this.cache.get(group);
    if (hit && Date.now() - hit.at < this.ttlMs) return Promise.resolve(hit.users);
    const running = this.inflight.get(group);
    if (running) return running;
    const p = this.fetch(group, hit?.users).finally(() => this.inflight.delete(group));
    this.inflight.set(group, p);
    return p;
  }

  private async fetch(group: string, stale: Set<string> | undefined): Promise<Set<string>> {
    try {
      const r = await withRateLimit(() => this.client.usergroups.users.list({ usergroup: group }));
      const users = new Set(r.users ?? []);
      this.cache.set(group, { at: Date.now(), users });
      return users;
    } catch {
      // A group Slack does not know grants nothing; a stale cache is better than none.
      return stale ?? new Set();
    }
  }
}
