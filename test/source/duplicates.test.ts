import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DuplicatePhoneIndex, type PhoneClaim, resolveDuplicatePhones, winsPhone } from '../../src/source/duplicates.js';

const claim = (id: string, e164: string, updatedAt: string | null): PhoneClaim => ({ id, e164, updatedAt });

describe('winsPhone', () => {
  it('prefers the most recently updated row', () => {
    expect(winsPhone(claim('b', '+1', '2024-02-01T00:00:00Z'), claim('a', '+1', '2024-01-01T00:00:00Z'))).toBe(true);
    expect(winsPhone(claim('a', '+1', '2024-01-01T00:00:00Z'), claim('b', '+1', '2024-02-01T00:00:00Z'))).toBe(false);
  });

  it('breaks a tie with the smaller id, compared as binary strings', () => {
    const t = '2024-01-01T00:00:00Z';
    expect(winsPhone(claim('a', '+1', t), claim('b', '+1', t))).toBe(true);
    expect(winsPhone(claim('B', '+1', t), claim('a', '+1', t))).toBe(true); // "B" < "a" in binary order
    expect(winsPhone(claim('10', '+1', t), claim('9', '+1', t))).toBe(true); // not numeric order
    // Same instant written two ways is a tie.
    expect(winsPhone(claim('b', '+1', '2024-01-01T01:00:00+01:00'), claim('a', '+1', t))).toBe(false);
  });

  it('ranks an unknown or unreadable updated_at least recent', () => {
    expect(winsPhone(claim('z', '+1', '2020-01-01T00:00:00Z'), claim('a', '+1', null))).toBe(true);
    expect(winsPhone(claim('z', '+1', '2020-01-01T00:00:00Z'), claim('a', '+1', 'yesterday'))).toBe(true);
    expect(winsPhone(claim('a', '+1', null), claim('b', '+1', 'garbage'))).toBe(true); // both unknown: smaller id
  });
});

describe('DuplicatePhoneIndex', () => {
  it('reports each loser once and keeps the winner', () => {
    const index = new DuplicatePhoneIndex();
    expect(index.offer('a', '+14155552671', '2024-01-01T00:00:00Z')).toBeUndefined();
    expect(index.offer('b', '+442079460958', null)).toBeUndefined();
    // c is newer: a loses.
    expect(index.offer('c', '+14155552671', '2024-03-01T00:00:00Z')).toEqual({ loser: 0, winner: 2, phone: '+14155552671' });
    // d ties with c: c has the smaller id.
    expect(index.offer('d', '+14155552671', '2024-03-01T00:00:00Z')).toEqual({ loser: 3, winner: 2, phone: '+14155552671' });
    expect(index.winnerOf('+14155552671')).toBe(2);
    expect(index.winnerOf('+442079460958')).toBe(1);
    expect(index.winnerOf('+33612345678')).toBeUndefined();
    expect(index.size).toBe(2);
  });

  it('refuses ids out of order, since the tie-break relies on it', () => {
    const index = new DuplicatePhoneIndex();
    index.offer('b', '+14155552671', null);
    expect(() => index.offer('a', '+14155552672', null)).toThrow(/ascending order/);
  });

  it('agrees with the rule applied to the whole set, across table growth', () => {
    const phone = fc.integer({ min: 0, max: 40 }).map((n) => `+1415555${String(2000 + n)}`);
    const when = fc.option(fc.integer({ min: 0, max: 5 }).map((d) => `2024-01-0${d + 1}T00:00:00Z`), { nil: null });
    fc.assert(
      fc.property(fc.array(fc.tuple(phone, when), { minLength: 1, maxLength: 300 }), (rows) => {
        const claims = rows.map(([e164, updatedAt], i) => claim(`id${String(i).padStart(4, '0')}`, e164, updatedAt));
        const index = new DuplicatePhoneIndex();
        const lost = new Set<string>();
        for (const c of claims) {
          const loss = index.offer(c.id, c.e164, c.updatedAt);
          if (loss !== undefined) {
            expect(lost.has(claims[loss.loser]!.id)).toBe(false);
            lost.add(claims[loss.loser]!.id);
          }
        }
        const expected = resolveDuplicatePhones(claims);
        expect(lost).toEqual(new Set([...expected.values()].flatMap((e) => e.losers)));
        for (const [e164, { winner }] of expected) expect(claims[index.winnerOf(e164)!]!.id).toBe(winner);
      }),
    );
  });

  it('holds many distinct phones', () => {
    const index = new DuplicatePhoneIndex();
    let losses = 0;
    for (let i = 0; i < 50_000; i++) if (index.offer(`c${String(i).padStart(6, "0")}`, `+1212${String(1_000_000 + i)}`, null) !== undefined) losses++;
    expect(losses).toBe(0);
    expect(index.size).toBe(50_000);
    expect(index.winnerOf('+12121049999')).toBe(49_999);
  });
});
