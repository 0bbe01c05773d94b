import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runSync } from '../../src/engine/sync.js';
import type { SourceContact } from '../../src/source/contact.js';
import { contact, openHarness } from './harness.js';
import { stateBackends } from '../helpers/stores.js';
import { desiredRemote, sorted, winners } from './reference.js';

// Small pools so that phone collisions, swaps, invalid rows and unusual ids happen often.
const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'Z', 'ä', 'é', '😀', '\uE000', 'a1', 'a10', 'a2'];
const phones = ['+14155550001', '+14155550002', '+14155550003', '+14155550004', '+14155550005', '+14155550006', null, 'bad'];
const rowArb = (id: string) =>
  fc.record({ phone: fc.constantFrom(...phones), name: fc.constantFrom('Ann', 'Bob', null), updated: fc.integer({ min: 0, max: 3 }) }).map(
    (r): SourceContact => contact(id, r.phone, { name: r.name, updatedAt: `2024-01-0${r.updated + 1}T00:00:00Z` }),
  );
const sourceArb = fc.subarray(ids).chain((chosen) => fc.tuple(...chosen.map(rowArb)));

describe.each(stateBackends)('planner properties (fake provider) ($name)', (backend) => {
  it('applying the plan yields the desired state, and a re-plan of the same source is empty', async () => {
    await fc.assert(
      fc.asyncProperty(sourceArb, sourceArb, fc.boolean(), async (before, after, spill) => {
        const h = await openHarness({ backend });
        try {
          const rt = h.runtime({ tuning: { stagingMemoryLimit: spill ? 3 : 50_000 } });
          const provider = h.providers[0]!;
          for (const rows of [before, after]) {
            const delivered = new Map(
              (await h.store.db.selectFrom('cs_baseline').selectAll().execute()).map((b) => [b.contact_id, { phone: b.phone, payload: JSON.parse(b.payload) }]),
            );
            h.source.set(rows);
            const run = await runSync(rt, { allowDeletes: true });
            expect(run.report.status === 'ok' || run.report.status === 'partial').toBe(true);
            const desired = desiredRemote(provider, rows, delivered);
            expect(sorted(provider.remote)).toEqual(sorted(desired.remote));
            // The baseline claims exactly what the provider holds.
            const baseline = await h.store.db.selectFrom('cs_baseline').selectAll().execute();
            expect(baseline.map((b) => [b.phone, JSON.parse(b.payload)]).sort()).toEqual(sorted(provider.remote).sort());
            expect(baseline.map((b) => b.contact_id).sort()).toEqual(desired.contacts.sort());
          }
          const calls = provider.calls.length;
          const again = await runSync(rt, { dryRun: true });
          expect(again.report.providers.alpha!.planned).toMatchObject({ create: 0, update: 0, delete: 0, orphan: 0 });
          expect(again.report.providers.alpha!.planned.invalid).toBe(after.length - winners(after).length);
          expect(provider.calls.length).toBe(calls);
        } finally {
          await h.close();
        }
      }),
      { numRuns: 40 },
    );
  });

  it('never plans a delete from an incomplete source read', async () => {
    await fc.assert(
      fc.asyncProperty(sourceArb, fc.integer({ min: 0, max: 15 }), async (rows, failAfter) => {
        fc.pre(failAfter < rows.length);
        const h = await openHarness({ backend });
        try {
          const rt = h.runtime();
          h.source.set(rows);
          await runSync(rt, { allowDeletes: true });
          const delivered = new Map(h.providers[0]!.remote);
          h.source.failAfter = failAfter;
          const calls = h.providers[0]!.calls.length;
          await expect(runSync(rt, { allowDeletes: true })).rejects.toThrow('source read failed midway');
          expect(h.providers[0]!.calls.length).toBe(calls);
          expect(h.providers[0]!.remote).toEqual(delivered);
          const runs = await h.store.db.selectFrom('cs_runs').select('status').orderBy('started_at').execute();
          expect(runs.at(-1)?.status).toBe('failed');
        } finally {
          await h.close();
        }
      }),
      { numRuns: 20 },
    );
  });

  it('duplicate phones: the most recently updated row wins, a tie goes to the smaller id', async () => {
    const h = await openHarness({ backend });
    try {
      h.source.set([
        contact('b', '+14155550001', { updatedAt: '2024-02-01T00:00:00Z' }),
        contact('a', '+14155550001', { updatedAt: '2024-01-01T00:00:00Z' }),
        contact('c', '+14155550002', { updatedAt: '2024-01-01T00:00:00Z' }),
        contact('d', '+14155550002', { updatedAt: '2024-01-01T00:00:00Z' }),
      ]);
      const run = await runSync(h.runtime());
      expect(run.report.status).toBe('partial');
      expect(run.problems.map((p) => [p.contactId, p.code]).sort()).toEqual([
        ['a', 'duplicate_phone'],
        ['d', 'duplicate_phone'],
      ]);
      expect(run.problems.find((p) => p.contactId === 'a')!.reason).toContain('contact b');
      expect([...h.providers[0]!.remote.values()].map((p) => p.name).sort()).toEqual(['name b', 'name c']);
    } finally {
      await h.close();
    }
  });
});
