/**
 * The pure core of the rate gate: a sliding-window log per limit, over an injected clock.
 *
 * The provider counts a request when it *arrives*; we only know when we started it and when it
 * ended. Each request therefore gets a stamp that is an upper bound of its arrival: the moment it
 * ended (it cannot have arrived later than its answer), but no later than `start + allowance`, the
 * most we assume the network can delay a request on its way (so a slow answer does not hold its
 * slot for long). A new request may start at `now` only if fewer than `requests` stamps lie after
 * `now - window` in every applicable window: then, whatever the delays, no window of the
 * provider's length placed anywhere holds more than its limit.
 *
 * Cost: a fast request's slot is dated by its round trip, a slow one's by the allowance, so a
 * steady burst runs at window / (window + min(round trip, allowance)) of the limit: on a fast link
 * (or loopback) about 99 %; at worst 67 % for a one-second window (only when answers take half a
 * second) and 92 % for a one-minute one. The allowance is generous because being wrong costs a 429:
 * it has to cover a cold start (handshakes) and a starved event loop at either end; on a loaded
 * two-core machine, 10 % of a one-second window was measured to be too little.
 */
import type { RateLimit, RequestKind } from '../providers/types.js';

/** Delay allowed for between granting a request and its arrival: half the window, at most 5 s. */
export function arrivalAllowanceMs(windowMs: number): number {
  return Math.min(windowMs * 0.5, 5_000);
}

interface Stamp {
  at: number;
}

class Window {
  readonly windowMs: number;
  readonly allowanceMs: number;
  #stamps: Stamp[] = [];

  constructor(readonly limit: RateLimit) {
    this.windowMs = limit.perSeconds * 1000;
    this.allowanceMs = arrivalAllowanceMs(this.windowMs);
  }

  appliesTo(kind: RequestKind): boolean {
    return this.limit.scope === 'all' || this.limit.scope === kind;
  }

  /** Ms from `now` until one more request fits (0: it fits now). */
  waitMs(now: number): number {
    const horizon = now - this.windowMs;
    this.#stamps = this.#stamps.filter((s) => s.at > horizon);
    const excess = this.#stamps.length - this.limit.requests;
    if (excess < 0) return 0;
    // The (excess+1)-th oldest stamp must leave the window first.
    const leaving = this.#stamps.map((s) => s.at).sort((a, b) => a - b)[excess]!;
    return Math.max(0, leaving + this.windowMs - now);
  }

  record(now: number): Stamp {
    const stamp = { at: now + this.allowanceMs };
    this.#stamps.push(stamp);
    return stamp;
  }
}

/** The stamps of a started request, one per applicable window: settle it with `finish` when it ends. */
export type Ticket = readonly Stamp[];

export class SlidingWindowLog {
  #windows: Window[] = [];

  constructor(limits: readonly RateLimit[]) {
    this.include(limits);
  }

  /** Adds limits not yet enforced (a second tenant on the same account may name stricter ones). */
  include(limits: readonly RateLimit[]): void {
    for (const limit of limits) {
      if (!(limit.requests >= 1 && limit.perSeconds > 0)) throw new RangeError(`a rate limit needs requests >= 1 and perSeconds > 0, got ${JSON.stringify(limit)}`);
      const known = this.#windows.some(
        (w) => w.limit.requests === limit.requests && w.limit.perSeconds === limit.perSeconds && w.limit.scope === limit.scope,
      );
      if (!known) this.#windows.push(new Window({ ...limit }));
    }
  }

  get limits(): readonly RateLimit[] {
    return this.#windows.map((w) => w.limit);
  }

  /** Ms from `now` until a request of `kind` may start (0: now). */
  waitMs(kind: RequestKind, now: number): number {
    return Math.max(0, ...this.#windows.filter((w) => w.appliesTo(kind)).map((w) => w.waitMs(now)));
  }

  /** Records a request of `kind` starting at `now`; call only when waitMs(kind, now) is 0. */
  start(kind: RequestKind, now: number): Ticket {
    return this.#windows.filter((w) => w.appliesTo(kind)).map((w) => w.record(now));
  }

  /** The request ended at `now`: it reached the server by then, so its stamps move back to `now` if later. */
  finish(ticket: Ticket, now: number): void {
    for (const stamp of ticket) stamp.at = Math.min(stamp.at, now);
  }
}
