import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/engine/hash.js';
import { type StagedItem, type StagedOp, Staging } from '../../src/engine/staging.js';

const ops: StagedOp[] = ['create', 'update', 'delete', 'orphan', 'rekey', 'forget', 'invalid'];
const providers = ['twilio', 'trackly'];

const itemArb = fc.record({
  provider: fc.constantFrom(...providers),
  op: fc.constantFrom(...ops),
  contactId: fc.string({ maxLength: 6 }),
  ordinal: fc.integer({ min: -1, max: 1_000 }),
  // Any characters in the payload's strings, line breaks too (the spill keeps payload texts a line each).
  payload: fc.option(fc.record({ contact_id: fc.string(), name: fc.option(fc.string({ unit: 'binary' }), { nil: null }) }), { nil: null }),
  code: fc.option(fc.constantFrom('invalid_phone', 'duplicate_phone'), { nil: undefined }),
});

function staged(x: { op: StagedOp; contactId: string; ordinal: number; payload: StagedItem['payload']; code: string | undefined }, i: number): StagedItem {
  return {
    op: x.op,
    contactId: x.contactId,
    ordinal: x.ordinal,
    sourceKey: `k${i}`,
    hash: `h${i}`,
    payload: x.payload,
    payloadText: x.payload === null ? null : canonicalJson(x.payload),
    ...(x.code === undefined ? {} : { code: x.code, reason: `because ${i}` }),
  };
}

async function readAll(staging: Staging, provider: string, wanted: readonly StagedOp[], pageSize?: number): Promise<StagedItem[]> {
  const items: StagedItem[] = [];
  for await (const page of staging.read(provider, wanted, pageSize)) {
    expect(page.length).toBeGreaterThan(0);
    items.push(...page);
  }
  return items;
}

describe('Staging', () => {
  it('reads back what was added, per provider and ops, in the order added, whether or not it spilled', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(itemArb, { maxLength: 200 }),
        fc.integer({ min: 1, max: 150 }),
        fc.integer({ min: 1, max: 9 }),
        fc.subarray(ops, { minLength: 1 }),
        async (added, memoryLimit, spillPageSize, wanted) => {
          const staging = new Staging({ memoryLimit, spillPageSize });
          try {
            const items = added.map((x, i) => ({ provider: x.provider, item: staged(x, i) }));
            for (const { provider, item } of items) staging.add(provider, item);
            expect(staging.spilled).toBe(added.length >= memoryLimit);
            for (const provider of providers) {
              const expected = items.filter((x) => x.provider === provider && wanted.includes(x.item.op)).map((x) => x.item);
              expect(await readAll(staging, provider, wanted, 7)).toEqual(expected);
            }
          } finally {
            staging.close();
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('removes its scratch file on close and reads nothing for an unknown provider', async () => {
    const staging = new Staging({ memoryLimit: 2 });
    for (let i = 0; i < 5; i++) staging.add('twilio', staged({ op: 'create', contactId: `c${i}`, ordinal: i, payload: null, code: undefined }, i));
    expect(staging.spilled).toBe(true);
    expect(await readAll(staging, 'oliai', ops)).toEqual([]);
    expect((await readAll(staging, 'twilio', ['create'])).map((i) => i.contactId)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4']);
    staging.close();
    expect(staging.spilled).toBe(false);
  });
});
