import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/engine/hash.js';
import { sortedRecord } from '../../src/providers/sorted-record.js';

/** The definition: object keys sorted at every depth, undefined members left out, everything else as JSON.stringify. */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : reference(v))).join(',')}]`;
  const record = value as Record<string, unknown>;
  const members = Object.keys(record)
    .sort()
    .filter((key) => record[key] !== undefined)
    .map((key) => `${JSON.stringify(key)}:${reference(record[key])}`);
  return `{${members.join(',')}}`;
}

// Keys that sort differently as strings and as integers, and a few that sort near them.
const key = fc.oneof(fc.string({ maxLength: 3 }), fc.constantFrom('9', '10', '01', '-1', 'a', 'B', 'é', '__proto__', 'toJSON'));
const value = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(null, undefined, true, 0, -0, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 'x', '"quoted"\n'),
    fc.string(),
    fc.date({ noInvalidDate: true }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 5 }),
    // The same members, keys in ascending order: the fast path's case.
    fc.dictionary(key, tie('value'), { maxKeys: 5 }).map((record) => sortedRecord(record)),
    fc.dictionary(key, tie('value'), { maxKeys: 3, noNullPrototype: false }),
  ),
}));

describe('canonicalJson', () => {
  it('is the sorted-keys JSON of any value, whatever order its keys come in', () => {
    fc.assert(
      fc.property(value.value, (v) => {
        expect(canonicalJson(v)).toBe(reference(v));
      }),
      { numRuns: 2_000 },
    );
  });

  it('leaves out inherited keys, as JSON.stringify does, and takes a Date as an object with no keys', () => {
    const inherited = Object.create({ z: 1 }) as Record<string, unknown>;
    inherited.a = 1;
    expect(canonicalJson({ a: inherited })).toBe('{"a":{"a":1}}');
    expect(canonicalJson({ b: new Date(0), a: [undefined, () => 1] })).toBe('{"a":[null,null],"b":{}}');
    expect(canonicalJson({ 10: 'x', 9: 'y' })).toBe('{"10":"x","9":"y"}');
  });
});
