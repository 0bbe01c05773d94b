/**
 * Settling a batch in the statement that moves the baseline (bulk.ts `deleting`): one statement on
 * PostgreSQL, two on SQLite; either way the batch's outbox rows go and nobody else's.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { OutboxRow } from '../../src/state/outbox.js';
import { type StateStore, openStateStore, tenantState } from '../../src/state/store.js';
import { type StoreHandle, stateBackends } from '../helpers/stores.js';

const journaled = (provider: string, id: string, batch: string): OutboxRow => ({
  provider,
  contact_id: id,
  batch_id: batch,
  run_id: 'r',
  op: 'upsert',
  source_key: 'k',
  hash: `h-${id}`,
  payload: '{}',
  previous: null,
  correlation_id: `c-${id}`,
  remote_id: null,
  created_at: '2024-01-01T00:00:00Z',
});

const delivered = (provider: string, id: string) => ({
  provider,
  contact_id: id,
  source_key: 'k',
  hash: `h-${id}`,
  payload: '{}',
  phone: `+1555${id}`,
  remote_id: null,
  delivered_at: '2024-01-01T00:00:00Z',
});

describe.each(stateBackends)('a batch settled by its baseline move ($name)', (backend) => {
  let handle: StoreHandle;
  let store: StateStore;
  afterEach(async () => {
    await store?.close();
    await handle?.cleanup();
  });

  it("removes that batch's outbox rows of that provider and tenant, and moves the baseline, in one call", async () => {
    handle = await backend.makeUrl();
    store = await openStateStore(handle.url);
    const t = tenantState(store.db, 't');
    const other = tenantState(store.db, 'u');
    await t.outbox.write([journaled('p', 'a', 'b1'), journaled('p', 'b', 'b1'), journaled('p', 'c', 'b2'), journaled('q', 'a', 'b1')]);
    await other.outbox.write([journaled('p', 'a', 'b1')]);

    await t.commit((tx) => tx.baseline.upsert([delivered('p', 'a'), delivered('p', 'b')], tx.outbox.settling('p', ['b1'])));

    const left = await store.db.selectFrom('cs_outbox').select(['tenant', 'provider', 'contact_id']).orderBy('tenant').orderBy('provider').orderBy('contact_id').execute();
    expect(left).toEqual([
      { tenant: 't', provider: 'p', contact_id: 'c' },
      { tenant: 't', provider: 'q', contact_id: 'a' },
      { tenant: 'u', provider: 'p', contact_id: 'a' },
    ]);
    expect([...(await t.baseline.byIds('p', ['a', 'b', 'c'])).keys()].sort()).toEqual(['a', 'b']);
  });

  it('with no rows to move, still removes the batch', async () => {
    handle = await backend.makeUrl();
    store = await openStateStore(handle.url);
    const t = tenantState(store.db, 't');
    await t.outbox.write([journaled('p', 'a', 'b1'), journaled('p', 'c', 'b2')]);
    await t.baseline.upsert([], t.outbox.settling('p', ['b1']));
    expect((await store.db.selectFrom('cs_outbox').select('contact_id').execute()).map((r) => r.contact_id)).toEqual(['c']);
  });

  it('settles delivered batches committed together, each batch\'s rows and nobody else\'s, the later batch winning a contact in both', async () => {
    handle = await backend.makeUrl();
    store = await openStateStore(handle.url);
    const t = tenantState(store.db, 't');
    await t.outbox.write([journaled('p', 'a', 'b1'), journaled('p', 'b', 'b2'), journaled('p', 'c', 'b3'), journaled('q', 'd', 'b1')]);
    // Queued in one turn: one group, in which p's two settles are one piece of work (group-commit.test.ts).
    await Promise.all([
      t.settleDelivered('p', 'b1', [delivered('p', 'a')]),
      t.settleDelivered('p', 'b2', [delivered('p', 'b'), { ...delivered('p', 'a'), hash: 'newer' }]),
      t.settleDelivered('q', 'b1', [delivered('q', 'd')]),
    ]);
    const left = await store.db.selectFrom('cs_outbox').select(['provider', 'contact_id']).execute();
    expect(left).toEqual([{ provider: 'p', contact_id: 'c' }]);
    const baseline = await t.baseline.byIds('p', ['a', 'b', 'c']);
    expect([...baseline.keys()].sort()).toEqual(['a', 'b']);
    expect(baseline.get('a')?.hash).toBe('newer');
    expect([...(await t.baseline.byIds('q', ['d'])).keys()]).toEqual(['d']);
  });
});
