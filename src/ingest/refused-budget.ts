/**
 * SPEC §8 (disk): a sender may make the server store at most `bytesPerMinute` of refused
 * (400/415) bodies a minute; beyond it the refusal is answered 429 and not stored. The request
 * rate limit counts requests, not bytes: one client stored 104 MiB of refused 1 MiB bodies in
 * 2.8 s under it. Per instance, like the request rate limit.
 */
export class RefusedBytesBudget {
  private windowStart = 0;
  private spent = new Map<string, number>();

  constructor(
    private readonly bytesPerMinute: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Spends `bytes` of `sender`'s budget for this minute. Returns 0 when they fit, else the
   * seconds until the budget refills.
   */
  take(sender: string, bytes: number): number {
    const now = this.now();
    if (now - this.windowStart >= 60_000) {
      // Fixed windows: one map cleared a minute bounds memory by the senders of one minute.
      this.windowStart = now;
      this.spent = new Map();
    }
    const spent = this.spent.get(sender) ?? 0;
    if (spent + bytes > this.bytesPerMinute) {
      return Math.ceil((this.windowStart + 60_000 - now) / 1000);
    }
    this.spent.set(sender, spent + bytes);
    return 0;
  }
}
