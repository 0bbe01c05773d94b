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
import type { Payload, ProviderAdapter } from '../providers/types.js';
import type { Contact, SourceContact } from '../source/contact.js';
import type { ContactResult } from '../source/normalise.js';
import type { NormalisePage } from '../source/phone-pool.js';
import type { SourceReader } from '../source/types.js';
import { KeyedCursor } from './cursor.js';
import { Fingerprint, canonicalHash, canonicalJson, isProviderKey, providerKey, sourceKey } from './hash.js';
import { compareKeys } from './key-order.js';
import { ClaimCollector, type PhoneClaims } from './phone-claims.js';
import { PhoneIndex, updatedMs } from './phone-index.js';
import { RowLog } from './row-log.js';
import type { Staging } from './staging.js';


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
  /** The phones more than one contact may claim during the apply (phone-claims.ts). */
  claims: PhoneClaims;
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
  normalise: NormalisePage;
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
  /** Baseline claims the source does not confirm, and the in-flight upserts' phones. */
  claims: ClaimCollector;
  counts: PlannedCounts;
  baselineSize: number;
  stateFingerprint: Fingerprint;
  baseline: KeyedCursor<BaselineKey>;
  rejections: KeyedCursor<RejectionKey>;
}

interface MatchedPage {
  page: readonly SourceContact[];
  keys: string[];
  ops: Uint8Array;
  /** The phone a row is known by without mapping it (an unchanged provider's baseline), else null. */
  knownPhones: (string | null)[];
  bases: (BaselineKey | undefined)[];
  rejections: (RejectionKey | undefined)[];
  /** The rows to map, normalised (in their order). */
  normalised: Promise<ContactResult[]>;
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
  const width = sides.length;
  const context = { full, nowIso, staging, changes };
  let previousId: string | undefined;

  /**
   * First half of a page: each row in order, matched against every provider's baseline and
   * rejections; the rows that need mapping go to the normaliser, which works on them while the
   * planner matches the next page. Per row and provider (index row * width + provider): the op so
   * far (UNCHANGED or NONE = to map) and what the cursors matched.
   */
  const match = async (page: readonly SourceContact[]): Promise<MatchedPage> => {
    const keys = new Array<string>(page.length);
    const ops = new Uint8Array(page.length * width);
    const knownPhones = new Array<string | null>(page.length).fill(null);
    const bases = new Array<BaselineKey | undefined>(page.length * width);
    const rejections = new Array<RejectionKey | undefined>(page.length * width);
    const toMap: SourceContact[] = [];
    for (let r = 0; r < page.length; r++) {
      const row = page[r]!;
      if (previousId !== undefined && compareKeys(previousId, row.id) >= 0) {
        throw new StoreError(`the source returned "${row.id}" after "${previousId}": rows must come in ascending binary id order`);
      }
      previousId = row.id;
      const key = (keys[r] = sourceKey(row, defaultCountry));
      sourceFingerprint.add(row.id, key);
      let needsMapping = false;
      for (let i = 0; i < width; i++) {
        const side = sides[i]!;
        if (side.baseline.needsFill(row.id)) await side.baseline.fill(row.id);
        if (side.rejections.needsFill(row.id)) await side.rejections.fill(row.id);
        const base = (bases[r * width + i] = side.baseline.take(row.id));
        rejections[r * width + i] = side.rejections.take(row.id);
        const pending = side.pending.get(row.id);
        // Same source row as delivered (and nothing different in flight): no need to map it again.
        if (!full && base !== undefined && isProviderKey(base.source_key, key, side.target.tag) && (pending === undefined || (pending.op === 'upsert' && pending.hash === base.hash))) {
          ops[r * width + i] = UNCHANGED;
          knownPhones[r] ??= base.phone;
        } else {
          ops[r * width + i] = NONE;
          needsMapping = true;
        }
      }
      if (needsMapping) toMap.push(row);
    }
    return { page, keys, ops, knownPhones, bases, rejections, normalised: normalise(toMap) };
  };

  /** Second half, in row order: map and decide what the first half left open, count, index the phones. */
  const decidePage = async ({ page, keys, ops, knownPhones, bases, rejections, normalised }: MatchedPage): Promise<void> => {
    const results = await normalised;
    let next = 0;
    for (let r = 0; r < page.length; r++) {
      const row = page[r]!;
      const at = r * width;
      const ordinal = rows.length;
      let phone: string | null = knownPhones[r]!;
      let toMap = false;
      for (let i = 0; i < width; i++) toMap ||= ops[at + i] === NONE;
      if (toMap) {
        const result = results[next++]!;
        if (!result.ok) {
          ops.fill(INVALID, at, at + width);
          phone = null;
          for (let i = 0; i < width; i++) {
            const base = bases[at + i];
            if (base !== undefined) sides[i]!.claims.add(base.phone, row.id);
          }
          staging.add(INVALID_PROVIDER, { op: 'invalid', contactId: row.id, ordinal, sourceKey: keys[r]!, hash: '', payload: null, payloadText: null, code: result.invalid.code, reason: result.invalid.reason });
        } else {
          phone = result.contact.phone;
          for (let i = 0; i < width; i++) {
            if (ops[at + i] === NONE) ops[at + i] = decide(sides[i]!, result.contact, keys[r]!, ordinal, bases[at + i], rejections[at + i], context);
          }
        }
      }
      for (let i = 0; i < width; i++) sides[i]!.counts[countOf[ops[at + i]!]!]++;
      if (phone !== null) phones.offer(phone, updatedMs(row.updatedAt), ordinal);
      rows.append(row.id, ops, at);
    }
  };

  try {
    let matched: MatchedPage | undefined;
    for await (const page of source.pages(input.pageSize === undefined ? undefined : { pageSize: input.pageSize })) {
      const next = await match(page);
      if (matched !== undefined) await decidePage(matched);
      matched = next;
      // SQLite reads resolve without a turn of the event loop: without one per page, a long plan
      // would hold off timers (heartbeats), /healthz and every other tenant's requests until it ends.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (matched !== undefined) await decidePage(matched);
    for (const side of sides) {
      await side.baseline.drain();
      await side.rejections.drain();
    }
  } catch (error) {
    await Promise.all(sides.flatMap((side) => [side.baseline.close(), side.rejections.close()]));
    throw error;
  }

  const losers = resolveDuplicates(phones, rows, sides, staging);
  const winnerOf = (phone: string): string | undefined => {
    const ordinal = phones.winnerOf(phone);
    return ordinal === undefined ? undefined : rows.contactId(ordinal);
  };
  // A loser's baseline claim on the phone it lost (if it has one) is the winner's to take.
  for (const { loser, phone } of phones.losses) for (const side of sides) side.claims.add(phone, rows.contactId(loser));
  const stateFingerprint = new Fingerprint();
  for (const side of sides) {
    for (const row of side.pending.values()) side.stateFingerprint.add('outbox', row.contact_id, row.op, row.hash);
    stateFingerprint.add(side.target.name, side.stateFingerprint.digest());
  }
  return {
    sourceRows: rows.length,
    providers: new Map(sides.map((side) => [side.target.name, { counts: side.counts, baselineSize: side.baselineSize, claims: side.claims.finish(winnerOf) }])),
    losers,
    sourceFingerprint: sourceFingerprint.digest(),
    stateFingerprint: stateFingerprint.digest(),
    changesDigest: changes.digest(),
    phoneOwner: winnerOf,
  };
}

async function openSide(state: TenantState, target: PlanTarget, staging: Staging, changes: Fingerprint, pageSize: number | undefined): Promise<Side> {
  const pending = new Map<string, OutboxRow>();
  const claims = new ClaimCollector();
  for (const batch of await state.outbox.pendingBatches(target.name)) {
    for (const row of batch) {
      pending.set(row.contact_id, row);
      // The apply may send it again (an outcome still unknown): it may come to claim that phone.
      if (row.op === 'upsert') claims.add(target.adapter.phoneOf(JSON.parse(row.payload) as Payload), row.contact_id);
    }
  }
  const name = target.name;
  const side: Side = {
    target,
    pending,
    claims,
    counts: emptyCounts(),
    baselineSize: 0,
    stateFingerprint: new Fingerprint(),
    // In the baseline, absent from the source: a delete (or an orphan where the provider cannot delete).
    baseline: new KeyedCursor(tap(state.baseline.keyPages(name, pageSize), (b) => {
      side.baselineSize++;
      side.stateFingerprint.add('baseline', b.contact_id, b.hash);
    }), (b) => {
      // Gone from the source: its claim stands until its delete is confirmed.
      claims.add(b.phone, b.contact_id);
      const inFlight = pending.get(b.contact_id);
      if (inFlight?.op === 'delete') return; // the journal finishes it first
      const op = target.adapter.capabilities.deleteMode === 'none' ? 'orphan' : 'delete';
      side.counts[op]++;
      staging.add(name, { op, contactId: b.contact_id, ordinal: -1, sourceKey: b.source_key, hash: b.hash, payload: null, payloadText: null });
      changes.add(name, op, b.contact_id, b.hash);
    }),
    // A rejection for a contact the source no longer has: nothing left to retry.
    rejections: new KeyedCursor(tap(state.rejections.keyPages(name, pageSize), (r) => {
      side.stateFingerprint.add('rejection', r.contact_id, r.hash, String(r.dead), r.next_attempt_at ?? '');
    }), (r) => staging.add(name, { op: 'forget', contactId: r.contact_id, ordinal: -1, sourceKey: '', hash: r.hash, payload: null, payloadText: null })),
  };
  return side;
}

function decide(
  side: Side,
  contact: Contact,
  key: string,
  ordinal: number,
  base: BaselineKey | undefined,
  rejection: RejectionKey | undefined,
  context: { full: boolean; nowIso: string; staging: Staging; changes: Fingerprint },
): number {
  const name = side.target.name;
  const contactId = contact.id;
  const payload = side.target.adapter.map(contact);
  // A baseline claim on another phone stands until this upsert is confirmed.
  if (base !== undefined && base.phone !== side.target.adapter.phoneOf(payload)) side.claims.add(base.phone, contactId);
  const text = canonicalJson(payload);
  const hash = canonicalHash(text);
  const pending = side.pending.get(contactId);
  // What the provider holds once the journal is finished: the in-flight upsert, else the baseline.
  const expected = pending === undefined ? base?.hash : pending.op === 'upsert' ? pending.hash : undefined;
  if (!context.full && expected === hash) {
    if (pending === undefined && base !== undefined && !isProviderKey(base.source_key, key, side.target.tag)) {
      context.staging.add(name, { op: 'rekey', contactId, ordinal, sourceKey: providerKey(key, side.target.tag), hash, payload: null, payloadText: null });
    }
    return UNCHANGED;
  }
  if (!context.full && rejection !== undefined && rejection.hash === hash && (rejection.dead === 1 || (rejection.next_attempt_at !== null && rejection.next_attempt_at > context.nowIso))) {
    return DEFERRED;
  }
  const op = base === undefined ? 'create' : 'update';
  context.staging.add(name, { op, contactId, ordinal, sourceKey: providerKey(key, side.target.tag), hash, payload, payloadText: text });
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
      payloadText: null,
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
