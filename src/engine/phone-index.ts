/**
 * The duplicate-phone rule over a whole source read (SPEC section 4: the most recently updated row
 * wins, a tie goes to the smaller id, the others are `duplicate_phone`). Rows arrive in ascending id
 * order, so a smaller ordinal is a smaller id. Kept compact for a million rows: an open-addressing
 * table keyed by the E.164 digits as a number (15 digits fit a double exactly), holding the winning
 * ordinal and its update time in typed arrays.
 */
export interface DuplicateLoss {
  loser: number;
  phone: string;
}

export class PhoneIndex {
  #keys = new Float64Array(1 << 12); // 0 = empty slot (no E.164 number is 0)
  #winner = new Uint32Array(1 << 12);
  #updated = new Float64Array(1 << 12);
  #size = 0;
  readonly losses: DuplicateLoss[] = [];

  /** Offers row `ordinal` with its phone and update time (ms; -Infinity when unknown). */
  offer(phone: string, updatedMs: number, ordinal: number): void {
    if (this.#size * 2 >= this.#keys.length) this.#grow();
    const key = phoneKey(phone);
    const slot = this.#find(key);
    if (this.#keys[slot] === 0) {
      this.#keys[slot] = key;
      this.#winner[slot] = ordinal;
      this.#updated[slot] = updatedMs;
      this.#size++;
      return;
    }
    // Later rows have larger ids, so they win only when strictly more recent.
    if (updatedMs > this.#updated[slot]!) {
      this.losses.push({ loser: this.#winner[slot]!, phone });
      this.#winner[slot] = ordinal;
      this.#updated[slot] = updatedMs;
    } else {
      this.losses.push({ loser: ordinal, phone });
    }
  }

  /** The ordinal of the row that holds `phone`, if any row does. */
  winnerOf(phone: string): number | undefined {
    const slot = this.#find(phoneKey(phone));
    return this.#keys[slot] === 0 ? undefined : this.#winner[slot];
  }

  #find(key: number): number {
    const mask = this.#keys.length - 1;
    // Fibonacci-style mixing of the low and high halves of the number.
    let slot = (Math.imul((key % 0x100000000) ^ Math.floor(key / 0x100000000), 0x9e3779b1) >>> 0) & mask;
    while (this.#keys[slot] !== 0 && this.#keys[slot] !== key) slot = (slot + 1) & mask;
    return slot;
  }

  #grow(): void {
    const keys = this.#keys;
    const winner = this.#winner;
    const updated = this.#updated;
    this.#keys = new Float64Array(keys.length * 2);
    this.#winner = new Uint32Array(keys.length * 2);
    this.#updated = new Float64Array(keys.length * 2);
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === 0) continue;
      const slot = this.#find(keys[i]!);
      this.#keys[slot] = keys[i]!;
      this.#winner[slot] = winner[i]!;
      this.#updated[slot] = updated[i]!;
    }
  }
}

/** The E.164 digits as a number (without building the digit string: it is done for every row). */
function phoneKey(e164: string): number {
  let key = 0;
  for (let i = 1; i < e164.length; i++) key = key * 10 + (e164.charCodeAt(i) - 48);
  return key;
}

/** A row's `updated_at` as milliseconds; unknown or unparsable ranks as least recent. */
export function updatedMs(updatedAt: string | null): number {
  if (updatedAt === null) return Number.NEGATIVE_INFINITY;
  let ms = utcIsoMs(updatedAt);
  if (Number.isNaN(ms)) ms = Date.parse(updatedAt);
  return Number.isNaN(ms) ? Number.NEGATIVE_INFINITY : ms;
}

/**
 * The common spellings of a UTC time, "YYYY-MM-DDTHH:MM:SSZ" and "YYYY-MM-DDTHH:MM:SS.sssZ", read
 * as Date.parse reads them at a tenth of its cost (every row is ranked); NaN for anything else.
 */
export function utcIsoMs(text: string): number {
  const n = text.length;
  if ((n !== 20 && n !== 24) || text.charCodeAt(n - 1) !== 90 /* Z */) return Number.NaN;
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 84 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return Number.NaN;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  let milli = 0;
  if (n === 24) {
    if (text.charCodeAt(19) !== 46 /* . */) return Number.NaN;
    milli = digits(text, 20, 3);
  }
  // Out-of-range fields (and non-digits, which make NaN) are left to Date.parse.
  if (!(month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 59 && milli >= 0)) return Number.NaN;
  return (((daysFromCivil(year, month) + day - 1) * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + milli;
}

function digits(text: string, from: number, count: number): number {
  let value = 0;
  for (let i = from; i < from + count; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return Number.NaN;
    value = value * 10 + digit;
  }
  return value;
}

/** Days from 1970-01-01 to the first of `month` (1-12) of `year` in the proleptic Gregorian calendar. */
function daysFromCivil(year: number, month: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5);
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}
