/**
 * Sliding-window rate limits as a provider enforces them: a request is accepted only if no window
 * of the limit's length ending at its arrival holds `requests` accepted requests already. Each
 * window keeps the arrival times of its last `requests` accepted requests in a ring, so a check
 * is O(1): the oldest of them must be at least one window old.
 */
import type { RateLimit, RequestKind } from '../providers/types.js';

class SlidingWindow {
  private readonly stamps: Float64Array;
  private next = 0;
  private filled = 0;

  constructor(
    readonly limit: RateLimit,
    private readonly windowMs: number,
  ) {
    this.stamps = new Float64Array(limit.requests);
  }

  appliesTo(kind: RequestKind): boolean {
    return this.limit.scope === 'all' || this.limit.scope === kind;
  }

  /** Ms until one more request fits (0: it fits now). */
  waitMs(now: number): number {
    if (this.filled < this.stamps.length) return 0;
    const oldest = this.stamps[this.next] ?? 0;
    return Math.max(0, oldest + this.windowMs - now);
  }

  record(now: number): void {
    this.stamps[this.next] = now;
    this.next = (this.next + 1) % this.stamps.length;
    if (this.filled < this.stamps.length) this.filled += 1;
  }
}

/** The limits of every account of one provider. Arrival times must be non-decreasing. */
export class AccountRateLimiter {
  private readonly accounts = new Map<string, SlidingWindow[]>();

  /** @param timeScale windows are divided by it (60 turns a minute into a second). */
  constructor(
    private readonly limits: readonly RateLimit[],
    private readonly timeScale: number,
  ) {
    for (const l of limits) {
      // Each window holds one timestamp per allowed request; "unlimited" is enforceRateLimits: false.
      if (!Number.isInteger(l.requests) || l.requests < 1 || l.requests > 1_000_000) {
        throw new RangeError(`a rate limit allows 1 to 1,000,000 requests, got ${l.requests}`);
      }
      if (!(l.perSeconds > 0 && Number.isFinite(l.perSeconds))) throw new RangeError(`a rate limit window must be positive, got ${l.perSeconds} s`);
    }
  }

  /**
   * Accepts the request (recording it in every window that applies) and returns 0, or rejects it
   * without recording anything and returns the ms until it would fit.
   */
  tryAcquire(account: string, kind: RequestKind, now: number): number {
    const windows = this.windowsOf(account).filter((w) => w.appliesTo(kind));
    const wait = Math.max(0, ...windows.map((w) => w.waitMs(now)));
    if (wait > 0) return wait;
    for (const w of windows) w.record(now);
    return 0;
  }

  reset(): void {
    this.accounts.clear();
  }

  private windowsOf(account: string): SlidingWindow[] {
    let windows = this.accounts.get(account);
    if (!windows) {
      windows = this.limits.map((l) => new SlidingWindow(l, (l.perSeconds * 1000) / this.timeScale));
      this.accounts.set(account, windows);
    }
    return windows;
  }
}
