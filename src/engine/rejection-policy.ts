/**
 * What a rejected or transiently failed contact records (SPEC section 5: rejections are retried
 * with backoff; after a few attempts they wait until the contact changes and become dead letters).
 */
import type { RejectionRow } from '../state/rejections.js';

export const rejectionPolicy = {
  /** A payload rejected this many times is a dead letter: it waits until the contact changes. */
  maxAttempts: 3,
  /** Wait before the next attempt after the 1st, 2nd, … rejection. */
  backoffMs: [15 * 60_000, 60 * 60_000],
} as const;

export function nextRejection(
  previous: RejectionRow | undefined,
  item: { provider: string; contactId: string; hash: string },
  outcome: { status: 'rejected' | 'retryable'; code: string; reason: string },
  now: Date,
): RejectionRow {
  // A changed payload starts afresh; transient failures do not use up attempts.
  const attemptsSoFar = previous !== undefined && previous.hash === item.hash ? previous.attempts : 0;
  const at = now.toISOString();
  const common = {
    provider: item.provider,
    contact_id: item.contactId,
    hash: item.hash,
    code: outcome.code,
    reason: outcome.reason,
    first_at: previous?.first_at ?? at,
    last_at: at,
  };
  if (outcome.status === 'retryable') {
    return { ...common, transient: 1, attempts: attemptsSoFar, next_attempt_at: null, dead: 0 };
  }
  const attempts = attemptsSoFar + 1;
  const dead = attempts >= rejectionPolicy.maxAttempts;
  const wait = rejectionPolicy.backoffMs[Math.min(attempts, rejectionPolicy.backoffMs.length) - 1]!;
  return {
    ...common,
    transient: 0,
    attempts,
    next_attempt_at: dead ? null : new Date(now.getTime() + wait).toISOString(),
    dead: dead ? 1 : 0,
  };
}
