/**
 * Finishing the journal: a run (sync or reconcile) first replays every batch that dead runs left in
 * the outbox for its providers, so it starts from what the providers confirmed.
 */
import type { OutboxRow } from '../state/outbox.js';
import { Journal, type Problem } from './journal.js';
import { claimsOfPending } from './phone-claims.js';
import type { PlanTarget } from './plan.js';
import type { TenantRuntime } from './runtime.js';

/** What finishing one provider's journal (the batches dead runs left in flight) gave. */
export interface Recovery {
  /** Items confirmed by the replay. */
  confirmed: number;
  rejected: Problem[];
  /** Items whose outcome is still unknown (transient failures): they stay journaled; a sync's apply retries them. */
  inFlight: OutboxRow[];
  /** The adapter threw: the batch stays journaled and the provider sits this run out. */
  failure?: unknown;
}

/**
 * Replays every batch left in the provider's outbox, in the order it was written, with the same
 * correlation ids. The outbox is read again after each batch: settling one may void rows of another
 * (a pending delete of a contact whose phone a confirmed upsert took over).
 */
export async function finishJournal(runtime: TenantRuntime, runId: string, target: PlanTarget, signal: AbortSignal | undefined): Promise<Recovery> {
  const { state, tenant, tuning } = runtime;
  const claims = await claimsOfPending(state, target.name, target.adapter);
  const journal = new Journal({ state, tenant, runId, provider: target.name, adapter: target.adapter, clock: tuning.clock, claims });
  const recovery: Recovery = { confirmed: 0, rejected: [], inFlight: [] };
  const replayed = new Set<string>();
  while (signal?.aborted !== true) {
    const batch = (await state.outbox.pendingBatches(target.name)).find((b) => !replayed.has(b[0]!.batch_id));
    if (batch === undefined) break;
    replayed.add(batch[0]!.batch_id);
    try {
      const outcome = await journal.replay(batch);
      recovery.confirmed += outcome.ok.length;
      recovery.rejected.push(...outcome.rejected);
      recovery.inFlight.push(...outcome.retryable);
    } catch (error) {
      recovery.failure = error;
      break;
    }
  }
  return recovery;
}
