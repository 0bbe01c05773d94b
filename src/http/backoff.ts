/** How long to wait before retrying a request: Retry-After when the server gives it, else exponential backoff with full jitter. */
import type { RetryPolicy } from './types.js';

/**
 * Eight retries with full jitter wait about a minute in total on average, long enough for a
 * provider's one-minute window (Twilio, OliAI) to slide past a burst from another client.
 */
export const defaultRetryPolicy: RetryPolicy = {
  maxRetries: 8,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  maxElapsedMs: 180_000,
};

/**
 * Full jitter (random(0, min(cap, base * 2^(retry-1)))): spreads the retries of many clients
 * instead of having them collide again. `retry` counts from 1.
 */
export function backoffDelayMs(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/**
 * A Retry-After header in ms from `nowMs` (wall clock): delta-seconds or an HTTP date. Undefined
 * when absent or unreadable; a date in the past counts as 0.
 */
export function parseRetryAfter(header: string | null, nowMs: number): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  // An HTTP date names its day and month; Date.parse would also read "-5" as a year.
  const date = /[a-z]/i.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}
