import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlidingWindowLog, arrivalAllowanceMs } from '../../src/http/sliding-window.js';
import type { RateLimit } from '../../src/providers/types.js';

const threePerSecond: RateLimit[] = [{ requests: 3, perSeconds: 1, scope: 'all' }];

describe('SlidingWindowLog', () => {
  it('lets `requests` start, then waits until the oldest finished one is a window old', () => {
    const log = new SlidingWindowLog(threePerSecond);
    const tickets = [0, 0, 0].map(() => {
      expect(log.waitMs('bulk', 0)).toBe(0);
      return log.start('bulk', 0);
    });
    tickets.forEach((t, i) => log.finish(t, 5 + i));
    expect(log.waitMs('bulk', 5)).toBe(1_000);
    expect(log.waitMs('single', 1_004)).toBe(1);
    expect(log.waitMs('bulk', 1_005)).toBe(0);
  });

  it('dates a request still in flight at its start plus the network allowance', () => {
    const log = new SlidingWindowLog(threePerSecond);
    for (let i = 0; i < 3; i++) log.start('bulk', 0);
    expect(arrivalAllowanceMs(1_000)).toBe(500);
    expect(log.waitMs('bulk', 0)).toBe(1_500);
    expect(arrivalAllowanceMs(60_000)).toBe(5_000);
  });

  it('counts a request only against the limits whose scope covers its kind', () => {
    const log = new SlidingWindowLog([
      { requests: 1, perSeconds: 1, scope: 'bulk' },
      { requests: 2, perSeconds: 1, scope: 'all' },
    ]);
    log.finish(log.start('bulk', 0), 0);
    expect(log.waitMs('bulk', 0)).toBe(1_000);
    expect(log.waitMs('single', 0)).toBe(0);
    log.finish(log.start('single', 0), 0);
    expect(log.waitMs('single', 0)).toBe(1_000);
  });

  it('adds a stricter limit named later, once', () => {
    const log = new SlidingWindowLog(threePerSecond);
    log.include([...threePerSecond, { requests: 1, perSeconds: 2, scope: 'all' }]);
    expect(log.limits).toHaveLength(2);
    log.finish(log.start('bulk', 0), 0);
    expect(log.waitMs('bulk', 0)).toBe(2_000);
  });

  it('refuses a limit that cannot be met', () => {
    expect(() => new SlidingWindowLog([{ requests: 0, perSeconds: 1, scope: 'all' }])).toThrow(RangeError);
  });

  /**
   * A client that starts requests as soon as the log allows, against a server that counts arrivals:
   * whatever each request's network delay (up to the allowance) and answer time, no window of the
   * limit's length holds more than the limit.
   */
  it('never lets the server see more than the limit in any window, whatever the delays', () => {
    const request = fc.record({ delay: fc.double({ min: 0, max: 1, noNaN: true }), answer: fc.double({ min: 0, max: 400, noNaN: true }) });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(request, { minLength: 1, maxLength: 40 }), (limit, requests) => {
        const windowMs = 1_000;
        const log = new SlidingWindowLog([{ requests: limit, perSeconds: windowMs / 1000, scope: 'all' }]);
        const allowance = arrivalAllowanceMs(windowMs);
        const arrivals: number[] = [];
        const pending: { at: number; ticket: ReturnType<SlidingWindowLog['start']> }[] = [];
        let now = 0;
        for (const r of requests) {
          for (;;) {
            pending.sort((a, b) => a.at - b.at);
            while (pending.length > 0 && pending[0]!.at <= now) {
              const done = pending.shift()!;
              log.finish(done.ticket, done.at);
            }
            const wait = log.waitMs('bulk', now);
            if (wait === 0) break;
            now = Math.min(now + wait, pending[0]?.at ?? Infinity);
          }
          const arrival = now + r.delay * allowance;
          arrivals.push(arrival);
          pending.push({ at: arrival + r.answer, ticket: log.start('bulk', now) });
        }
        arrivals.sort((a, b) => a - b);
        return arrivals.every((a, i) => i + limit >= arrivals.length || arrivals[i + limit]! - a >= windowMs - 1e-9);
      }),
    );
  });
});
