/**
 * Stable fingerprints: canonical JSON (sorted keys, recursive), payload hashes, Twilio correlation
 * ids, and the cheap source-row key that lets the planner skip unchanged rows without normalising,
 * mapping or hashing their payloads again.
 */
import * as crypto from 'node:crypto';
import type { Payload } from '../providers/types.js';
import type { SourceContact } from '../source/contact.js';

/**
 * Bump when normalisation or any mapping changes what a source row becomes, or when the source
 * key's format changes: every row then counts as changed once (re-mapped, re-hashed; sent only
 * where its payload really differs, otherwise only its baseline key is rewritten).
 * 2: the key hashes length-prefixed fields and the attributes text as stored.
 */
export const MAPPING_VERSION = 2;

// crypto.hash (Node >= 20.12) is a one-shot digest, about twice as fast on short inputs.
const digestAs: (algorithm: string, data: string, encoding: 'base64url' | 'hex') => string =
  typeof crypto.hash === 'function'
    ? (algorithm, data, encoding) => crypto.hash(algorithm, data, encoding)
    : (algorithm, data, encoding) => crypto.createHash(algorithm).update(data).digest(encoding);
const digest = (algorithm: string, data: string): string => digestAs(algorithm, data, 'base64url');

/** JSON with object keys sorted at every depth; `undefined` members are omitted as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  // Most payloads are built with their keys in order (or have parts that are): JSON.stringify of
  // such a value is its canonical text, at a fraction of the cost of the loop below.
  return isCanonical(value) ? JSON.stringify(value) : sortedJson(value);
}

function sortedJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  // Loops and string concatenation, not filter/map/join: this runs for every payload of every plan.
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + (value[i] === undefined ? 'null' : canonicalJson(value[i]));
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  for (const key of keys) {
    const member = record[key];
    if (member === undefined) continue;
    out += (out.length === 1 ? '' : ',') + JSON.stringify(key) + ':' + canonicalJson(member);
  }
  return `${out}}`;
}

/**
 * Whether JSON.stringify(value) is already its canonical text: only JSON data (no undefined,
 * functions, symbols, bigints or objects with a toJSON of their own prototype, such as Dates), every
 * plain object's keys in strictly ascending order as they are iterated (integer-like keys iterate
 * first, so an object holding "10" and "9" does not pass). Allocates nothing.
 */
function isCanonical(value: unknown): boolean {
  if (value === null) return true;
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'number':
      return true;
    case 'object':
      break;
    default:
      return false;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!isCanonical(value[i])) return false;
    return true;
  }
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return false;
  const record = value as Record<string, unknown>;
  let previous: string | undefined;
  for (const key in record) {
    // for…in also walks inherited enumerable keys, which JSON.stringify leaves out.
    if (!Object.hasOwn(record, key)) return false;
    if (previous !== undefined && !(previous < key)) return false;
    previous = key;
    if (!isCanonical(record[key])) return false;
  }
  return true;
}

export function payloadHash(payload: Payload): string {
  return canonicalHash(canonicalJson(payload));
}

/** The payload hash of a payload's canonical JSON (for a caller that keeps the text too). */
export function canonicalHash(text: string): string {
  return digest('sha256', text);
}

/** 32 lowercase hex: the same (tenant, contact, payload) always gets the same id, so a replay is idempotent. */
export function correlationId(tenant: string, contactId: string, hash: string): string {
  return digestAs('sha256', `${tenant}\u0000${contactId}\u0000${hash}`, 'hex').slice(0, 32);
}

/**
 * Fingerprint of everything in a raw source row that can reach a payload (not `updated_at`, which
 * only ranks duplicates), plus the default country and the mapping version. Called for every row of
 * every plan, so it is one string for one native digest: fields are length-prefixed (null is "-"),
 * which keeps the encoding unambiguous without escaping, and the attributes are taken as the source
 * stores them when it stores text.
 */
export function sourceKey(row: SourceContact, defaultCountry: string | undefined): string {
  const attributes = row.attributesText ?? (isEmpty(row.attributes) ? '{}' : canonicalJson(row.attributes));
  return digest(
    'sha1',
    `${MAPPING_VERSION}${field(defaultCountry ?? null)}${field(row.id)}${field(row.phone)}${field(row.name)}${field(row.language)}${field(row.country)}${field(row.zip)}${field(attributes)}`,
  );
}

function field(value: string | null): string {
  return value === null ? '-' : `${value.length}:${value}`;
}

function isEmpty(object: object): boolean {
  for (const _ in object) return false;
  return true;
}

/** The key a provider's baseline row holds: the source key followed by the provider's mapping tag. */
export function providerKey(key: string, tag: string): string {
  return key + tag;
}

/** Whether `stored` is `providerKey(key, tag)`, without building that string (it is asked for every row and provider). */
export function isProviderKey(stored: string, key: string, tag: string): boolean {
  return stored.length === key.length + tag.length && stored.startsWith(key) && stored.endsWith(tag);
}

/** A short tag of a provider's mapping-relevant settings, appended to source keys per provider. */
export function mappingTag(settings: Record<string, unknown>): string {
  return digest('sha1', canonicalJson(settings)).slice(0, 8);
}

/**
 * An incremental fingerprint over a sequence of strings (plan files' source and state fingerprints).
 * Entries are gathered into one string and hashed about 64 K characters at a time: the digest is
 * the same as hashing each entry as it comes, at a fraction of the native calls (the planner adds
 * one entry per source row and per baseline row).
 */
export class Fingerprint {
  readonly #hash = crypto.createHash('sha256');
  #pending = '';

  add(...parts: string[]): void {
    let entry = parts.length === 0 ? '' : parts[0]!;
    for (let i = 1; i < parts.length; i++) entry += '\u0000' + parts[i]!;
    this.#pending += entry + '\u0001';
    if (this.#pending.length >= flushChars) this.#flush();
  }

  digest(): string {
    this.#flush();
    return this.#hash.digest('hex');
  }

  #flush(): void {
    this.#hash.update(this.#pending);
    this.#pending = '';
  }
}

const flushChars = 1 << 16;
