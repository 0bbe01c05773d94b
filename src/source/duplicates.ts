/**
 * The duplicate-phone rule (SPEC section 4): when several rows normalise to one phone, the most
 * recently updated row wins (a row whose updated_at is unknown ranks least recent); on a tie the
 * smaller id (binary order) wins; the others are rejected as `duplicate_phone`.
 *
 * `DuplicatePhoneIndex` applies the rule in one streaming pass over rows read in ascending id
 * order (as the SourceReader yields them), holding only numbers: the E.164 digits as a float64
 * key (at most 15 digits, exact in a double), the winner's ordinal (uint32) and its update time
 * (float64) in open-addressing typed arrays kept at most half full. That is 20 bytes a slot, so
 * 40 to 80 bytes per distinct phone (about 64 MB for 1,000,000 phones at the worst point, while
 * the table doubles), with no per-entry objects for the garbage collector. Ids are not stored:
 * the caller maps ordinals back to ids (it numbered the rows).
 */
import { compareKeys } from '../engine/key-order.js';

export interface PhoneClaim {
  id: string;
  /** The normalised phone, E.164. */
  e164: string;
  /** ISO 8601, or null when unknown. */
  updatedAt: string | null;
}

/** A row's `updated_at` as epoch milliseconds; unknown or unparsable ranks least recent. */
export function updatedMs(updatedAt: string | null): number {
  if (updatedAt === null) return Number.NEGATIVE_INFINITY;
  const ms = Date.parse(updatedAt);
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
}

/** Ids compare in binary UTF-8 order, the order the source is read in (SQLite BINARY, PostgreSQL COLLATE "C"). */
function idBefore(a: string, b: string): boolean {
  return compareKeys(a, b) < 0;
}

/** The rule itself: does `a` keep the phone over `b`? */
export function winsPhone(a: PhoneClaim, b: PhoneClaim): boolean {
  const ta = updatedMs(a.updatedAt);
  const tb = updatedMs(b.updatedAt);
  return ta !== tb ? ta > tb : idBefore(a.id, b.id);
}

/** A row that lost its phone to another: `loser` and `winner` are ordinals (the order rows were offered). */
export interface DuplicateLoss {
  loser: number;
  winner: number;
  phone: string;
}

export class DuplicatePhoneIndex {
  #keys = new Float64Array(1 << 12); // 0 = empty slot: no E.164 number is +0
  #winner = new Uint32Array(1 << 12);
  #updated = new Float64Array(1 << 12);
  #size = 0;
  #offered = 0;
  #lastId: string | undefined;

  /** Distinct phones offered so far. */
  get size(): number {
    return this.#size;
  }

  /**
   * Offers the next row (ids must ascend: the ordinal order is the id order the tie-break needs).
   * Returns the row that lost, if this phone was already claimed, else undefined.
   */
  offer(id: string, e164: string, updatedAt: string | null): DuplicateLoss | undefined {
    if (this.#lastId !== undefined && !idBefore(this.#lastId, id)) throw new RangeError(`ids must be offered in ascending order: "${id}" came after "${this.#lastId}"`);
    this.#lastId = id;
    return this.offerOrdinal(e164, updatedMs(updatedAt), this.#offered);
  }

  /**
   * Lower-level form for callers that number rows themselves: `ordinal` must ascend with the id.
   * `updated` is epoch milliseconds (-Infinity when unknown).
   */
  offerOrdinal(e164: string, updated: number, ordinal: number): DuplicateLoss | undefined {
    this.#offered = ordinal + 1;
    if (this.#size * 2 >= this.#keys.length) this.#grow();
    const key = phoneKey(e164);
    const slot = this.#slotOf(key);
    if (this.#keys[slot] === 0) {
      this.#keys[slot] = key;
      this.#winner[slot] = ordinal;
      this.#updated[slot] = updated;
      this.#size++;
      return undefined;
    }
    const holder = this.#winner[slot]!;
    // The holder has the smaller id, so the newcomer wins only when strictly more recent.
    if (updated > this.#updated[slot]!) {
      this.#winner[slot] = ordinal;
      this.#updated[slot] = updated;
      return { loser: holder, winner: ordinal, phone: e164 };
    }
    return { loser: ordinal, winner: holder, phone: e164 };
  }

  /** The ordinal of the row holding `e164` now, if any. */
  winnerOf(e164: string): number | undefined {
    const slot = this.#slotOf(phoneKey(e164));
    return this.#keys[slot] === 0 ? undefined : this.#winner[slot];
  }

  #slotOf(key: number): number {
    const mask = this.#keys.length - 1;
    // Mix the low and high 32 bits of the number (Fibonacci hashing), then probe linearly.
    let slot = (Math.imul((key % 0x100000000) ^ Math.floor(key / 0x100000000), 0x9e3779b1) >>> 0) & mask;
    while (this.#keys[slot] !== 0 && this.#keys[slot] !== key) slot = (slot + 1) & mask;
    return slot;
  }

  #grow(): void {
    const [keys, winner, updated] = [this.#keys, this.#winner, this.#updated];
    const size = keys.length * 2;
    [this.#keys, this.#winner, this.#updated] = [new Float64Array(size), new Uint32Array(size), new Float64Array(size)];
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === 0) continue;
      const slot = this.#slotOf(keys[i]!);
      this.#keys[slot] = keys[i]!;
      this.#winner[slot] = winner[i]!;
      this.#updated[slot] = updated[i]!;
    }
  }
}

function phoneKey(e164: string): number {
  const key = Number(e164.slice(1));
  if (!Number.isSafeInteger(key) || key <= 0 || e164[0] !== '+') throw new RangeError(`not an E.164 number: "${e164}"`);
  return key;
}

/**
 * The rule over a whole list, in any order: for each phone held by several claims, the winner's id
 * and the losers' ids. For checks and small sets; the planner streams through DuplicatePhoneIndex.
 */
export function resolveDuplicatePhones(claims: Iterable<PhoneClaim>): Map<string, { winner: string; losers: string[] }> {
  const byPhone = new Map<string, PhoneClaim[]>();
  for (const claim of claims) {
    const list = byPhone.get(claim.e164);
    if (list === undefined) byPhone.set(claim.e164, [claim]);
    else list.push(claim);
  }
  const out = new Map<string, { winner: string; losers: string[] }>();
  for (const [phone, list] of byPhone) {
    if (list.length < 2) continue;
    const winner = list.reduce((best, claim) => (winsPhone(claim, best) ? claim : best));
    out.set(phone, { winner: winner.id, losers: list.filter((c) => c !== winner).map((c) => c.id) });
  }
  return out;
}
