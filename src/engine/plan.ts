/**
 * The planner: one streaming merge of the source (ascending id) with each provider's baseline and
 * rejections (ascending contact_id), so memory stays flat. Per provider and contact it decides
 * create / update / unchanged / invalid / deferred, and after the COMPLETE read, delete or orphan
 * for baseline rows the source no longer has. Changes go to a Staging area; nothing is sent here.
 * The same function plans a dry run, a real run and the re-check of a --plan file.
 */
import type { OutboxRow } from '../state/outbox.js';
import type { BaselineKey } from '../state/baseline.js';
import type { RejectionKey } from '../state/rejections.js';
import { INVALID_PROVIDER } from '../state/rejections.js';
import type { TenantState } from '../state/store.js';
import { StoreError } from '../errors.js';
import type { ProviderAdapter } from '../providers/types.js';
import type { Contact, InvalidReason, SourceContact } from '../source/contact.js';
import type { SourceReader } from '../source/types.js';
import { KeyedCursor } from './cursor.js';
import { Fingerprint, isProviderKey, payloadHash, providerKey, sourceKey } from './hash.js';
import { compareKeys } from './key-order.js';
import { PhoneIndex, updatedMs } from './phone-index.js';
import { RowLog } from './row-log.js';
import type { Staging } from './staging.js';

export type NormaliseRow = (row: SourceContact) => { ok: true; contact: Contact } | { ok: false; invalid: InvalidReason };

export interface PlanTarget {
  name: string;
  adapter: ProviderAdapter;
  /** Short tag of the provider's mapping-relevant settings: a settings change re-maps every row once. */
  tag: string;
}

export interface PlannedCounts {
  create: number;
  update: number;
  delete: number;
  unchanged: number;
  invalid: number;
  orphan: number;
  /** Skipped: rejected with a retry time still ahead, or a dead letter whose payload has not changed. */
  deferred: number;
}

export interface ProviderPlan {
  counts: PlannedCounts;
  /** Baseline rows (contacts confirmed delivered) when the plan was made. */
  baselineSize: number;
}

export interface Plan {
  sourceRows: number;
  providers: Map<string, ProviderPlan>;
  /** Ordinals of rows that lost a duplicate-phone contest: their staged changes are void. */
  losers: ReadonlySet<number>;
  sourceFingerprint: string;
  stateFingerprint: string;
  /** Digest of every staged change: a --plan file applies only if re-planning reproduces it. */
  changesDigest: string;
  /** The contact that holds `phone` in this source read, if any. */
  phoneOwner(phone: string): string | undefined;
}

export interface PlanInput {
  state: TenantState;
  source: SourceReader;
  targets: readonly PlanTarget[];
  normalise: NormaliseRow;
  defaultCountry: string | undefined;
  /** Ignore baseline hashes (and deferrals): every valid contact is re-sent. */
  full: boolean;
  now: Date;
  staging: Staging;
  pageSize?: number;
}

// Per row and provider, the decision, one byte each in the RowLog.
const NONE = 0;
const UNCHANGED = 1;
const CREATE = 2;
const UPDATE = 3;
const INVALID = 4;
const DEFERRED = 5;
const countOf = [null, 'unchanged', 'create', 'update', 'invalid', 'deferred'] as const;

interface Side {
  target: PlanTarget;
  pending: Map<string, OutboxRow>;
  counts: PlannedCounts;
  baselineSize: number;
  stateFingerprint: Fingerprint;
  baseline: KeyedCursor<BaselineKey>;
  rejections: KeyedCursor<RejectionKey>;
  matchedBaseline: BaselineKey | undefined;
  matchedRejection: RejectionKey | undefined;
}

export function emptyCounts(): PlannedCounts {
  return { create: 0, update: 0, delete: 0, unchanged: 0, invalid: 0, orphan: 0, deferred: 0 };
}

export async function planSync(input: PlanInput): Promise<Plan> {
  const { state, source, targets, staging, normalise, defaultCountry, full } = input;
  const nowIso = input.now.toISOString();
  const changes = new Fingerprint();
  const sourceFingerprint = new Fingerprint();
  const phones = new PhoneIndex();
  const rows = new RowLog(targets.length);

  const sides = await Promise.all(targets.map((target) => openSide(state, target, staging, changes, input.pageSize)));
  const ops = new Uint8Array(sides.length);
  let previousId: string | undefined;
  try {
    for await (const page of source.pages(input.pageSize === undefined ? undefined : { pageSize: input.pageSize })) {
      for (const row of page) {
        if (previousId !== undefined && compareKeys(previousId, row.id) >= 0) {
          throw new StoreError(`the source returned "${row.id}" after "${previousId}": rows must come in ascending binary id order`);
        }
        previousId = row.id;
        const key = sourceKey(row, defaultCountry);
        sourceFingerprint.add(row.id, key);
        const ordinal = rows.length;
        let phone: string | null = null;
        let needsMapping = false;

        for (let i = 0; i < sides.length; i++) {
          const side = sides[i]!;
          if (side.baseline.needsFill(row.id)) await side.baseline.fill(row.id);
          if (side.rejections.needsFill(row.id)) await side.rejections.fill(row.id);
          const base = (side.matchedBaseline = side.baseline.take(row.id));
          side.matchedRejection = side.rejections.take(row.id);
          const pending = side.pending.get(row.id);
          // Same source row as delivered (and nothing different in flight): no need to map it again.
          if (!full && base !== undefined && isProviderKey(base.source_key, key, side.target.tag) && (pending === undefined || (pending.op === 'upsert' && pending.hash === base.hash))) {
            ops[i] = UNCHANGED;
            phone ??= base.phone;
          } else {
            ops[i] = NONE;
            needsMapping = true;
          }
        }

        if (needsMapping) {
          const result = normalise(row);
          if (!result.ok) {
            ops.fill(INVALID);
            phone = null;
            staging.add(INVALID_PROVIDER, { op: 'invalid', contactId: row.id, ordinal, sourceKey: key, hash: '', payload: null, code: result.invalid.code, reason: result.invalid.reason });
          } else {
            phone = result.contact.phone;
            for (let i = 0; i < sides.length; i++) {
              if (ops[i] === NONE) ops[i] = decide(sides[i]!, row.id, result.contact, key, ordinal, { full, nowIso, staging, changes });
            }
          }
        }

        for (let i = 0; i < sides.length; i++) sides[i]!.counts[countOf[ops[i]!]!]++;
        if (phone !== null) phones.offer(phone, updatedMs(row.updatedAt), ordinal);
        rows.append(row.id, ops);
      }
    }
    for (const side of sides) {
      await side.baseline.drain();
      await side.rejections.drain();
    }
  } catch (error) {
    await Promise.all(sides.flatMap((side) => [side.baseline.close(), side.rejections.close()]));
    throw error;
  }

  const losers = resolveDuplicates(phones, rows, sides, staging);
  const stateFingerprint = new Fingerprint();
  for (const side of sides) {
    for (const row of side.pending.values()) side.stateFingerprint.add('outbox', row.contact_id, row.op, row.hash);
    stateFingerprint.add(side.target.name, side.stateFingerprint.digest());
  }
  return {
    sourceRows: rows.length,
    providers: new Map(sides.map((side) => [side.target.name, { counts: side.counts, baselineSize: side.baselineSize }])),
    losers,
    sourceFingerprint: sourceFingerprint.digest(),
    stateFingerprint: stateFingerprint.digest(),
    changesDigest: changes.digest(),
    phoneOwner: (phone) => {
      const ordinal = phones.winnerOf(phone);
      return ordinal === undefined ? undefined : rows.contactId(ordinal);
    },
  };
}

async function openSide(state: TenantState, target: PlanTarget, staging: Staging, changes: Fingerprint, pageSize: number | undefined): Promise<Side> {
  const pending = new Map<string, OutboxRow>();
  for (const batch of await state.outbox.pendingBatches(target.name)) for (const row of batch) pending.set(row.contact_id, row);
  const name = target.name;
  const side: Side = {
    target,
    pending,
    counts: emptyCounts(),
    baselineSize: 0,
    stateFingerprint: new Fingerprint(),
    matchedBaseline: undefined,
    matchedRejection: undefined,
    // In the baseline, absent from the source: a delete (or an orphan where the provider cannot delete).
    baseline: new KeyedCursor(tap(state.baseline.keyPages(name, pageSize), (b) => {
      side.baselineSize++;
      side.stateFingerprint.add('baseline', b.contact_id, b.hash);
    }), (b) => {
      const inFlight = pending.get(b.contact_id);
      if (inFlight?.op === 'delete') return; // the journal finishes it first
      const op = target.adapter.capabilities.deleteMode === 'none' ? 'orphan' : 'delete';
      side.counts[op]++;
      staging.add(name, { op, contactId: b.contact_id, ordinal: -1, sourceKey: b.source_key, hash: b.hash, payload: null });
      changes.add(name, op, b.contact_id, b.hash);
    }),
    // A rejection for a contact the source no longer has: nothing left to retry.
    rejections: new KeyedCursor(tap(state.rejections.keyPages(name, pageSize), (r) => {
      side.stateFingerprint.add('rejection', r.contact_id, r.hash, String(r.dead), r.next_attempt_at ?? '');
    }), (r) => staging.add(name, { op: 'forget', contactId: r.contact_id, ordinal: -1, sourceKey: '', hash: r.hash, payload: null })),
  };
  return side;
}

function decide(
  side: Side,
  contactId: string,
  contact: Contact,
  key: string,
  ordinal: number,
  context: { full: boolean; nowIso: string; staging: Staging; changes: Fingerprint },
): number {
  const name = side.target.name;
  const payload = side.target.adapter.map(contact);
  const hash = payloadHash(payload);
  const base = side.matchedBaseline;
  const pending = side.pending.get(contactId);
  // What the provider holds once the journal is finished: the in-flight upsert, else the baseline.
  const expected = pending === undefined ? base?.hash : pending.op === 'upsert' ? pending.hash : undefined;
  if (!context.full && expected === hash) {
    if (pending === undefined && base !== undefined && !isProviderKey(base.source_key, key, side.target.tag)) {
      context.staging.add(name, { op: 'rekey', contactId, ordinal, sourceKey: providerKey(key, side.target.tag), hash, payload: null });
    }
    return UNCHANGED;
  }
  const rejection = side.matchedRejection;
  if (!context.full && rejection !== undefined && rejection.hash === hash && (rejection.dead === 1 || (rejection.next_attempt_at !== null && rejection.next_attempt_at > context.nowIso))) {
    return DEFERRED;
  }
  const op = base === undefined ? 'create' : 'update';
  context.staging.add(name, { op, contactId, ordinal, sourceKey: providerKey(key, side.target.tag), hash, payload });
  context.changes.add(name, op, contactId, hash);
  return op === 'create' ? CREATE : UPDATE;
}

/** Recounts and reports the rows that lost a duplicate-phone contest; returns their ordinals. */
function resolveDuplicates(phones: PhoneIndex, rows: RowLog, sides: readonly Side[], staging: Staging): Set<number> {
  const losers = new Set<number>();
  for (const { loser, phone } of phones.losses) {
    if (losers.has(loser)) continue;
    losers.add(loser);
    sides.forEach((side, i) => {
      side.counts[countOf[rows.op(loser, i)]!]--;
      side.counts.invalid++;
    });
    const winner = rows.contactId(phones.winnerOf(phone)!);
    staging.add(INVALID_PROVIDER, {
      op: 'invalid',
      contactId: rows.contactId(loser),
      ordinal: loser,
      sourceKey: '',
      hash: '',
      payload: null,
      code: 'duplicate_phone',
      reason: `contact ${winner} has the same phone number (${phone}) and was updated more recently (or has the smaller id)`,
    });
  }
  return losers;
}

async function* tap<T>(pages: AsyncIterable<T[]>, each: (entry: T) => void): AsyncGenerator<T[]> {
  for await (const page of pages) {
    for (const entry of page) each(entry);
    yield page;
  }
}
