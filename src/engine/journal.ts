/**
 * The journal around one batch: its items are written to the outbox in one statement BEFORE the
 * request; AFTER the response, in ONE transaction, the outbox rows are settled, the baseline moves
 * for each confirmed success, rejections and orphans are recorded. A process that dies in between
 * leaves the batch in the outbox, and the next run replays it with the same correlation ids. Both
 * writes go through the state's group commit: batches settling at the same moment share a commit.
 */
import { randomUUID } from 'node:crypto';
import type { OutboxRow } from '../state/outbox.js';
import type { BaselineRow } from '../state/baseline.js';
import type { OrphanRow } from '../state/orphans.js';
import type { TenantState } from '../state/store.js';
import type { DeleteItem, ItemOutcome, Payload, ProviderAdapter, UpsertItem } from '../providers/types.js';
import type { PhoneClaims } from './phone-claims.js';
import { nextRejection } from './rejection-policy.js';

/** A contact that could not be delivered (or is never sent), with what a person can do about it. */
export interface Problem {
  provider: string;
  contactId: string;
  code: string;
  reason: string;
}

/** An outbox row about to be journaled; `parsed` is its payload as an object when the caller has one (never stored). */
export type JournalRow = Omit<OutboxRow, 'batch_id' | 'run_id' | 'created_at'> & { parsed?: Payload };
export type JournaledRow = OutboxRow & { parsed?: Payload };

export interface BatchResult {
  ok: OutboxRow[];
  rejected: Problem[];
  /** Transient failures: still journaled (no baseline move); the caller may send them again. */
  retryable: OutboxRow[];
  /** Remote records left behind by a phone change at a provider that cannot delete. */
  orphaned: number;
}

export interface JournalContext {
  state: TenantState;
  tenant: string;
  runId: string;
  provider: string;
  adapter: ProviderAdapter;
  clock: () => Date;
  /** Who else may claim the phones this journal's upserts send (phone-claims.ts). */
  claims: PhoneClaims;
}

/**
 * Batch ids sort in the order the batches were journaled (the outbox replays them in created_at,
 * then batch_id order, and a run's clock may not advance between two batches).
 */
let batchSequence = 0;
function nextBatchId(): string {
  return `${(batchSequence++).toString(36).padStart(8, '0')}-${randomUUID()}`;
}

export class Journal {
  readonly #context: JournalContext;
  /**
   * Whether the provider may have rejection / orphan rows that a settled batch must remove. Assumed
   * until `lookUpHeldRows` finds out; set again whenever this journal writes such a row.
   */
  readonly #held = { rejections: true, orphans: true };

  constructor(context: JournalContext) {
    this.#context = context;
  }

  /**
   * Finds out whether the provider has any rejection or orphan rows, so settling can skip removing
   * rows that are not there. Call it only once the rest of the run writes such rows for this
   * provider through this journal alone (the apply phase: runs of a tenant do not overlap).
   */
  async lookUpHeldRows(): Promise<void> {
    const { state, provider } = this.#context;
    this.#held.rejections = await state.rejections.any(provider);
    this.#held.orphans = await state.orphans.any(provider);
  }

  /** Journals a new batch (all rows of one op), sends it and records the outcomes. */
  async send(rows: readonly JournalRow[]): Promise<BatchResult> {
    const [batch] = await this.write([rows]);
    return this.replay(batch!);
  }

  /**
   * Journals new batches (each all rows of one op) in one statement, in order; each is then sent
   * with `replay`. Until then they are pending like a dead run's: a run that stops first leaves
   * them to the next run, which sends them.
   */
  async write(batches: readonly (readonly JournalRow[])[]): Promise<JournaledRow[][]> {
    const createdAt = this.#context.clock().toISOString();
    const runId = this.#context.runId;
    const journaled = batches.map((rows) => {
      const batchId = nextBatchId();
      // A literal of every field, not a spread: a spread of rows of varying shapes costs several times more.
      return rows.map((row): JournaledRow => ({
        provider: row.provider,
        contact_id: row.contact_id,
        batch_id: batchId,
        run_id: runId,
        op: row.op,
        source_key: row.source_key,
        hash: row.hash,
        payload: row.payload,
        previous: row.previous,
        correlation_id: row.correlation_id,
        remote_id: row.remote_id,
        created_at: createdAt,
        parsed: row.parsed,
      }));
    });
    // One statement, durable once the (group) commit returns: only then may a request go out.
    await this.#context.state.writeOutbox(journaled.flat());
    return journaled;
  }

  /**
   * Sends rows already in the outbox (a new batch, or one a dead run left behind) and records the
   * outcomes. If the adapter throws, the outcome is unknown: the rows stay journaled and it rethrows.
   */
  async replay(batch: readonly JournaledRow[]): Promise<BatchResult> {
    const { adapter } = this.#context;
    if (batch[0]!.op === 'delete') return this.#record(batch, [], await adapter.delete(batch.map(toDeleteItem)));
    const items = batch.map(toUpsertItem);
    return this.#record(batch, items.map((i) => i.payload), await adapter.upsert(items));
  }

  /** `payloads`: each upsert row's payload, parsed (in batch order; empty for deletes). */
  async #record(batch: readonly OutboxRow[], payloads: readonly Payload[], outcomes: readonly ItemOutcome[]): Promise<BatchResult> {
    const { provider, adapter, clock } = this.#context;
    const now = clock();
    const at = now.toISOString();
    const byContact = new Map(outcomes.map((o) => [o.contactId, o]));
    const result: BatchResult = { ok: [], rejected: [], retryable: [], orphaned: 0 };
    const delivered: BaselineRow[] = [];
    const deleted: string[] = [];
    const orphans: OrphanRow[] = [];
    const failed: { row: OutboxRow; outcome: Extract<ItemOutcome, { status: 'rejected' | 'retryable' }> }[] = [];

    batch.forEach((row, index) => {
      const outcome: ItemOutcome = byContact.get(row.contact_id) ?? {
        contactId: row.contact_id,
        status: 'retryable',
        code: 'no_outcome',
        reason: 'the provider answered without an outcome for this contact; it is sent again',
      };
      if (outcome.status !== 'ok') {
        failed.push({ row, outcome });
        if (outcome.status === 'retryable') result.retryable.push(row);
        else result.rejected.push({ provider, contactId: row.contact_id, code: outcome.code, reason: outcome.reason });
        return;
      }
      result.ok.push(row);
      if (row.op === 'delete') {
        deleted.push(row.contact_id);
        return;
      }
      delivered.push({
        provider,
        contact_id: row.contact_id,
        source_key: row.source_key,
        hash: row.hash,
        payload: row.payload,
        phone: adapter.phoneOf(payloads[index]!),
        remote_id: outcome.remoteId ?? row.remote_id,
        delivered_at: at,
      });
      if (outcome.orphanedKey !== undefined) {
        orphans.push({ provider, phone: outcome.orphanedKey, contact_id: row.contact_id, reason: 'phone_changed', payload: row.previous ?? '{}', recorded_at: at });
      }
    });
    result.orphaned = orphans.length;
    if (orphans.length > 0) this.#held.orphans = true;
    if (failed.length > 0) this.#held.rejections = true;
    const held = this.#held;
    const batchId = batch[0]!.batch_id;
    const voided = delivered.length === 0 ? [] : this.#context.claims.voidedBy(delivered.map((d) => ({ contactId: d.contact_id, phone: d.phone })));
    if (result.ok.length === batch.length && deleted.length === 0 && orphans.length === 0 && voided.length === 0 && !held.orphans && !held.rejections) {
      // Delivered in full, nothing else to record: settled with the batches beside it in one statement.
      await this.#context.state.settleDelivered(provider, batchId, delivered);
      return result;
    }

    await this.#context.state.commit(async (tx) => {
      // A transient failure settles nothing: an earlier attempt of the item may have been applied,
      // so it stays journaled (in flight) until an attempt gets a definite answer.
      if (result.retryable.length === 0) {
        // The batch's outbox rows go in the statement that moves the baseline (one round trip on PostgreSQL).
        await tx.settleDelivered(provider, batchId, delivered);
      } else {
        await tx.outbox.settle(provider, batchId, result.retryable.map((r) => r.contact_id));
        await tx.baseline.upsert(delivered);
      }
      if (delivered.length > 0) {
        const superseded = await tx.baseline.dropClaims(provider, voided);
        // A delete still pending for a superseded contact would now remove this contact's record.
        if (superseded.length > 0) await tx.outbox.dropDeletes(provider, superseded);
        if (held.orphans) await tx.orphans.reclaim(provider, delivered.map((d) => d.phone));
      }
      if (orphans.length > 0) await tx.orphans.record(orphans);
      if (deleted.length > 0) await tx.baseline.remove(provider, deleted);
      if (held.rejections && result.ok.length > 0) await tx.rejections.remove(provider, result.ok.map((r) => r.contact_id));
      if (failed.length > 0) {
        const previous = await tx.rejections.byIds(provider, failed.map((f) => f.row.contact_id));
        await tx.rejections.upsert(
          failed.map(({ row, outcome }) => nextRejection(previous.get(row.contact_id), { provider, contactId: row.contact_id, hash: row.hash }, outcome, now)),
        );
      }
    });
    return result;
  }
}

function toUpsertItem(row: JournaledRow): UpsertItem {
  return {
    contactId: row.contact_id,
    payload: row.parsed ?? (JSON.parse(row.payload) as Payload),
    hash: row.hash,
    correlationId: row.correlation_id,
    remoteId: row.remote_id,
    previous: row.previous === null ? null : (JSON.parse(row.previous) as Payload),
  };
}

function toDeleteItem(row: OutboxRow): DeleteItem {
  return { contactId: row.contact_id, payload: JSON.parse(row.payload) as Payload, remoteId: row.remote_id };
}
