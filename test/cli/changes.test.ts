import { describe, expect, it } from 'vitest';
import { fieldChanges } from '../../src/cli/output/changes.js';

describe('fieldChanges', () => {
  it('names the fields that moved, nested ones dotted, whatever order the keys of a value come in', () => {
    // The baseline keeps a payload as canonical JSON (keys sorted); a fresh mapping keeps its own order.
    const before = { zip: '94105', metadata: { tags: [{ b: 1, a: 2 }], vip: true } };
    const after = { metadata: { vip: false, tags: [{ a: 2, b: 1 }] }, zip: '94107' };
    expect(fieldChanges(before, after)).toEqual(['metadata.vip true -> false', 'zip "94105" -> "94107"']);
  });

  it('tells an absent field from a null one', () => {
    expect(fieldChanges({ language: null }, {})).toEqual(['language null -> (none)']);
    expect(fieldChanges(null, { name: 'Ann' })).toEqual(['name (none) -> "Ann"']);
  });
});
