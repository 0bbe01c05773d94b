import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runSync } from '../../src/engine/sync.js';
import type { Payload } from '../../src/providers/types.js';
import type { SourceContact } from '../../src/source/contact.js';
import { type BatchFate, FakeProvider, type ItemFate } from './fake-provider.js';
import { type Harness, contact, openHarness } from './harness.js';
import { stateBackends } from '../helpers/stores.js';
import { desiredRemote, sorted } from './reference.js';

const phones = Array.from({ length: 12 }, (_, i) => `+1415555${String(1000 + i)}`);
const sourceArb = fc
  .uniqueArray(fc.record({ id: fc.stringMatching(/^[a-z]{1,3}$/), phone: fc.constantFrom(...phones), name: fc.constantFrom('Ann', 'Bob') }), {
    selector: (r) => r.id,
    maxLength: 14,
  })
  .map((rows) => rows.map((r): SourceContact => contact(r.id, r.phone, { name: r.name })));

/**
 * The baseline never claims what the provider does not hold, except where a journaled batch whose
 * outcome is still unknown touches that phone (it may or may not have been applied: recovery decides).
 */
async function expectBaselineHeld(h: Harness, remote: Map<string, Payload>): Promise<void> {
  const baseline = await h.store.db.selectFrom('cs_baseline').selectAll().execute();
  const inFlight = new Set<string>();
  for (const row of await h.store.db.selectFrom('cs_outbox').selectAll().execute()) {
    for (const payload of [row.payload, row.previous]) if (payload !== null) inFlight.add(JSON.parse(payload).phone as string);
  }
  for (const row of baseline) {
    if (!inFlight.has(row.phone)) expect(remote.get(row.phone)).toEqual(JSON.parse(row.payload));
  }
}

describe.each(stateBackends)('journal property: crashes and per-item outcomes ($name)', (backend) => {
  it('after recovery the baseline only claims what the provider holds, and the state converges', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.tuple(sourceArb, sourceArb),
        // Transient failures strike any call; a rejection is a property of the contact (as a bad zip is).
        fc.array(fc.constantFrom<ItemFate>('ok', 'ok', 'ok', 'retryable'), { minLength: 64, maxLength: 64 }),
        fc.subarray(['a', 'b', 'c', 'd', 'e']),
        fc.array(fc.constantFrom<BatchFate>('ok', 'ok', 'throwBefore', 'throwAfter', 'hang'), { minLength: 16, maxLength: 16 }),
        async ([first, second], itemFates, rejectedIds, batchFates) => {
          const h = await openHarness({ backend });
          const remote = new Map<string, Payload>();
          let now = Date.parse('2024-06-01T00:00:00Z');
          let items = 0;
          let batches = 0;
          const runOnce = async (rows: SourceContact[], faulty: boolean) => {
            // A fresh adapter per run: a hung request belongs to a process that is gone.
            const fake = new FakeProvider('alpha', { remote, observer: h.requests });
            if (faulty) {
              fake.script = {
                item: (id) => (rejectedIds.includes(id) ? 'rejected' : itemFates[items++ % itemFates.length]!),
                batch: () => batchFates[batches++ % batchFates.length]!,
              };
            }
            const rt = h.runtime({ adapters: [fake], tuning: { clock: () => new Date(now), staleAfterMs: 0 } });
            const dies = new AbortController();
            h.source.set(rows);
            const hung = new Promise<'hung'>((resolve) => (fake.onHang = () => resolve('hung')));
            const outcome = await Promise.race([runSync(rt, { allowDeletes: true, signal: dies.signal }), hung]);
            if (outcome === 'hung') {
              // The process dies: it starts nothing more, and the writes it had queued land (or would
              // have been lost) before the next process starts; they must not overlap that process.
              dies.abort();
              for (let round = 0; round < 3; round++) {
                for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
                await rt.state.commit(async () => {});
              }
            }
            now += 2 * 60 * 60_000; // past any backoff
          };
          try {
            for (const rows of [first, first, second, second]) {
              await runOnce(rows, true);
              await expectBaselineHeld(h, remote);
            }
            for (let i = 0; i < 3; i++) await runOnce(second, false);
            await expectBaselineHeld(h, remote);
            expect(await h.store.db.selectFrom('cs_outbox').selectAll().execute()).toEqual([]);
            // Converged: every winner is delivered except dead letters, which wait for a change; the
            // provider holds nothing the baseline does not know; the baseline knows only source contacts.
            const dead = new Set((await h.store.db.selectFrom('cs_rejections').select('contact_id').where('dead', '=', 1).execute()).map((r) => r.contact_id));
            const baseline = await h.store.db.selectFrom('cs_baseline').selectAll().execute();
            const delivered = new Set(baseline.map((b) => b.contact_id));
            const desired = desiredRemote(new FakeProvider('alpha'), second.filter((r) => !dead.has(r.id)));
            for (const [phone, payload] of desired.remote) expect(remote.get(phone)).toEqual(payload);
            for (const id of desired.contacts) expect(delivered.has(id)).toBe(true);
            expect(sorted(remote)).toEqual(sorted(new Map(baseline.map((b) => [b.phone, JSON.parse(b.payload)]))));
            const inSource = new Set(second.map((r) => r.id));
            for (const id of delivered) expect(inSource.has(id)).toBe(true);
          } finally {
            await h.close();
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});
