import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelayMs, defaultRetryPolicy, parseRetryAfter } from '../../src/http/backoff.js';

const policy = { maxRetries: 5, baseDelayMs: 100, maxDelayMs: 1_000, maxElapsedMs: 10_000 };

describe('backoffDelayMs (full jitter)', () => {
  it('spans 0 up to base * 2^(retry-1), capped', () => {
    expect(backoffDelayMs(policy, 1, () => 0)).toBe(0);
    expect(backoffDelayMs(policy, 1, () => 0.999999)).toBe(99);
    expect(backoffDelayMs(policy, 3, () => 0.5)).toBe(200);
    expect(backoffDelayMs(policy, 4, () => 0.999999)).toBe(799);
    expect(backoffDelayMs(policy, 10, () => 0.999999)).toBe(999);
  });

  it('never leaves [0, min(cap, base * 2^(retry-1)))', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (retry, r) => {
        const delay = backoffDelayMs(defaultRetryPolicy, retry, () => r);
        const ceiling = Math.min(defaultRetryPolicy.maxDelayMs, defaultRetryPolicy.baseDelayMs * 2 ** (retry - 1));
        return delay >= 0 && delay < Math.max(1, ceiling) && Number.isInteger(delay);
      }),
    );
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-03-01T10:00:00Z');
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('3', now)).toBe(3_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('1.5', now)).toBe(1_500);
  });
  it('reads an HTTP date, a past one as 0', () => {
    expect(parseRetryAfter('Sun, 01 Mar 2026 10:00:07 GMT', now)).toBe(7_000);
    expect(parseRetryAfter('Sun, 01 Mar 2026 09:59:00 GMT', now)).toBe(0);
  });
  it('ignores an absent or unreadable header', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });
});
