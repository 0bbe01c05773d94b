import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunk, packBySize } from '../../src/http/batches.js';

describe('chunk', () => {
  it('splits into runs of at most `size`, in order', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 25)).toEqual([]);
    expect(() => chunk([1], 0)).toThrow(RangeError);
  });
});

describe('packBySize', () => {
  it('starts a new pack when the count or the byte budget would be exceeded', () => {
    const limits = { maxCount: 3, maxBytes: 10, separatorBytes: 1 };
    expect(packBySize([4, 4, 4, 1, 1, 1, 1], limits, (n) => n)).toEqual([[4, 4], [4, 1, 1], [1, 1]]);
    expect(() => packBySize([11], limits, (n) => n)).toThrow(RangeError);
  });

  it('keeps every item once, in order, each pack within both limits', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 50 })), fc.integer({ min: 1, max: 10 }), (sizes, maxCount) => {
        const limits = { maxCount, maxBytes: 100, separatorBytes: 1 };
        const packs = packBySize(sizes, limits, (n) => n);
        const bytes = (pack: number[]) => pack.reduce((a, b) => a + b, 0) + pack.length - 1;
        return packs.flat().join() === sizes.join() && packs.every((p) => p.length >= 1 && p.length <= maxCount && bytes(p) <= 100);
      }),
    );
  });
});
