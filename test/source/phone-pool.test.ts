/**
 * The phone pool as the product runs it: from dist/ (built by the global setup), where the worker
 * script exists, so pages of 256 rows or more are normalised in the worker thread.
 */
import { describe, expect, it } from 'vitest';
import type { SourceContact } from '../../src/source/contact.js';
import { toContact } from '../../src/source/normalise.js';

const compiled = '../../dist/src/source/phone-pool.js';
const { pageNormaliser } = (await import(compiled)) as typeof import('../../src/source/phone-pool.js');

const samples: [string | null, string | null][] = [
  ['+14155552671', null],
  ['(415) 555-2672', 'us'],
  ['020 7946 0958', 'GB'],
  ['0044 20 7946 0959', null],
  ['+49 1512 3456789', null],
  ['12', 'US'],
  ['+1 415 555 2671 ext. 7', null],
  [null, null],
  ['call me', 'FR'],
  ['06 12 34 56 78', 'FR'],
];

function rows(n: number): SourceContact[] {
  return Array.from({ length: n }, (_, i) => {
    const [phone, country] = samples[i % samples.length]!;
    return { id: `c${String(i).padStart(5, '0')}`, phone, name: `n${i}`, language: null, country, zip: null, attributes: {}, updatedAt: null };
  });
}

describe('pageNormaliser', () => {
  it('gives, through the worker thread, exactly what toContact gives in this one', async () => {
    const page = rows(1_000);
    const normalise = pageNormaliser('US');
    const [first, second] = await Promise.all([normalise(page), normalise(page.slice(0, 300))]);
    expect(first).toEqual(page.map((row) => toContact(row, 'US')));
    expect(second).toEqual(page.slice(0, 300).map((row) => toContact(row, 'US')));
    expect(first.filter((r) => r.ok)).toHaveLength(600);
  });

  it('normalises small pages in this thread, with the same results', async () => {
    const page = rows(20);
    expect(await pageNormaliser(undefined)(page)).toEqual(page.map((row) => toContact(row, undefined)));
  });
});
