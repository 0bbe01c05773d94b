/**
 * Seeded, random-access fake contacts: row `i` of a dataset is a pure function of (seed, i,
 * version), so a dataset can be generated in any order, re-generated exactly, and "changed" by
 * asking for a later version of some rows (same phone and country, new name, zip and time).
 *
 * Phones are valid numbers of twelve countries (checked against libphonenumber-js `max` metadata:
 * every 6-digit suffix of each prefix below is a valid number of that region; no NANP exchange is
 * 555, whose 0100-0199 lines are fictional and refused by Trackly's carrier check) and unique by
 * construction: ids are dealt to countries in blocks of `lanes.length` rows, and within a country
 * the k-th row gets subscriber slot k, spread over the prefixes and scrambled by a bijection of
 * the 6-digit suffixes, so no two rows share a phone.
 */
import { parsePhoneNumber } from 'libphonenumber-js';
import type { ContactsTable } from '../src/db/schema.js';
import { mulberry32 } from '../src/random.js';

interface Country {
  code: string;
  /** E.164 prefixes; each takes any 6 more digits. */
  prefixes: readonly string[];
  languages: readonly string[];
  zip: (random: Random) => string;
}

const digits = (random: Random, n: number): string => String(random.int(10 ** n)).padStart(n, '0');
const letter = (random: Random, alphabet = 'ABCDEFGHJKLMNPRSTUVWXYZ'): string => alphabet[random.int(alphabet.length)]!;

/** Canada Post never uses D, F, I, O, Q or U. */
const caLetters = 'ABCEGHJKLMNPRSTVWXYZ';

const countries: Record<string, Country> = {
  US: { code: 'US', prefixes: ['+12012', '+12124', '+14153', '+16467'], languages: ['en', 'es'], zip: (r) => String(10_000 + r.int(89_999)) },
  CA: { code: 'CA', prefixes: ['+14162', '+16043', '+15144', '+15066'], languages: ['en', 'fr'], zip: (r) => `${letter(r, 'ABCEGHJKLMNPRSTVXY')}${digits(r, 1)}${letter(r, caLetters)} ${digits(r, 1)}${letter(r, caLetters)}${digits(r, 1)}` },
  GB: { code: 'GB', prefixes: ['+447400', '+447401', '+447402', '+447403'], languages: ['en'], zip: (r) => `${letter(r)}${letter(r)}${1 + r.int(9)} ${digits(r, 1)}${letter(r)}${letter(r)}` },
  DE: { code: 'DE', prefixes: ['+4915100', '+4915101', '+4915102', '+4915103'], languages: ['de'], zip: (r) => digits(r, 5) },
  FR: { code: 'FR', prefixes: ['+33600', '+33601', '+33602', '+33603'], languages: ['fr'], zip: (r) => digits(r, 5) },
  IN: { code: 'IN', prefixes: ['+918100', '+918101', '+918102', '+918103'], languages: ['hi', 'en', 'ta'], zip: (r) => String(100_000 + r.int(899_999)) },
  BR: { code: 'BR', prefixes: ['+5511900', '+5511901', '+5511902', '+5511903'], languages: ['pt'], zip: (r) => `${digits(r, 5)}-${digits(r, 3)}` },
  AU: { code: 'AU', prefixes: ['+61400', '+61401', '+61402', '+61403'], languages: ['en'], zip: (r) => String(1_000 + r.int(8_999)) },
  MX: { code: 'MX', prefixes: ['+522200', '+522201', '+522202', '+522203'], languages: ['es'], zip: (r) => digits(r, 5) },
  ES: { code: 'ES', prefixes: ['+34600', '+34601', '+34602', '+34603'], languages: ['es', 'ca'], zip: (r) => digits(r, 5) },
  IT: { code: 'IT', prefixes: ['+393100', '+393101', '+393102', '+393103'], languages: ['it'], zip: (r) => digits(r, 5) },
  NL: { code: 'NL', prefixes: ['+31610', '+31611', '+31612', '+31613'], languages: ['nl', 'en'], zip: (r) => `${1_000 + r.int(8_999)} ${letter(r)}${letter(r)}` },
};

/** Each block of 20 consecutive rows holds this many rows per country (the country mix). */
const lanes: readonly string[] = ['US', 'US', 'US', 'US', 'US', 'US', 'IN', 'IN', 'GB', 'GB', 'BR', 'BR', 'CA', 'DE', 'FR', 'AU', 'MX', 'ES', 'IT', 'NL'];
const lanesOf = new Map<string, number[]>();
lanes.forEach((code, lane) => lanesOf.set(code, [...(lanesOf.get(code) ?? []), lane]));
const suffixes = 1_000_000;
/** Rows the scheme can hold before a country runs out of phone numbers. */
export const maxContacts = Math.min(...[...lanesOf].map(([code, own]) => Math.floor((countries[code]!.prefixes.length * suffixes) / own.length))) * lanes.length;

const firstNames = ['Ada', 'Grace', 'Alan', 'Linus', 'Ana', 'João', 'Priya', 'Arjun', 'Chloé', 'Lukas', 'Sofia', 'Mateo', 'Emma', 'Noah', 'Aiko', 'Olivia', 'Liam', 'Zoë', 'Björn', 'Fatima', 'Wei', 'Diego', 'Hannah', 'Ravi'];
const lastNames = ['Lovelace', 'Hopper', 'Turing', 'Torvalds', 'Silva', 'Souza', 'Patel', 'Sharma', 'Martin', 'Müller', 'Rossi', 'García', 'Smith', 'Jones', 'Tanaka', "O'Brien", 'Nguyen', 'van Dijk', 'Kowalski', 'Haddad', 'Chen', 'López', 'Schmidt', 'Iyer'];
const plans = ['free', 'starter', 'pro', 'enterprise'];
const channels = ['web', 'store', 'referral', 'import', 'api'];

/** Draws from a seeded PRNG (src/random.ts). */
export class Random {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/** Mixes integers into one 32-bit seed (murmur3 finaliser per part), so nearby inputs give unrelated streams. */
export function mix(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    let k = Math.imul(part | 0, 0xcc9e2d51) ^ Math.floor(part / 4294967296);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    h = Math.imul(((h ^ k) << 13) | ((h ^ k) >>> 19), 5) + 0xe6546b64;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Ids sort in generation order (binary order of zero-padded decimals). */
export function contactId(index: number): string {
  return `ct-${String(index).padStart(9, '0')}`;
}

/** The country and E.164 phone of row `index`: fixed across versions. */
export function phoneOf(seed: number, index: number): { country: Country; e164: string } {
  const block = Math.floor(index / lanes.length);
  const lane = shuffledLanes(seed, block)[index % lanes.length]!;
  const code = lanes[lane]!;
  const own = lanesOf.get(code)!;
  const country = countries[code]!;
  // k-th row of this country overall: unique per (block, lane).
  const k = block * own.length + own.indexOf(lane);
  const prefix = country.prefixes[k % country.prefixes.length]!;
  const slot = Math.floor(k / country.prefixes.length);
  if (slot >= suffixes) throw new RangeError(`more than ${maxContacts} contacts: ${code} ran out of phone numbers`);
  // An affine bijection of the 6-digit suffixes (the multiplier is prime to 10^6), seeded.
  const suffix = (slot * 7_919 + (seed % suffixes) * 104_729) % suffixes;
  return { country, e164: prefix + String(suffix).padStart(6, '0') };
}

const laneCache = { seed: -1, block: -1, order: [] as number[] };

function shuffledLanes(seed: number, block: number): number[] {
  if (laneCache.seed === seed && laneCache.block === block) return laneCache.order;
  const order = lanes.map((_, i) => i);
  const random = new Random(mix(seed, block, 0x1a4e));
  for (let i = order.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  Object.assign(laneCache, { seed, block, order });
  return order;
}

const epoch = Date.UTC(2024, 0, 1);
const dayMs = 86_400_000;

/**
 * Row `index` of dataset `seed` as the `contacts` table stores it. Version 0 is the original;
 * a later version is the same person (phone, country, language, attributes) with a new name,
 * a new zip (they moved) and a later `updated_at`.
 */
export function fakeContact(seed: number, index: number, version = 0): ContactsTable {
  const { country, e164 } = phoneOf(seed, index);
  const stable = new Random(mix(seed, index, 0));
  const format = stable.next();
  // 70 % E.164, 20 % national format (read in the row's country), 10 % international with spaces.
  const phone = format < 0.7 ? e164 : format < 0.9 ? parsePhoneNumber(e164).formatNational() : parsePhoneNumber(e164).formatInternational();
  // Some rows leave the country to be taken from the phone (never a national-format one).
  const countryColumn = format >= 0.7 && format < 0.9 ? country.code : stable.next() < 0.1 ? null : country.code;
  const language = stable.next() < 0.1 ? null : stable.pick(country.languages);
  const attributes =
    stable.next() < 0.3 ? null : JSON.stringify({ plan: stable.pick(plans), channel: stable.pick(channels), vip: stable.next() < 0.05, score: stable.int(1000) });

  const changing = new Random(mix(seed, index, 1 + version));
  const zip = zipOf(country, seed, index, version);
  const name = `${changing.pick(firstNames)} ${changing.pick(lastNames)}`;
  const updatedMs = epoch + version * 30 * dayMs + changing.int(30 * dayMs);
  return { id: contactId(index), phone, name, language, country: countryColumn, zip, attributes, updated_at: new Date(updatedMs).toISOString() };
}

/** A zip of the row's country that differs from the previous version's, so every provider's payload changes. */
function zipOf(country: Country, seed: number, index: number, version: number): string {
  const random = new Random(mix(seed, index, 0x21b, version));
  const previous = version === 0 ? undefined : zipOf(country, seed, index, version - 1);
  for (;;) {
    const zip = country.zip(random);
    if (zip !== previous) return zip;
  }
}

/** `count` distinct row indexes of [0, n), seeded: the rows a "change" touches. */
export function sampleIndexes(seed: number, n: number, count: number): number[] {
  if (count > n) throw new RangeError(`cannot pick ${count} of ${n} rows`);
  const random = new Random(mix(seed, n, 0xc4a9));
  const picked = new Set<number>();
  while (picked.size < count) picked.add(random.int(n));
  return [...picked].sort((a, b) => a - b);
}
